//! The ONNX loader: protobuf bytes → [`Graph`].
//!
//! The importer decodes the model with limits, refuses cyclic graphs, keeps only the nodes that feed the
//! chosen output, folds every node whose inputs are all constants, and maps each remaining ONNX node to
//! an [`Op`]. Unsupported ops are an error naming the op type and the node.

use std::collections::{HashMap, VecDeque};

use prost::Message;

use crate::error::{ModelError, Result};
use crate::exec::limits::MAX_TENSOR_ELEMENTS;
use crate::import::attrs::node_name;
use crate::import::ml::ML_DOMAIN;
use crate::import::onnx::{data_type, GraphProto, ModelProto, TensorProto, ValueInfoProto};
use crate::ir::graph::{element_count, Graph, Node, Op, Operand, Tensor};
use crate::ir::unary::Unary;

/// Largest ONNX file accepted (256 MiB).
pub const MAX_MODEL_BYTES: usize = 256 << 20;
/// Largest node count accepted.
pub const MAX_NODES: usize = 10_000;

/// Parses ONNX protobuf bytes into a [`Graph`].
///
/// The main output is the score output of an `SVMClassifier` if the graph has one, else the first
/// graph output declared as a float tensor (for skl2onnx classifiers that is `probabilities`; the
/// int64 `label` plumbing is dropped), else the input of a `ZipMap` output, else the first output. This is the entry point to fuzz: it never panics on any input.
///
/// # Errors
/// [`ModelError::TooLarge`] beyond [`MAX_MODEL_BYTES`] or [`MAX_NODES`]; [`ModelError::BadProtobuf`];
/// [`ModelError::Cyclic`]; [`ModelError::Unsupported`] naming the op and node; [`ModelError::InvalidGraph`]
/// and [`ModelError::ShapeMismatch`] for malformed graphs; [`ModelError::NonFinite`] for NaN/inf weights.
pub fn load_onnx(bytes: &[u8]) -> Result<Graph> {
    if bytes.len() > MAX_MODEL_BYTES {
        return Err(ModelError::TooLarge {
            what: "ONNX file bytes",
            limit: MAX_MODEL_BYTES as u64,
            got: bytes.len() as u64,
        });
    }
    let model = ModelProto::decode(bytes).map_err(|e| ModelError::BadProtobuf(e.to_string()))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| ModelError::InvalidGraph("model has no graph".into()))?;
    if graph.node.len() > MAX_NODES {
        return Err(ModelError::TooLarge {
            what: "node count",
            limit: MAX_NODES as u64,
            got: graph.node.len() as u64,
        });
    }
    Importer::new(graph, opset)?.run()
}

/// What an op family's parser made of one node.
pub(crate) enum Parsed {
    /// A node to append: its op and how many of the ONNX inputs it reads.
    Node {
        /// The op.
        op: Op,
        /// Leading ONNX inputs that become operands.
        inputs: usize,
    },
    /// Nothing to append: the node was absorbed (a `Constant`, or a folded `BatchNormalization`).
    Absorbed,
}

pub(crate) struct Importer<'a> {
    pub(crate) graph: &'a GraphProto,
    pub(crate) opset: i64,
    /// Constant tensors by name: initializers and `Constant` node values.
    pub(crate) protos: HashMap<&'a str, &'a TensorProto>,
    /// Output name → producing node index.
    pub(crate) producer: HashMap<&'a str, usize>,
    pub(crate) env: HashMap<String, Operand>,
    pub(crate) constants: Vec<Tensor>,
    pub(crate) nodes: Vec<Node>,
    /// Flattened feature count of the graph input (the width classic models read).
    pub(crate) input_len: usize,
    /// The int64 `label` outputs of imported classifier nodes → the node name (not importable).
    pub(crate) label_outputs: HashMap<String, String>,
    /// How many kept nodes read each value name (plus one for the chosen output): a
    /// `BatchNormalization` is only folded into a producer whose output it alone reads.
    pub(crate) uses: HashMap<String, usize>,
    /// Shapes of the runtime values `0..shapes.len()` (memoized by [`Importer::value_shape`]).
    pub(crate) shapes: Vec<Vec<usize>>,
}

impl<'a> Importer<'a> {
    fn new(graph: &'a GraphProto, opset: i64) -> Result<Self> {
        let mut protos = HashMap::new();
        for t in &graph.initializer {
            if protos.insert(t.name.as_str(), t).is_some() {
                return Err(ModelError::InvalidGraph(format!(
                    "initializer `{}` defined twice",
                    t.name
                )));
            }
        }
        let mut producer = HashMap::new();
        for (i, n) in graph.node.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                if producer.insert(o.as_str(), i).is_some() || protos.contains_key(o.as_str()) {
                    return Err(ModelError::InvalidGraph(format!(
                        "value `{o}` defined twice"
                    )));
                }
            }
        }
        Ok(Self {
            graph,
            opset,
            protos,
            producer,
            env: HashMap::new(),
            constants: Vec::new(),
            nodes: Vec::new(),
            input_len: 0,
            label_outputs: HashMap::new(),
            uses: HashMap::new(),
            shapes: Vec::new(),
        })
    }

    /// Kahn's algorithm over the whole graph; refuses cycles.
    fn topo_order(&self) -> Result<Vec<usize>> {
        let n = self.graph.node.len();
        let mut indegree = vec![0usize; n];
        let mut consumers: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, node) in self.graph.node.iter().enumerate() {
            for input in &node.input {
                if let Some(&p) = self.producer.get(input.as_str()) {
                    if let (Some(d), Some(c)) = (indegree.get_mut(i), consumers.get_mut(p)) {
                        *d += 1;
                        c.push(i);
                    }
                }
            }
        }
        let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree.get(i) == Some(&0)).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = queue.pop_front() {
            order.push(i);
            for &c in consumers.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(d) = indegree.get_mut(c) {
                    *d -= 1;
                    if *d == 0 {
                        queue.push_back(c);
                    }
                }
            }
        }
        if order.len() < n {
            let stuck = indegree.iter().position(|&d| d > 0).unwrap_or(0);
            let name = self
                .graph
                .node
                .get(stuck)
                .map(|nd| node_name(stuck, nd))
                .unwrap_or_default();
            return Err(ModelError::Cyclic { node: name });
        }
        Ok(order)
    }

    fn choose_output(&self) -> Result<String> {
        let outs = &self.graph.output;
        let is_float = |o: &ValueInfoProto| {
            o.r#type
                .as_ref()
                .and_then(|t| t.tensor_type.as_ref())
                .is_some_and(|t| t.elem_type == data_type::FLOAT)
        };
        // an SVM classifier's scores: skl2onnx derives its `probabilities` from them with
        // arithmetic glassbox does not prove; the proven decision is the votes (see `Op::Svm`)
        let svm =
            self.graph.node.iter().find(|n| {
                n.op_type == "SVMClassifier" && n.domain == ML_DOMAIN && n.output.len() == 2
            });
        if let Some(scores) = svm.and_then(|n| n.output.get(1)) {
            return Ok(scores.clone());
        }
        if let Some(o) = outs.iter().find(|o| is_float(o)) {
            return Ok(o.name.clone());
        }
        for o in outs {
            let zipmap_input = self
                .producer
                .get(o.name.as_str())
                .and_then(|&p| self.graph.node.get(p))
                .filter(|n| n.op_type == "ZipMap" && n.domain == ML_DOMAIN)
                .and_then(|n| n.input.first());
            if let Some(i) = zipmap_input {
                return Ok(i.clone());
            }
        }
        outs.first()
            .map(|o| o.name.clone())
            .ok_or_else(|| ModelError::InvalidGraph("graph has no outputs".into()))
    }

    fn declare_input(&mut self) -> Result<(String, Vec<usize>)> {
        let real: Vec<&ValueInfoProto> = self
            .graph
            .input
            .iter()
            .filter(|i| !self.protos.contains_key(i.name.as_str()))
            .collect();
        let [input] = real.as_slice() else {
            let names: Vec<&str> = real.iter().map(|i| i.name.as_str()).collect();
            return Err(ModelError::InvalidGraph(format!(
                "expected exactly one graph input, got {}: {names:?}",
                real.len()
            )));
        };
        let tensor = input
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| {
                ModelError::InvalidGraph(format!("input `{}` is not a tensor", input.name))
            })?;
        if tensor.elem_type != data_type::FLOAT && tensor.elem_type != data_type::DOUBLE {
            return Err(ModelError::InvalidGraph(format!(
                "input `{}` has element type {}, expected float",
                input.name, tensor.elem_type
            )));
        }
        let dims = tensor
            .shape
            .as_ref()
            .map(|s| s.dim.as_slice())
            .ok_or_else(|| {
                ModelError::InvalidGraph(format!("input `{}` has no declared shape", input.name))
            })?;
        let mut shape = Vec::with_capacity(dims.len());
        for (k, d) in dims.iter().enumerate() {
            let batch_slot = k == 0 && dims.len() >= 2;
            let v = match d.dim_value {
                Some(v) if v > 0 && !(batch_slot && v != 1) => v as usize,
                _ if batch_slot => 1,
                other => {
                    return Err(ModelError::InvalidGraph(format!(
                        "input `{}` dimension {k} must be a fixed positive size (batch may be symbolic or 1), got {other:?}",
                        input.name
                    )))
                }
            };
            shape.push(v);
        }
        let n = element_count(&shape)?;
        if n == 0 || n > MAX_TENSOR_ELEMENTS {
            return Err(ModelError::InvalidGraph(format!(
                "input `{}` has {n} features",
                input.name
            )));
        }
        Ok((input.name.clone(), shape))
    }

    fn run(mut self) -> Result<Graph> {
        let order = self.topo_order()?;
        let output_name = self.choose_output()?;
        let (input_name, input_shape) = self.declare_input()?;
        let input_len = input_shape.iter().product();
        self.input_len = input_len;
        self.shapes = vec![input_shape.clone()];
        self.env.insert(input_name.clone(), Operand::Value(0));

        // Nodes reachable backwards from the output.
        let mut needed = vec![false; self.graph.node.len()];
        let mut stack: Vec<&str> = vec![output_name.as_str()];
        while let Some(v) = stack.pop() {
            if let Some(&p) = self.producer.get(v) {
                if let Some(flag) = needed.get_mut(p) {
                    if !*flag {
                        *flag = true;
                        if let Some(n) = self.graph.node.get(p) {
                            stack.extend(n.input.iter().map(String::as_str));
                        }
                    }
                }
            }
        }
        let kept = || {
            self.graph
                .node
                .iter()
                .zip(&needed)
                .filter(|(_, &k)| k)
                .map(|(n, _)| n)
        };
        let mut uses: HashMap<String, usize> = HashMap::new();
        for input in kept().flat_map(|n| n.input.iter()) {
            *uses.entry(input.clone()).or_default() += 1;
        }
        *uses.entry(output_name.clone()).or_default() += 1;
        self.uses = uses;
        for i in order {
            if needed.get(i) == Some(&true) {
                if let Some(n) = self.graph.node.get(i) {
                    self.import_node(i, n)?;
                }
            }
        }
        // Convolutional graphs are shape-checked at import (one pass over zeros), so malformed
        // windows or channel counts fail here rather than at the first inference.
        if self.nodes.iter().any(|n| is_spatial(&n.op)) {
            self.value_shape(self.nodes.len())?;
        }

        let output = match self.env.get(&output_name) {
            Some(Operand::Value(v)) => *v,
            Some(Operand::Const(_)) => {
                return Err(ModelError::InvalidGraph(format!(
                    "output `{output_name}` does not depend on the input"
                )))
            }
            None => {
                if let Some(node) = self.label_outputs.get(&output_name) {
                    return Err(label_error(&output_name, node));
                }
                if self.protos.contains_key(output_name.as_str()) {
                    return Err(ModelError::InvalidGraph(format!(
                        "output `{output_name}` does not depend on the input"
                    )));
                }
                return Err(ModelError::InvalidGraph(format!(
                    "output `{output_name}` is never produced"
                )));
            }
        };
        let classic = find_classic(&self.nodes, output);
        let binary = classic
            .is_none()
            .then(|| binary_sigmoid_head(&self.nodes, &self.constants, output))
            .flatten();
        let (logits, classifier) = match (classic, binary) {
            (Some(found), _) => found,
            (None, Some(score)) => (score, true),
            (None, None) => find_logits(&self.nodes, output),
        };
        let graph = Graph {
            name: self.graph.name.clone(),
            input_name,
            input_shape,
            input_len,
            constants: self.constants,
            nodes: self.nodes,
            output_name,
            output,
            logits,
            classifier,
            binary_head: binary.is_some(),
        };
        graph.validate()?;
        Ok(graph)
    }
}

/// For an output `Concat(Sub(1, Sigmoid(v)), Sigmoid(v))` (scikit-learn's binary
/// `MLPClassifier`), the score value `v`.
fn binary_sigmoid_head(nodes: &[Node], constants: &[Tensor], output: usize) -> Option<usize> {
    let node = |v: usize| v.checked_sub(1).and_then(|k| nodes.get(k));
    let concat = node(output)?;
    let [Operand::Value(neg), Operand::Value(pos)] = concat.inputs.as_slice() else {
        return None;
    };
    let sigmoid = node(*pos)?;
    let sub = node(*neg)?;
    let score = match (&sigmoid.op, sigmoid.inputs.as_slice()) {
        (Op::Unary(Unary::Sigmoid), [Operand::Value(v)]) => *v,
        _ => return None,
    };
    let one = match (&concat.op, &sub.op, sub.inputs.as_slice()) {
        (Op::Concat { .. }, Op::Sub, [Operand::Const(c), Operand::Value(p)]) if p == pos => {
            constants.get(*c)?
        }
        _ => return None,
    };
    (one.data.len() == 1 && one.data[0] == 1.0).then_some(score)
}

/// Walks back from `output` over a trailing `Softmax`/`ArgMax`/`Identity` head.
fn find_logits(nodes: &[Node], output: usize) -> (usize, bool) {
    let mut v = output;
    let mut classifier = false;
    while let Some(node) = v.checked_sub(1).and_then(|k| nodes.get(k)) {
        let head = matches!(node.op, Op::Softmax { .. } | Op::ArgMax { .. });
        if !(head || node.op == Op::Identity) {
            break;
        }
        match node.inputs.first() {
            Some(Operand::Value(u)) => {
                classifier |= head;
                v = *u;
            }
            _ => break,
        }
    }
    (v, classifier)
}

/// Ops whose graphs are shape-checked at import.
fn is_spatial(op: &Op) -> bool {
    matches!(
        op,
        Op::Conv { .. }
            | Op::MaxPool { .. }
            | Op::AveragePool { .. }
            | Op::GlobalAveragePool
            | Op::BatchNorm { .. }
    )
}

pub(crate) fn label_error(value: &str, node: &str) -> ModelError {
    ModelError::Unsupported {
        op: "label output".into(),
        node: node.into(),
        reason: format!(
            "`{value}` is the classifier's int64 label output; glassbox imports the probability output (the label is `TreeEnsemble::label`/`LinearModel::label`)"
        ),
    }
}

/// For a graph whose output is a classic model (possibly followed by `Normalizer`/`Identity`/
/// `Softmax`/`ArgMax`): the model node's value as logits, and whether it is a classifier.
fn find_classic(nodes: &[Node], output: usize) -> Option<(usize, bool)> {
    let mut v = output;
    loop {
        let node = v.checked_sub(1).and_then(|k| nodes.get(k))?;
        match &node.op {
            Op::TreeEnsemble(t) => return Some((v, t.classes.is_some())),
            Op::Linear(l) => return Some((v, l.classes.is_some())),
            Op::Svm(m) => return Some((v, !m.is_regressor())),
            Op::Normalizer { .. } | Op::Identity | Op::Softmax { .. } | Op::ArgMax { .. } => {
                match node.inputs.first() {
                    Some(Operand::Value(u)) => v = *u,
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}
