//! The glassbox graph IR: a small, typed, topologically ordered graph of float ops.
//!
//! [`load_onnx`](crate::load_onnx) produces it; [`Graph::run_f32`] executes it as the float reference;
//! [`FloatMlp::from_graph`](crate::FloatMlp::from_graph) lowers it to dense layers.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::ir::linear::LinearModel;
use crate::ir::scores::Norm;
use crate::ir::svm::SvmModel;
use crate::ir::tree::TreeEnsemble;
use crate::ir::unary::Unary;

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
pub(crate) fn element_count(shape: &[usize]) -> Result<usize> {
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
    /// An ONNX-ML one-vs-one `SVMClassifier`: output `[1, n_classes]` = [`SvmModel::votes`] (the
    /// pairwise votes, whose first maximum is onnxruntime's label).
    Svm(Box<SvmModel>),
    /// An elementwise nonlinearity (`Sigmoid`, `Tanh`, `Gelu`, …).
    Unary(Unary),
    /// Elementwise `a − b` with broadcasting.
    Sub,
    /// Elementwise `a · b` with broadcasting.
    Mul,
    /// Elementwise `a / b` with broadcasting.
    Div,
    /// ONNX-ML `ArrayFeatureExtractor` with constant indices: the listed entries of the last axis.
    SelectFeatures {
        /// Indices into the last axis, in output order.
        indices: Vec<usize>,
    },
    /// Concatenation of the operands along `axis` (negative counts from the last).
    Concat {
        /// The axis.
        axis: i64,
    },
    /// 2-D convolution, NCHW, batch 1, `group = 1`, dilation 1 (see [`crate::conv::conv2d`]).
    /// Operands: `X [1, C, H, W]`, the constant kernel `W [M, C, kh, kw]` and an optional constant
    /// bias `B [M]`; output `[1, M, oh, ow]`. ONNX `auto_pad` is resolved to explicit `pads` at import.
    Conv {
        /// `[stride_h, stride_w]`, each ≥ 1.
        strides: [usize; 2],
        /// `[top, left, bottom, right]` (ONNX order).
        pads: [usize; 4],
    },
    /// 2-D max pooling of `X [1, C, H, W]` (`ceil_mode = 0`, dilation 1); padding never wins.
    MaxPool {
        /// `[kh, kw]`, each ≥ 1.
        kernel: [usize; 2],
        /// `[stride_h, stride_w]`, each ≥ 1.
        strides: [usize; 2],
        /// `[top, left, bottom, right]`, each smaller than the kernel along its axis.
        pads: [usize; 4],
    },
    /// 2-D average pooling of `X [1, C, H, W]` (`ceil_mode = 0`).
    AveragePool {
        /// `[kh, kw]`, each ≥ 1.
        kernel: [usize; 2],
        /// `[stride_h, stride_w]`, each ≥ 1.
        strides: [usize; 2],
        /// `[top, left, bottom, right]`, each smaller than the kernel along its axis.
        pads: [usize; 4],
        /// Divide by `kh * kw` (padding counts as zeros) instead of the number of in-bounds cells.
        count_include_pad: bool,
    },
    /// Mean over all spatial positions: `[1, C, H, W]` → `[1, C, 1, 1]`.
    GlobalAveragePool,
    /// Inference batch normalization over axis 1: operands `X [1, C, ...]` and the constants
    /// `scale`, `B`, `mean`, `var` (`C` values each); `y = (x - mean) / √(var + ε) · scale + B`.
    /// Only kept when it cannot be folded into the preceding `Conv`/`Gemm` at import.
    BatchNorm {
        /// ε, added to the variance.
        epsilon: f32,
    },
    /// `min(max(x, min), max)`; an absent bound does not clip.
    Clip {
        /// Lower bound.
        min: Option<f32>,
        /// Upper bound.
        max: Option<f32>,
    },
    /// `x` if `x >= 0`, else `alpha * x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
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
            Op::Svm(_) => "SVMClassifier",
            Op::Unary(u) => u.name(),
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::SelectFeatures { .. } => "ArrayFeatureExtractor",
            Op::Concat { .. } => "Concat",
            Op::Conv { .. } => "Conv",
            Op::MaxPool { .. } => "MaxPool",
            Op::AveragePool { .. } => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::BatchNorm { .. } => "BatchNormalization",
            Op::Clip { .. } => "Clip",
            Op::LeakyRelu { .. } => "LeakyRelu",
        }
    }
}

impl Op {
    /// Checks the parameters of a convolution-family op and its operand pattern: nonzero kernels
    /// and strides, pool pads smaller than the kernel, constant `Conv` weights/bias and
    /// `BatchNorm` parameters, finite `epsilon`/`alpha`/clip bounds. Other ops pass.
    ///
    /// # Errors
    /// A message describing the first problem.
    pub fn validate_params(&self, inputs: &[Operand]) -> std::result::Result<(), String> {
        let constant_tail = |from: usize, counts: &[usize]| {
            if !counts.contains(&inputs.len()) {
                return Err(format!(
                    "expected {counts:?} operands, got {}",
                    inputs.len()
                ));
            }
            match inputs
                .get(from..)
                .unwrap_or(&[])
                .iter()
                .all(|o| matches!(o, Operand::Const(_)))
            {
                true => Ok(()),
                false => Err("parameters must be constants".to_string()),
            }
        };
        let window = |kernel: &[usize; 2], strides: &[usize; 2], pads: &[usize; 4]| {
            if kernel.contains(&0) || strides.contains(&0) {
                return Err(format!(
                    "kernel {kernel:?} and strides {strides:?} must be nonzero"
                ));
            }
            if pads[0] >= kernel[0]
                || pads[2] >= kernel[0]
                || pads[1] >= kernel[1]
                || pads[3] >= kernel[1]
            {
                return Err(format!(
                    "pads {pads:?} must be smaller than the kernel {kernel:?}"
                ));
            }
            constant_tail(1, &[1])
        };
        let finite = |what: &str, v: f32| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{what} is not finite"))
            }
        };
        match self {
            Op::Conv { strides, .. } => {
                if strides.contains(&0) {
                    return Err(format!("strides {strides:?} must be nonzero"));
                }
                constant_tail(1, &[2, 3])
            }
            Op::MaxPool {
                kernel,
                strides,
                pads,
            }
            | Op::AveragePool {
                kernel,
                strides,
                pads,
                ..
            } => window(kernel, strides, pads),
            Op::BatchNorm { epsilon } => {
                finite("epsilon", *epsilon)?;
                constant_tail(1, &[5])
            }
            Op::Clip { min, max } => {
                finite("min", min.unwrap_or(0.0))?;
                finite("max", max.unwrap_or(0.0))
            }
            Op::LeakyRelu { alpha } => finite("alpha", *alpha),
            Op::Unary(u) if !u.is_valid() => Err("a non-finite parameter".into()),
            _ => Ok(()),
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
    /// True for a binary classifier's head `Concat(1 − σ(v), σ(v))` (scikit-learn's binary
    /// `MLPClassifier`): `logits` is then the one score `v`, and the decision vector is `[0, v]`
    /// (the label is 1 exactly when `v > 0`).
    #[serde(default)]
    pub binary_head: bool,
}

impl Graph {
    /// Checks the internal references of the graph (operand ids in range, nodes only reading earlier
    /// values, output ids valid), every classic model ([`TreeEnsemble::validate`],
    /// [`LinearModel::validate`]) and the parameters of convolution-family ops
    /// ([`Op::validate_params`]). Any DAG is accepted: a node may read any earlier value, so residual
    /// branches (`Add` of two runtime values) are fine.
    ///
    /// # Errors
    /// [`ModelError::InvalidGraph`] on a dangling or forward reference or an invalid classic model
    /// (the message names the op and node).
    pub fn validate(&self) -> Result<()> {
        for (k, node) in self.nodes.iter().enumerate() {
            let classic = match &node.op {
                Op::TreeEnsemble(t) => t.validate().map_err(|e| e.to_string()),
                Op::Linear(l) => l.validate().map_err(|e| e.to_string()),
                _ => node.op.validate_params(&node.inputs),
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
