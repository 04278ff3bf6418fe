//! The spatial op family: `Conv`, `MaxPool`/`AveragePool`, `GlobalAveragePool` and
//! `BatchNormalization` (folded into the producing `Conv`/`Gemm` when it alone reads its output).

use crate::error::{ModelError, Result};
use crate::exec::conv::{batch_norm_affine, same_pads};
use crate::exec::limits::MAX_TENSOR_ELEMENTS;
use crate::import::attrs::{
    attr, get_float, get_int, get_ints, get_string, has_input, invalid_attr, op_label,
    unsupported_op,
};
use crate::import::loader::{Importer, Parsed};
use crate::import::onnx::NodeProto;
use crate::ir::graph::{Op, Operand, Tensor};

/// The ops this family handles (see [`crate::import::registry`]).
pub(crate) const OPS: &[&str] = &[
    "Conv",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "BatchNormalization",
];

/// Parses a node whose op type is in [`OPS`].
pub(crate) fn parse<'a>(imp: &mut Importer<'a>, n: &'a NodeProto, name: &str) -> Result<Parsed> {
    let mut n_inputs = 1usize;
    let op = match n.op_type.as_str() {
        "Conv" => {
            n_inputs = if has_input(n, 2) { 3 } else { 2 };
            imp.import_conv(n, name)?
        }
        "MaxPool" | "AveragePool" => imp.import_pool(n, name)?,
        "GlobalAveragePool" => Op::GlobalAveragePool,
        "BatchNormalization" => {
            n_inputs = 5;
            let epsilon = imp.import_batch_norm(n, name)?;
            if imp.fold_batch_norm(n, name, epsilon)? {
                return Ok(Parsed::Absorbed);
            }
            Op::BatchNorm { epsilon }
        }
        _ => return Err(unsupported_op(n, name, "op not supported by glassbox")),
    };
    Ok(Parsed::Node {
        op,
        inputs: n_inputs,
    })
}

impl<'a> Importer<'a> {
    /// Explicit pads `[top, left, bottom, right]` from `pads`/`auto_pad`; SAME needs the input shape.
    pub(crate) fn resolve_pads(
        &mut self,
        n: &NodeProto,
        node: &str,
        kernel: [usize; 2],
        strides: [usize; 2],
    ) -> Result<[usize; 4]> {
        let explicit = dims_attr::<4>(n, node, "pads", [0; 4], 0)?;
        let auto = get_string(n, "auto_pad", b"NOTSET", node)?;
        let same_upper = match auto {
            b"NOTSET" | b"" => return Ok(explicit),
            b"VALID" => None,
            b"SAME_UPPER" => Some(true),
            b"SAME_LOWER" => Some(false),
            other => {
                return Err(unsupported_op(
                    n,
                    node,
                    format!("auto_pad `{}`", String::from_utf8_lossy(other)),
                ))
            }
        };
        if explicit != [0; 4] {
            return Err(invalid_attr(
                n,
                node,
                "explicit `pads` together with `auto_pad`",
            ));
        }
        let Some(upper) = same_upper else {
            return Ok([0; 4]);
        };
        let x_name = n.input.first().map(String::as_str).unwrap_or_default();
        let x = self.operand(x_name, node)?;
        let shape = self.operand_shape(x)?;
        let [_, _, h, w] = shape.as_slice() else {
            return Err(ModelError::ShapeMismatch {
                context: format!("{} node `{node}`", op_label(n)),
                expected: "an NCHW input [1, C, H, W]".into(),
                got: format!("{shape:?}"),
            });
        };
        let (Some((t, b)), Some((l, r))) = (
            same_pads(*h, kernel[0], strides[0], upper),
            same_pads(*w, kernel[1], strides[1], upper),
        ) else {
            return Err(invalid_attr(n, node, "SAME padding overflows"));
        };
        Ok([t, l, b, r])
    }

    pub(crate) fn import_conv(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
        let group = get_int(n, "group", 1, node)?;
        if group != 1 {
            return Err(unsupported_op(
                n,
                node,
                format!("group = {group}; only group = 1 (no grouped or depthwise convolution)"),
            ));
        }
        require_unit_dilations(n, node)?;
        let w = self.const_input(n, 1, node, "the weight")?;
        let [_, _, kh, kw] = w.shape.as_slice() else {
            return Err(unsupported_op(
                n,
                node,
                format!(
                    "only 2-D convolutions (weight [M, C, kh, kw]), got weight shape {:?}",
                    w.shape
                ),
            ));
        };
        let kernel = [*kh, *kw];
        if has_input(n, 2) {
            self.const_input(n, 2, node, "the bias")?;
        }
        if attr(n, "kernel_shape").is_some()
            && dims_attr::<2>(n, node, "kernel_shape", kernel, 1)? != kernel
        {
            return Err(invalid_attr(
                n,
                node,
                &format!("kernel_shape differs from the weight's kernel {kernel:?}"),
            ));
        }
        let strides = dims_attr::<2>(n, node, "strides", [1, 1], 1)?;
        let pads = self.resolve_pads(n, node, kernel, strides)?;
        Ok(Op::Conv { strides, pads })
    }

    pub(crate) fn import_pool(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
        let max = n.op_type == "MaxPool";
        for (name, want) in [("ceil_mode", 0), ("storage_order", 0)] {
            let v = get_int(n, name, want, node)?;
            if v != want {
                return Err(unsupported_op(
                    n,
                    node,
                    format!("{name} = {v}; only {want} is supported"),
                ));
            }
        }
        require_unit_dilations(n, node)?;
        if n.output.get(1).is_some_and(|o| !o.is_empty()) {
            return Err(unsupported_op(n, node, "the Indices output"));
        }
        if attr(n, "kernel_shape").is_none() {
            return Err(invalid_attr(n, node, "missing kernel_shape"));
        }
        let kernel = dims_attr::<2>(n, node, "kernel_shape", [1, 1], 1)?;
        let strides = dims_attr::<2>(n, node, "strides", [1, 1], 1)?;
        let pads = self.resolve_pads(n, node, kernel, strides)?;
        Ok(if max {
            Op::MaxPool {
                kernel,
                strides,
                pads,
            }
        } else {
            Op::AveragePool {
                kernel,
                strides,
                pads,
                count_include_pad: get_int(n, "count_include_pad", 0, node)? != 0,
            }
        })
    }

    /// Checks an inference-mode `BatchNormalization` and returns its epsilon.
    pub(crate) fn import_batch_norm(&mut self, n: &NodeProto, node: &str) -> Result<f32> {
        if get_int(n, "training_mode", 0, node)? != 0 {
            return Err(unsupported_op(n, node, "training_mode = 1"));
        }
        if self.opset < 9 && get_int(n, "spatial", 1, node)? == 0 {
            return Err(unsupported_op(n, node, "spatial = 0"));
        }
        if n.output.iter().skip(1).any(|o| !o.is_empty()) {
            return Err(unsupported_op(n, node, "the training-mode outputs"));
        }
        for (k, what) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
            self.const_input(n, k, node, what)?;
        }
        get_float(n, "epsilon", 1e-5, node)
    }

    /// Folds `BatchNormalization` into the `Conv`/`Gemm` that produces its input when that output has
    /// no other reader: new weights `w·s` and bias `(b − mean)·s + β` with `s = γ/√(var + ε)`, per
    /// output channel. Returns false (and changes nothing) when the pattern does not apply.
    pub(crate) fn fold_batch_norm(
        &mut self,
        n: &'a NodeProto,
        node: &str,
        epsilon: f32,
    ) -> Result<bool> {
        let (Some(x_name), Some(out)) = (n.input.first(), n.output.first()) else {
            return Ok(false);
        };
        let Some(&Operand::Value(v)) = self.env.get(x_name.as_str()) else {
            return Ok(false);
        };
        if self.uses.get(x_name.as_str()) != Some(&1) {
            return Ok(false);
        }
        let Some(k) = v.checked_sub(1) else {
            return Ok(false);
        };
        let mut params = Vec::with_capacity(4);
        for (i, what) in [(1, "scale"), (2, "B"), (3, "mean"), (4, "var")] {
            params.push(self.const_input(n, i, node, what)?);
        }
        let [gamma, beta, mean, var] = params.as_slice() else {
            return Ok(false);
        };
        let Some(prev) = self.nodes.get(k) else {
            return Ok(false);
        };
        let op_type = op_label(n);
        let folded = match (&prev.op, prev.inputs.as_slice()) {
            (Op::Conv { .. }, [x, Operand::Const(w), rest @ ..]) => {
                let Some(w) = self.constants.get(*w) else {
                    return Ok(false);
                };
                let m = w.shape.first().copied().unwrap_or(0);
                let affine =
                    batch_norm_affine(&op_type, node, m, [gamma, beta, mean, var], epsilon)?;
                let bias = match rest {
                    [] => vec![0.0; m],
                    [Operand::Const(b)] => match self.constants.get(*b) {
                        Some(b) if b.len() == m => b.data.clone(),
                        _ => return Ok(false),
                    },
                    _ => return Ok(false),
                };
                let per = w.len() / m.max(1);
                let new_w: Vec<f32> = w
                    .data
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        let s = affine.get(i / per.max(1)).map_or(1.0, |a| a.0);
                        (f64::from(x) * s) as f32
                    })
                    .collect();
                let new_b: Vec<f32> = bias
                    .iter()
                    .zip(&affine)
                    .map(|(&b, (s, shift))| (f64::from(b) * s + shift) as f32)
                    .collect();
                let w_shape = w.shape.clone();
                (*x, prev.op.clone(), Tensor::new(w_shape, new_w)?, new_b)
            }
            (
                Op::Gemm {
                    alpha,
                    beta: c_scale,
                    trans_a,
                    trans_b,
                },
                [a, Operand::Const(b), rest @ ..],
            ) => {
                let Some(b) = self.constants.get(*b) else {
                    return Ok(false);
                };
                let [r, c] = b.shape.as_slice() else {
                    return Ok(false);
                };
                let (k_in, n_out) = if *trans_b { (*c, *r) } else { (*r, *c) };
                let affine =
                    batch_norm_affine(&op_type, node, n_out, [gamma, beta, mean, var], epsilon)?;
                let c_vals = match rest {
                    [] => vec![0.0; n_out],
                    [Operand::Const(ci)] => match self.constants.get(*ci) {
                        Some(t)
                            if matches!(t.shape.as_slice(), [] | [_] | [1, _])
                                && (t.len() == n_out || t.len() == 1) =>
                        {
                            (0..n_out)
                                .map(|j| t.data.get(j).or(t.data.first()).copied().unwrap_or(0.0))
                                .map(|v| v * c_scale)
                                .collect()
                        }
                        _ => return Ok(false),
                    },
                    _ => return Ok(false),
                };
                let new_b: Vec<f32> = b
                    .data
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| {
                        let col = if *trans_b {
                            i / k_in.max(1)
                        } else {
                            i % n_out.max(1)
                        };
                        let s = affine.get(col).map_or(1.0, |a| a.0);
                        (f64::from(x) * s) as f32
                    })
                    .collect();
                let new_c: Vec<f32> = c_vals
                    .iter()
                    .zip(&affine)
                    .map(|(&c, (s, shift))| (f64::from(c) * s + shift) as f32)
                    .collect();
                let op = Op::Gemm {
                    alpha: *alpha,
                    beta: 1.0,
                    trans_a: *trans_a,
                    trans_b: *trans_b,
                };
                (*a, op, Tensor::new(b.shape.clone(), new_b)?, new_c)
            }
            _ => return Ok(false),
        };
        let (x, op, weight, bias) = folded;
        if weight.data.iter().chain(&bias).any(|v| !v.is_finite()) {
            return Ok(false);
        }
        let bias = Tensor::new(vec![bias.len()], bias)?;
        self.constants.push(weight);
        let w_id = self.constants.len() - 1;
        self.constants.push(bias);
        let b_id = self.constants.len() - 1;
        if let Some(prev) = self.nodes.get_mut(k) {
            prev.op = op;
            prev.inputs = vec![x, Operand::Const(w_id), Operand::Const(b_id)];
        }
        self.env.insert(out.clone(), Operand::Value(v));
        Ok(true)
    }
}

/// A spatial INTS attribute with exactly `N` values, each at least `min` (`default` if absent).
/// Another length is `Unsupported` for kernels/strides (1-D or 3-D) and invalid for pads.
fn dims_attr<const N: usize>(
    n: &NodeProto,
    node: &str,
    name: &str,
    default: [usize; N],
    min: usize,
) -> Result<[usize; N]> {
    if attr(n, name).is_none() {
        return Ok(default);
    }
    let v = get_ints(n, name, node)?;
    if v.len() != N {
        let msg = format!("`{name}` has {} values, expected {N} (2-D): {v:?}", v.len());
        return Err(if name == "pads" {
            invalid_attr(n, node, &msg)
        } else {
            unsupported_op(n, node, msg)
        });
    }
    let mut out = [0usize; N];
    for (o, &x) in out.iter_mut().zip(v) {
        *o = usize::try_from(x)
            .ok()
            .filter(|&u| u >= min && u <= MAX_TENSOR_ELEMENTS)
            .ok_or_else(|| {
                invalid_attr(
                    n,
                    node,
                    &format!("`{name}` value {x} out of range ({min}..={MAX_TENSOR_ELEMENTS})"),
                )
            })?;
    }
    Ok(out)
}

/// Convolutions and pools are supported with dilation 1 only.
fn require_unit_dilations(n: &NodeProto, node: &str) -> Result<()> {
    let dilations = get_ints(n, "dilations", node)?;
    if dilations.iter().any(|&d| d != 1) {
        return Err(unsupported_op(
            n,
            node,
            format!("dilations {dilations:?}; only 1 is supported"),
        ));
    }
    Ok(())
}
