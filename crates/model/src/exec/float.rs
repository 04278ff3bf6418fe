//! The float reference executor for [`Graph`] and the op kernels shared with constant folding.
//!
//! Products are accumulated in `f64` and rounded to `f32` once per output, so results differ from
//! onnxruntime's `f32` GEMM only by a few ulps.

use crate::error::{ModelError, Result};
use crate::exec::conv::{self, PoolKind};
use crate::exec::features::{self, Binary};
use crate::exec::kernels::{arg, gemm, matmul, mismatch, norm_axis, reshape_target, unsupported};
use crate::ir::graph::{element_count, Graph, Op, Operand, Tensor};

impl Graph {
    /// Runs one sample through the graph and returns the **logits**: the main output with a trailing
    /// `Softmax`/`ArgMax` head left out (for a graph without such a head, the main output itself).
    ///
    /// `input` is the flattened sample (`input_len` features, batch of 1).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] or [`ModelError::NonFinite`] for a bad input; shape errors from the
    /// kernels; [`ModelError::NonFinite`] if the result overflows to infinity.
    pub fn run_f32(&self, input: &[f32]) -> Result<Vec<f32>> {
        let logits = self.run_until(input, self.logits)?;
        if self.binary_head {
            // the decision vector of a binary sigmoid head: [0, v]
            return Ok([0.0].into_iter().chain(logits).collect());
        }
        Ok(logits)
    }

    /// Runs one sample and returns the graph's **main output exactly as onnxruntime would**: the
    /// probabilities for a graph that ends in `Softmax` (e.g. skl2onnx's `probabilities` output), the
    /// logits for a graph that ends in a `Gemm`.
    ///
    /// # Errors
    /// As [`Graph::run_f32`].
    pub fn run_f32_output(&self, input: &[f32]) -> Result<Vec<f32>> {
        self.run_until(input, self.output)
    }

    /// Runs one sample up to value `target` (`0` is the input, `v` the output of node `v − 1`)
    /// and returns that value, flattened.
    ///
    /// # Errors
    /// As [`Graph::run_f32`].
    pub(crate) fn run_value(&self, input: &[f32], target: usize) -> Result<Vec<f32>> {
        self.run_until(input, target)
    }

    fn run_until(&self, input: &[f32], target: usize) -> Result<Vec<f32>> {
        if input.len() != self.input_len {
            return Err(ModelError::InputLength {
                expected: self.input_len,
                got: input.len(),
            });
        }
        if input.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "input sample".into(),
            });
        }
        let mut values: Vec<Tensor> = Vec::with_capacity(target.saturating_add(1));
        values.push(Tensor::new(self.input_shape.clone(), input.to_vec())?);
        for node in self.nodes.iter().take(target) {
            let mut args = Vec::with_capacity(node.inputs.len());
            for operand in &node.inputs {
                let t = match *operand {
                    Operand::Value(v) => values.get(v),
                    Operand::Const(c) => self.constants.get(c),
                };
                args.push(t.ok_or_else(|| {
                    ModelError::InvalidGraph(format!(
                        "node `{}` reads an undefined value",
                        node.name
                    ))
                })?);
            }
            let out = eval(&node.name, &node.op_type, &node.op, &args)?;
            values.push(out);
        }
        let out = values
            .pop()
            .filter(|_| values.len() == target)
            .ok_or_else(|| ModelError::InvalidGraph("output value out of range".into()))?;
        if out.data.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "float graph output".into(),
            });
        }
        Ok(out.data)
    }
}

/// Evaluates one op on concrete tensors.
pub(crate) fn eval(node: &str, op_type: &str, op: &Op, args: &[&Tensor]) -> Result<Tensor> {
    match op {
        Op::Identity => Ok(arg(node, args, 0)?.clone()),
        Op::Relu => {
            let x = arg(node, args, 0)?;
            Ok(Tensor {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| v.max(0.0)).collect(),
            })
        }
        Op::Add => features::binary(node, args, Binary::Add),
        Op::Sub => features::binary(node, args, Binary::Sub),
        Op::Mul => features::binary(node, args, Binary::Mul),
        Op::Div => features::binary(node, args, Binary::Div),
        Op::SelectFeatures { indices } => features::select(node, args, indices),
        Op::Concat { axis } => features::concat(node, args, *axis),
        Op::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => gemm(node, args, *alpha, *beta, *trans_a, *trans_b),
        Op::MatMul => matmul(node, op_type, args),
        Op::Flatten { axis } => {
            let x = arg(node, args, 0)?;
            let a = norm_axis(node, *axis, x.shape.len(), 1)?;
            let (head, tail) = x.shape.split_at(a.min(x.shape.len()));
            let shape = vec![element_count(head)?, element_count(tail)?];
            Ok(Tensor {
                shape,
                data: x.data.clone(),
            })
        }
        Op::Reshape { shape, allow_zero } => {
            let x = arg(node, args, 0)?;
            let target = reshape_target(node, &x.shape, shape, *allow_zero, x.len())?;
            Tensor::new(target, x.data.clone())
        }
        Op::Softmax { axis, coerce_2d } => {
            let x = arg(node, args, 0)?;
            let a = norm_axis(node, *axis, x.shape.len(), 0)?;
            let block = if *coerce_2d {
                element_count(x.shape.get(a..).unwrap_or(&[]))?
            } else {
                let after = element_count(x.shape.get(a + 1..).unwrap_or(&[]))?;
                if after != 1 {
                    return Err(unsupported(
                        node,
                        op_type,
                        "softmax over a non-trailing axis",
                    ));
                }
                x.shape.get(a).copied().unwrap_or(1)
            };
            let mut data = Vec::with_capacity(x.len());
            for chunk in x.data.chunks(block.max(1)) {
                let m = chunk
                    .iter()
                    .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
                let exps: Vec<f64> = chunk.iter().map(|&v| (f64::from(v) - m).exp()).collect();
                let sum: f64 = exps.iter().sum();
                data.extend(exps.iter().map(|e| (e / sum) as f32));
            }
            Ok(Tensor {
                shape: x.shape.clone(),
                data,
            })
        }
        Op::ArgMax {
            axis,
            keepdims,
            select_last_index,
        } => {
            let x = arg(node, args, 0)?;
            let a = norm_axis(node, *axis, x.shape.len(), 0)?;
            let after = element_count(x.shape.get(a + 1..).unwrap_or(&[]))?;
            if after != 1 {
                return Err(unsupported(
                    node,
                    op_type,
                    "argmax over a non-trailing axis",
                ));
            }
            let n = x.shape.get(a).copied().unwrap_or(1);
            if n == 0 {
                return Err(mismatch(node, "a non-empty axis", "size 0"));
            }
            let data = x
                .data
                .chunks(n)
                .map(|c| argmax(c, *select_last_index) as f32)
                .collect();
            let mut shape = x.shape.clone();
            if *keepdims {
                if let Some(d) = shape.get_mut(a) {
                    *d = 1;
                }
            } else if a < shape.len() {
                shape.remove(a);
            }
            Tensor::new(shape, data)
        }
        Op::TreeEnsemble(t) => {
            let x = classic_input(node, args, t.n_features)?;
            Ok(row_output(t.outputs(x)))
        }
        Op::Linear(l) => {
            let x = classic_input(node, args, l.n_features)?;
            Ok(row_output(l.outputs(x)))
        }
        Op::Svm(m) => {
            let x = classic_input(node, args, m.n_features)?;
            Ok(row_output(m.outputs(x).iter().map(|&v| v as f32).collect()))
        }
        Op::Normalizer { norm } => {
            let x = arg(node, args, 0)?;
            let width = x.shape.last().copied().unwrap_or(1).max(1);
            let mut data = Vec::with_capacity(x.len());
            for row in x.data.chunks(width) {
                data.extend(norm.apply(row));
            }
            Ok(Tensor {
                shape: x.shape.clone(),
                data,
            })
        }
        Op::Conv { strides, pads } => {
            let bias = args.get(2).copied();
            conv::conv2d(
                op_type,
                node,
                arg(node, args, 0)?,
                arg(node, args, 1)?,
                bias,
                *strides,
                *pads,
            )
        }
        Op::MaxPool {
            kernel,
            strides,
            pads,
        } => conv::pool2d(
            op_type,
            node,
            arg(node, args, 0)?,
            PoolKind::Max,
            *kernel,
            *strides,
            *pads,
        ),
        Op::AveragePool {
            kernel,
            strides,
            pads,
            count_include_pad,
        } => conv::pool2d(
            op_type,
            node,
            arg(node, args, 0)?,
            PoolKind::Average {
                count_include_pad: *count_include_pad,
            },
            *kernel,
            *strides,
            *pads,
        ),
        Op::GlobalAveragePool => conv::global_average_pool(op_type, node, arg(node, args, 0)?),
        Op::BatchNorm { epsilon } => {
            let params = [
                arg(node, args, 1)?,
                arg(node, args, 2)?,
                arg(node, args, 3)?,
                arg(node, args, 4)?,
            ];
            conv::batch_norm(op_type, node, arg(node, args, 0)?, params, *epsilon)
        }
        Op::Clip { min, max } => {
            let x = arg(node, args, 0)?;
            let lo = min.unwrap_or(f32::NEG_INFINITY);
            let hi = max.unwrap_or(f32::INFINITY);
            Ok(Tensor {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| v.max(lo).min(hi)).collect(),
            })
        }
        Op::Unary(u) => {
            let x = arg(node, args, 0)?;
            Ok(Tensor {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| u.apply(v)).collect(),
            })
        }
        Op::LeakyRelu { alpha } => {
            let x = arg(node, args, 0)?;
            Ok(Tensor {
                shape: x.shape.clone(),
                data: x
                    .data
                    .iter()
                    .map(|&v| if v >= 0.0 { v } else { alpha * v })
                    .collect(),
            })
        }
        Op::Scaler { offset, scale } => {
            let x = arg(node, args, 0)?;
            let width = x.shape.last().copied().unwrap_or(1).max(1);
            for (what, v) in [("offset", offset), ("scale", scale)] {
                if v.len() != 1 && v.len() != width {
                    return Err(mismatch(
                        node,
                        format!("{what} of length 1 or {width}"),
                        format!("length {}", v.len()),
                    ));
                }
            }
            let at = |v: &[f32], j: usize| v.get(j).or(v.first()).copied().unwrap_or(0.0);
            let data = x
                .data
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let j = i % width;
                    (v - at(offset, j)) * at(scale, j)
                })
                .collect();
            Ok(Tensor {
                shape: x.shape.clone(),
                data,
            })
        }
    }
}

/// The flattened single sample a classic model reads (`[1, n]` or `[n]`).
fn classic_input<'a>(node: &str, args: &[&'a Tensor], n_features: usize) -> Result<&'a [f32]> {
    let x = arg(node, args, 0)?;
    let batch = if x.shape.len() >= 2 {
        x.shape.first().copied().unwrap_or(1)
    } else {
        1
    };
    if batch != 1 || x.len() != n_features {
        return Err(mismatch(
            node,
            format!("one sample of {n_features} features"),
            format!("shape {:?}", x.shape),
        ));
    }
    Ok(&x.data)
}

fn row_output(data: Vec<f32>) -> Tensor {
    Tensor {
        shape: vec![1, data.len()],
        data,
    }
}

/// Index of the first (or last) maximum; `0` for an empty slice.
pub(crate) fn argmax(values: &[f32], last: bool) -> usize {
    let mut best = 0usize;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &v) in values.iter().enumerate() {
        if v > best_v || (last && v == best_v) || i == 0 {
            best = i;
            best_v = v;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], data: &[f32]) -> Tensor {
        Tensor::new(shape.to_vec(), data.to_vec()).unwrap()
    }

    #[test]
    fn gemm_trans_b_and_bias_broadcast() {
        let a = t(&[1, 2], &[1.0, 2.0]);
        let b = t(&[3, 2], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        let c = t(&[3], &[0.5, 0.5, 0.5]);
        let op = Op::Gemm {
            alpha: 1.0,
            beta: 2.0,
            trans_a: false,
            trans_b: true,
        };
        let y = eval("g", "Gemm", &op, &[&a, &b, &c]).unwrap();
        assert_eq!(y.shape, vec![1, 3]);
        assert_eq!(y.data, vec![2.0, 3.0, 4.0]);
    }

    #[test]
    fn add_broadcasts_and_rejects_bad_shapes() {
        let a = t(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let b = t(&[1, 2], &[10.0, 20.0]);
        let y = eval("a", "Add", &Op::Add, &[&a, &b]).unwrap();
        assert_eq!(y.data, vec![11.0, 22.0, 13.0, 24.0]);
        let c = t(&[3], &[1.0, 2.0, 3.0]);
        assert!(matches!(
            eval("a", "Add", &Op::Add, &[&a, &c]),
            Err(ModelError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn softmax_argmax_reshape() {
        let x = t(&[1, 3], &[1.0, 3.0, 2.0]);
        let s = eval(
            "s",
            "Softmax",
            &Op::Softmax {
                axis: -1,
                coerce_2d: false,
            },
            &[&x],
        )
        .unwrap();
        assert!((s.data.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let op = Op::ArgMax {
            axis: 1,
            keepdims: true,
            select_last_index: false,
        };
        let a = eval("a", "ArgMax", &op, &[&s]).unwrap();
        assert_eq!((a.shape, a.data), (vec![1, 1], vec![1.0]));
        let r = eval(
            "r",
            "Reshape",
            &Op::Reshape {
                shape: vec![0, -1],
                allow_zero: false,
            },
            &[&x],
        )
        .unwrap();
        assert_eq!(r.shape, vec![1, 3]);
        let bad = eval(
            "r",
            "Reshape",
            &Op::Reshape {
                shape: vec![2, -1],
                allow_zero: false,
            },
            &[&x],
        );
        assert!(matches!(bad, Err(ModelError::ShapeMismatch { .. })));
    }
}
