//! The glassbox graph IR: a small, typed, topologically ordered graph of float ops.
//!
//! [`load_onnx`](crate::load_onnx) produces it; [`Graph::run_f32`] executes it as the float reference;
//! [`FloatMlp::from_graph`](crate::FloatMlp::from_graph) lowers it to dense layers.

use serde::{Deserialize, Serialize};

use crate::classic::{LinearModel, Norm, TreeEnsemble};
use crate::error::{ModelError, Result};

/// A dense float tensor in row-major order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    /// Dimensions (empty for a scalar).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// Builds a tensor, checking that `data` has `shape.iter().product()` elements.
    ///
    /// # Errors
    /// [`ModelError::ShapeMismatch`] if the element count does not match the shape.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let n = element_count(&shape)?;
        if n != data.len() {
            return Err(ModelError::ShapeMismatch {
                context: "tensor data".into(),
                expected: format!("{n} elements for shape {shape:?}"),
                got: format!("{} elements", data.len()),
            });
        }
        Ok(Self { shape, data })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True if the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Product of dimensions with overflow checking.
///
/// # Errors
/// [`ModelError::ArithmeticOverflow`] if the product does not fit `usize`.
pub fn element_count(shape: &[usize]) -> Result<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        acc.checked_mul(d)
            .ok_or_else(|| ModelError::ArithmeticOverflow {
                context: format!("element count of shape {shape:?}"),
            })
    })
}

/// Where a node reads an operand from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    /// A runtime value: `0` is the graph input, `k >= 1` is the output of `nodes[k - 1]`.
    Value(usize),
    /// A folded constant: index into [`Graph::constants`].
    Const(usize),
}

/// The operations of the IR (all on `f32`).
///
/// ONNX `Dropout` (inference) and `Cast` to float are imported as [`Op::Identity`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// `Y = alpha * op(A) * op(B) + beta * C` with `op` an optional transpose; `C` is optional.
    Gemm {
        /// Scale of the product.
        alpha: f32,
        /// Scale of `C`.
        beta: f32,
        /// Transpose `A` first.
        trans_a: bool,
        /// Transpose `B` first.
        trans_b: bool,
    },
    /// Matrix product of two rank-2 tensors (rank-1 operands are promoted as in numpy).
    MatMul,
    /// Element-wise sum with numpy broadcasting.
    Add,
    /// `max(x, 0)`.
    Relu,
    /// Reshape to `[prod(dims[..axis]), prod(dims[axis..])]`.
    Flatten {
        /// The split axis (negative counts from the end).
        axis: i64,
    },
    /// Reshape to a constant target shape (`0` copies a dimension unless `allow_zero`, `-1` is inferred).
    Reshape {
        /// The target shape as given in the model.
        shape: Vec<i64>,
        /// ONNX `allowzero`.
        allow_zero: bool,
    },
    /// Pass-through.
    Identity,
    /// Softmax along `axis`. With `coerce_2d` (opset < 13) the input is viewed as 2-D at `axis` and the
    /// softmax runs over the whole trailing block.
    Softmax {
        /// The axis (negative counts from the end).
        axis: i64,
        /// Opset < 13 semantics.
        coerce_2d: bool,
    },
    /// Index of the maximum along `axis` (returned as `f32`).
    ArgMax {
        /// The axis (negative counts from the end).
        axis: i64,
        /// Keep the reduced axis with size 1.
        keepdims: bool,
        /// Pick the last maximum instead of the first.
        select_last_index: bool,
    },
    /// An ONNX-ML `TreeEnsembleClassifier`/`TreeEnsembleRegressor`: input `[1, n_features]`, output
    /// `[1, k]` = [`TreeEnsemble::outputs`] (the classifier's probabilities; its int64 label output is
    /// [`TreeEnsemble::label`]).
    TreeEnsemble(Box<TreeEnsemble>),
    /// An ONNX-ML `LinearClassifier`/`LinearRegressor`: output `[1, k]` = [`LinearModel::outputs`].
    Linear(Box<LinearModel>),
    /// ONNX-ML `Normalizer`: each row divided by its norm (unchanged if the norm is zero).
    Normalizer {
        /// Which norm.
        norm: Norm,
    },
    /// ONNX-ML `Scaler`: `y = (x - offset) * scale` along the last axis; `offset`/`scale` of
    /// length 1 broadcast.
    Scaler {
        /// Subtracted first.
        offset: Vec<f32>,
        /// Then multiplied.
        scale: Vec<f32>,
    },
}

impl Op {
    /// Short name of the op, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Gemm { .. } => "Gemm",
            Op::MatMul => "MatMul",
            Op::Add => "Add",
            Op::Relu => "Relu",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Identity => "Identity",
            Op::Softmax { .. } => "Softmax",
            Op::ArgMax { .. } => "ArgMax",
            Op::TreeEnsemble(t) if t.classes.is_some() => "TreeEnsembleClassifier",
            Op::TreeEnsemble(_) => "TreeEnsembleRegressor",
            Op::Linear(l) if l.classes.is_some() => "LinearClassifier",
            Op::Linear(_) => "LinearRegressor",
            Op::Normalizer { .. } => "Normalizer",
            Op::Scaler { .. } => "Scaler",
        }
    }
}

/// One node of the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The ONNX node name (or `#index` if it had none).
    pub name: String,
    /// The ONNX op type it came from (e.g. `Dropout` for an [`Op::Identity`]).
    pub op_type: String,
    /// What it computes.
    pub op: Op,
    /// Its operands, in ONNX order.
    pub inputs: Vec<Operand>,
}

/// An imported model: one input, nodes in topological order, constants folded.
///
/// Only the nodes needed for the chosen output are kept (skl2onnx label plumbing such as `ArgMax` →
/// `ArrayFeatureExtractor` → `Cast`, and `ZipMap`, is stripped). The batch dimension is fixed to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// The ONNX graph name.
    pub name: String,
    /// The name of the graph input.
    pub input_name: String,
    /// Input shape with the batch dimension (if any) set to 1.
    pub input_shape: Vec<usize>,
    /// Flattened feature count (`input_shape.iter().product()`).
    pub input_len: usize,
    /// Folded constants referenced by [`Operand::Const`].
    pub constants: Vec<Tensor>,
    /// Nodes in topological order; node `k` produces value `k + 1`.
    pub nodes: Vec<Node>,
    /// The name of the ONNX output that was chosen as the main output.
    pub output_name: String,
    /// The value id of the main graph output (what onnxruntime returns for `output_name`).
    pub output: usize,
    /// The value id of the logits: the main output with a trailing `Softmax`/`ArgMax`/`Identity` head
    /// removed. Equal to `output` when there is no such head.
    pub logits: usize,
    /// True if a trailing `Softmax` or `ArgMax` was found (the model is a classifier).
    pub classifier: bool,
}

impl Graph {
    /// Checks the internal references of the graph (operand ids in range, nodes only reading earlier
    /// values, output ids valid) and every classic model ([`TreeEnsemble::validate`],
    /// [`LinearModel::validate`]).
    ///
    /// # Errors
    /// [`ModelError::InvalidGraph`] on a dangling or forward reference or an invalid classic model
    /// (the message names the op and node).
    pub fn validate(&self) -> Result<()> {
        for (k, node) in self.nodes.iter().enumerate() {
            let classic = match &node.op {
                Op::TreeEnsemble(t) => t.validate(),
                Op::Linear(l) => l.validate(),
                _ => Ok(()),
            };
            classic.map_err(|e| {
                ModelError::InvalidGraph(format!("{} node `{}`: {e}", node.op.name(), node.name))
            })?;
            for operand in &node.inputs {
                let ok = match *operand {
                    Operand::Value(v) => v <= k,
                    Operand::Const(c) => c < self.constants.len(),
                };
                if !ok {
                    return Err(ModelError::InvalidGraph(format!(
                        "node `{}` reads {operand:?}, which is not defined before it",
                        node.name
                    )));
                }
            }
        }
        if self.output > self.nodes.len() || self.logits > self.output {
            return Err(ModelError::InvalidGraph(
                "output or logits value out of range".into(),
            ));
        }
        Ok(())
    }
}
