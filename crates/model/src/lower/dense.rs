//! Lowering: [`Graph`] → a chain of dense layers ([`FloatMlp`]).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::smooth::scalar::ScalarFn;

pub use crate::lower::dense_layer::FloatDense;
use crate::lower::dense_layer::{add_bias, dense_from_weight};

/// A multi-layer perceptron: every layer but the last ends in ReLU; the last one yields logits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatMlp {
    /// Model name (the ONNX graph name).
    pub name: String,
    /// Input features.
    pub input_len: usize,
    /// The layers, first to last.
    pub layers: Vec<FloatDense>,
    /// True if the source graph ended in `Softmax`/`ArgMax` (dropped: argmax of logits = argmax of
    /// softmax).
    pub classifier: bool,
}

fn unsupported(node: &Node, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason: reason.into(),
    }
}

impl FloatMlp {
    /// Lowers a graph that is a chain `(Gemm | MatMul [+ Add]) → Relu → … → (Gemm | MatMul [+ Add])`,
    /// with `Identity`/`Dropout`/`Cast`/`Flatten`/`Reshape` anywhere and an optional trailing
    /// `Softmax`/`ArgMax` head (dropped and recorded as `classifier`).
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a branch, a hidden layer without ReLU, a ReLU on the output
    /// layer, or any other op; [`ModelError::ShapeMismatch`] for inconsistent widths.
    pub fn from_graph(graph: &Graph) -> Result<Self> {
        Self::from_graph_at(graph, 0, graph.input_len)
    }

    /// [`FloatMlp::from_graph`] for the chain that starts at value `start` (`width` features
    /// wide) instead of the graph input: the nodes before it are someone else's (a folded
    /// preprocessing prefix). The first layer then reads `width` inputs.
    ///
    /// # Errors
    /// As [`FloatMlp::from_graph`].
    pub(crate) fn from_graph_at(graph: &Graph, start: usize, width: usize) -> Result<Self> {
        graph.validate()?;
        let mut layers: Vec<FloatDense> = Vec::new();
        // A layer whose bias may still receive an `Add` and that has not been closed by ReLU.
        let mut open: Option<FloatDense> = None;
        let input_len = width;
        let mut width = width;
        let mut current = start; // value id of the chain
        let mut skip_to = start; // the end of a smooth activation's nodes (or of the prefix)
        for (k, node) in graph.nodes.iter().enumerate().take(graph.logits) {
            if k < skip_to {
                continue;
            }
            if let Some(layer) = open.as_mut() {
                if let Some((f, end)) = smooth_region(graph, k, current)? {
                    if end >= graph.logits {
                        return Err(unsupported(
                            node,
                            "an activation on the output layer (its outputs are the logits)",
                        ));
                    }
                    layer.smooth = Some(f);
                    layers.extend(open.take());
                    (current, skip_to) = (end, end);
                    continue;
                }
            }
            let mut consts: Vec<&Tensor> = Vec::new();
            let mut uses_current = 0;
            for op in &node.inputs {
                match *op {
                    Operand::Value(v) if v == current => uses_current += 1,
                    Operand::Value(_) => {
                        return Err(unsupported(node, "graph is not a single chain"))
                    }
                    Operand::Const(c) => consts.push(
                        graph
                            .constants
                            .get(c)
                            .ok_or_else(|| ModelError::InvalidGraph("dangling constant".into()))?,
                    ),
                }
            }
            if uses_current != 1 {
                return Err(unsupported(node, "graph is not a single chain"));
            }
            match &node.op {
                Op::Identity | Op::Flatten { .. } | Op::Reshape { .. } => {}
                Op::Gemm {
                    alpha,
                    beta,
                    trans_a,
                    trans_b,
                } => {
                    if *trans_a || node.inputs.first() != Some(&Operand::Value(current)) {
                        return Err(unsupported(
                            node,
                            "only Gemm(x, W, b) with the activation as A and transA = 0",
                        ));
                    }
                    close_without_relu(&open, node)?;
                    let w = consts
                        .first()
                        .ok_or_else(|| unsupported(node, "constant B expected"))?;
                    let mut layer = dense_from_weight(node, w, *trans_b, width, *alpha)?;
                    if let Some(c) = consts.get(1) {
                        add_bias(node, &mut layer, c, *beta)?;
                    }
                    width = layer.n_out;
                    open = Some(layer);
                }
                Op::MatMul => {
                    if node.inputs.first() != Some(&Operand::Value(current)) {
                        return Err(unsupported(node, "only MatMul(x, W) with a constant W"));
                    }
                    close_without_relu(&open, node)?;
                    let w = consts
                        .first()
                        .ok_or_else(|| unsupported(node, "constant W expected"))?;
                    let layer = dense_from_weight(node, w, false, width, 1.0)?;
                    width = layer.n_out;
                    open = Some(layer);
                }
                Op::Add => {
                    let layer = open
                        .as_mut()
                        .ok_or_else(|| unsupported(node, "Add that is not a layer bias"))?;
                    let c = consts
                        .first()
                        .ok_or_else(|| unsupported(node, "constant addend expected"))?;
                    add_bias(node, layer, c, 1.0)?;
                }
                Op::Relu => match open.take() {
                    Some(mut layer) => {
                        layer.relu = true;
                        layers.push(layer);
                    }
                    None if layers.last().is_some_and(|l| l.relu) => {} // ReLU(ReLU(x)) = ReLU(x)
                    None => {
                        return Err(unsupported(node, "ReLU that does not follow a dense layer"))
                    }
                },
                Op::Softmax { .. } | Op::ArgMax { .. } => {
                    return Err(unsupported(
                        node,
                        "Softmax/ArgMax is only supported as the final head",
                    ))
                }
                Op::TreeEnsemble(_)
                | Op::Linear(_)
                | Op::Svm(_)
                | Op::Normalizer { .. }
                | Op::Scaler { .. } => {
                    return Err(unsupported(
                        node,
                        "a classic ONNX-ML op is not a dense layer: use the classic-model path",
                    ))
                }
                Op::Unary(_) => {
                    return Err(unsupported(
                        node,
                        "an activation that does not follow a dense layer",
                    ))
                }
                Op::Sub
                | Op::Mul
                | Op::Div
                | Op::SelectFeatures { .. }
                | Op::Concat { .. } => {
                    return Err(unsupported(
                        node,
                        "preprocessing arithmetic is folded only in front of a linear model or an \
                         SVM, not in front of a neural network yet",
                    ))
                }
                Op::Conv { .. }
                | Op::MaxPool { .. }
                | Op::AveragePool { .. }
                | Op::GlobalAveragePool
                | Op::BatchNorm { .. }
                | Op::Clip { .. }
                | Op::LeakyRelu { .. } => {
                    return Err(unsupported(
                        node,
                        "convolutional-model ops are not lowered to dense layers (float execution only for now)",
                    ))
                }
            }
            current = k + 1;
        }
        let last = match open {
            Some(layer) => layer,
            None if layers.is_empty() => {
                return Err(ModelError::InvalidGraph("graph has no dense layer".into()))
            }
            None => {
                return Err(ModelError::Unsupported {
                    op: "Relu".into(),
                    node: "(output layer)".into(),
                    reason:
                        "the last dense layer must not end in ReLU (its outputs are the logits)"
                            .into(),
                })
            }
        };
        let mut last = last;
        if graph.binary_head && last.n_out == 1 {
            // a binary sigmoid head: the decision vector [0, v]
            last.weights = vec![0.0; last.n_in]
                .into_iter()
                .chain(last.weights)
                .collect();
            last.bias.insert(0, 0.0);
            last.n_out = 2;
        }
        layers.push(last);
        let mlp = Self {
            name: graph.name.clone(),
            input_len,
            layers,
            classifier: graph.classifier,
        };
        mlp.validate()?;
        Ok(mlp)
    }

    /// Checks widths, array lengths, finiteness and the ReLU pattern.
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`] or [`ModelError::NonFinite`].
    pub fn validate(&self) -> Result<()> {
        let mut width = self.input_len;
        let n = self.layers.len();
        if n == 0 {
            return Err(ModelError::InvalidModel("no layers".into()));
        }
        for (i, l) in self.layers.iter().enumerate() {
            let expect_w = l.n_in.checked_mul(l.n_out);
            if l.n_in != width
                || expect_w != Some(l.weights.len())
                || l.bias.len() != l.n_out
                || l.n_out == 0
            {
                return Err(ModelError::InvalidModel(format!(
                    "layer {i} has inconsistent sizes"
                )));
            }
            let activated = l.relu || l.smooth.is_some();
            if activated != (i + 1 < n) || (l.relu && l.smooth.is_some()) {
                return Err(ModelError::InvalidModel(format!(
                    "layer {i}: hidden layers must end in one activation and the last layer must not"
                )));
            }
            if l.cap.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
                return Err(ModelError::InvalidModel(format!(
                    "layer {i}: the ReLU cap must be finite and positive"
                )));
            }
            if l.weights.iter().chain(&l.bias).any(|v| !v.is_finite()) {
                return Err(ModelError::NonFinite {
                    context: format!("layer {i} parameters"),
                });
            }
            width = l.n_out;
        }
        Ok(())
    }

    /// Float forward pass of one sample; returns the logits.
    ///
    /// # Errors
    /// [`ModelError::InputLength`] for a wrong-length input.
    pub fn forward(&self, input: &[f32]) -> Result<Vec<f32>> {
        let mut acts = self.forward_layers(input)?;
        acts.pop()
            .ok_or_else(|| ModelError::InvalidModel("no layers".into()))
    }

    /// Float forward pass of one sample; returns each layer's output (after ReLU for hidden layers).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] for a wrong-length input.
    pub fn forward_layers(&self, input: &[f32]) -> Result<Vec<Vec<f32>>> {
        if input.len() != self.input_len {
            return Err(ModelError::InputLength {
                expected: self.input_len,
                got: input.len(),
            });
        }
        let mut outs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        let mut x: &[f32] = input;
        for l in &self.layers {
            let y = l.activate(l.affine(x)?)?;
            outs.push(y);
            x = outs.last().map(Vec::as_slice).unwrap_or(&[]);
        }
        Ok(outs)
    }
}

/// The smooth activation starting at node `k` (reading the open layer's output `current`),
/// if the node begins one: any elementwise run other than a lone `Relu`.
fn smooth_region(graph: &Graph, k: usize, current: usize) -> Result<Option<(ScalarFn, usize)>> {
    let starts = graph.nodes.get(k).is_some_and(|n| {
        matches!(
            n.op,
            Op::Unary(_)
                | Op::Mul
                | Op::Sub
                | Op::Div
                | Op::Relu
                | Op::Clip { .. }
                | Op::LeakyRelu { .. }
        )
    });
    if !starts {
        return Ok(None);
    }
    ScalarFn::region(graph, k, current)
}

fn close_without_relu(open: &Option<FloatDense>, node: &Node) -> Result<()> {
    if open.is_some() {
        return Err(unsupported(
            node,
            "a hidden dense layer must be followed by ReLU (two affine layers in a row are not supported yet)",
        ));
    }
    Ok(())
}
