//! The dense and elementwise op family: `Gemm`, `MatMul`, `Add`, activations, shape plumbing and
//! the classifier heads.

use crate::error::{ModelError, Result};
use crate::import::attrs::{
    attr, get_float, get_int, get_string, has_input, op_label, unsupported_op,
};
use crate::import::loader::{Importer, Parsed};
use crate::import::onnx::NodeProto;
use crate::ir::graph::Op;
use crate::ir::unary::Unary;

/// The ops this family handles (see [`crate::import::registry`]).
pub(crate) const OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "Identity",
    "Dropout",
    "Mul",
    "Sub",
    "Div",
    "Concat",
    "Cast",
    "Flatten",
    "Reshape",
    "Softmax",
    "ArgMax",
    "Clip",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Erf",
    "Exp",
    "Softplus",
    "Neg",
    "Gelu",
    "HardSigmoid",
    "HardSwish",
];

/// Parses a node whose op type is in [`OPS`].
pub(crate) fn parse<'a>(imp: &mut Importer<'a>, n: &'a NodeProto, name: &str) -> Result<Parsed> {
    let unsupported = |reason: &str| unsupported_op(n, name, reason);
    let mut n_inputs = 1usize;
    let op = match n.op_type.as_str() {
        "Gemm" => {
            n_inputs = if n.input.get(2).is_some_and(|s| !s.is_empty()) {
                3
            } else {
                2
            };
            Op::Gemm {
                alpha: get_float(n, "alpha", 1.0, name)?,
                beta: get_float(n, "beta", 1.0, name)?,
                trans_a: get_int(n, "transA", 0, name)? != 0,
                trans_b: get_int(n, "transB", 0, name)? != 0,
            }
        }
        "MatMul" => {
            n_inputs = 2;
            Op::MatMul
        }
        "Add" => {
            n_inputs = 2;
            Op::Add
        }
        "Relu" => Op::Relu,
        "Identity" | "Dropout" => Op::Identity,
        // onnxmltools ends LightGBM classifiers with `probabilities × 1`: a no-op
        "Mul"
            if imp
                .const_input(n, 1, name, "factor")
                .is_ok_and(|one| !one.data.is_empty() && one.data.iter().all(|&v| v == 1.0)) =>
        {
            Op::Identity
        }
        // preprocessing arithmetic (folded in front of linear models and SVMs)
        "Mul" | "Sub" | "Div" => {
            n_inputs = 2;
            match n.op_type.as_str() {
                "Mul" => Op::Mul,
                "Sub" => Op::Sub,
                _ => Op::Div,
            }
        }
        "Concat" => {
            n_inputs = n.input.len();
            Op::Concat {
                axis: get_int(n, "axis", 1, name)?,
            }
        }
        "Cast" => match get_int(n, "to", 0, name)? {
            1 => Op::Identity,
            t => {
                return Err(unsupported(&format!(
                    "cast to element type {t}; only float (1) is supported"
                )))
            }
        },
        "Flatten" => Op::Flatten {
            axis: get_int(n, "axis", 1, name)?,
        },
        "Reshape" => {
            let shape = match n.input.get(1).filter(|s| !s.is_empty()) {
                Some(s) => imp.const_i64(s, name)?,
                None => attr(n, "shape")
                    .map(|a| a.ints.clone())
                    .ok_or_else(|| unsupported("missing shape"))?,
            };
            Op::Reshape {
                shape,
                allow_zero: get_int(n, "allowzero", 0, name)? != 0,
            }
        }
        "Softmax" => Op::Softmax {
            axis: get_int(n, "axis", if imp.opset >= 13 { -1 } else { 1 }, name)?,
            coerce_2d: imp.opset < 13,
        },
        "ArgMax" => Op::ArgMax {
            axis: get_int(n, "axis", 0, name)?,
            keepdims: get_int(n, "keepdims", 1, name)? != 0,
            select_last_index: get_int(n, "select_last_index", 0, name)? != 0,
        },
        "Clip" => imp.import_clip(n, name)?,
        "LeakyRelu" => Op::LeakyRelu {
            alpha: get_float(n, "alpha", 0.01, name)?,
        },
        "Sigmoid" => Op::Unary(Unary::Sigmoid),
        "Tanh" => Op::Unary(Unary::Tanh),
        "Erf" => Op::Unary(Unary::Erf),
        "Exp" => Op::Unary(Unary::Exp),
        "Softplus" => Op::Unary(Unary::Softplus),
        "Neg" => Op::Unary(Unary::Neg),
        "HardSwish" => Op::Unary(Unary::HardSwish),
        "HardSigmoid" => Op::Unary(Unary::HardSigmoid {
            alpha: get_float(n, "alpha", 0.2, name)?,
            beta: get_float(n, "beta", 0.5, name)?,
        }),
        "Gelu" => match get_string(n, "approximate", b"none", name)? {
            b"none" => Op::Unary(Unary::Gelu { tanh: false }),
            b"tanh" => Op::Unary(Unary::Gelu { tanh: true }),
            other => {
                return Err(unsupported(&format!(
                    "approximate = `{}`",
                    String::from_utf8_lossy(other)
                )))
            }
        },
        _ => return Err(unsupported("op not supported by glassbox")),
    };
    Ok(Parsed::Node {
        op,
        inputs: n_inputs,
    })
}

impl<'a> Importer<'a> {
    pub(crate) fn import_clip(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
        if self.opset < 11 {
            let bound = |name: &str| -> Result<Option<f32>> {
                match attr(n, name) {
                    Some(_) => get_float(n, name, 0.0, node).map(Some),
                    None => Ok(None),
                }
            };
            return Ok(Op::Clip {
                min: bound("min")?,
                max: bound("max")?,
            });
        }
        let mut bounds = [None, None];
        for (k, slot) in bounds.iter_mut().enumerate() {
            if has_input(n, k + 1) {
                let what = if k == 0 { "min" } else { "max" };
                let t = self.const_input(n, k + 1, node, what)?;
                let [v] = t.data.as_slice() else {
                    return Err(ModelError::ShapeMismatch {
                        context: format!("{} node `{node}`", op_label(n)),
                        expected: format!("a scalar {what}"),
                        got: format!("{:?}", t.shape),
                    });
                };
                *slot = Some(*v);
            }
        }
        let [min, max] = bounds;
        Ok(Op::Clip { min, max })
    }
}
