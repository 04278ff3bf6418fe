//! ONNX import: protobuf bytes → [`Graph`].
//!
//! The importer decodes the model with limits, refuses cyclic graphs, keeps only the nodes that feed the
//! chosen output, folds every node whose inputs are all constants, and maps each remaining ONNX node to
//! an [`Op`]. Unsupported ops are an error naming the op type and the node.

use std::collections::{HashMap, VecDeque};

use prost::Message;

use crate::classic::{
    Aggregate, BranchMode, LinearModel, Norm, PostTransform, Tree, TreeEnsemble, TreeNode,
    MAX_LEAF_VALUES, MAX_TARGETS, MAX_TREE_NODES,
};
use crate::conv::{batch_norm_affine, same_pads};
use crate::error::{ModelError, Result};
use crate::float_exec::{eval, MAX_TENSOR_ELEMENTS};
use crate::graph::{element_count, Graph, Node, Op, Operand, Tensor};
use crate::onnx::{
    attribute_type, data_type, AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};

/// Largest ONNX file accepted (256 MiB).
pub const MAX_MODEL_BYTES: usize = 256 << 20;
/// Largest node count accepted.
pub const MAX_NODES: usize = 10_000;

const ML_DOMAIN: &str = "ai.onnx.ml";
/// `AttributeProto.AttributeType.STRINGS`.
const ATTR_STRINGS: i32 = 8;

/// Parses ONNX protobuf bytes into a [`Graph`].
///
/// The main output is the first graph output declared as a float tensor (for skl2onnx classifiers that
/// is `probabilities`; the int64 `label` plumbing is dropped), else the input of a `ZipMap` output, else
/// the first output. This is the entry point to fuzz: it never panics on any input.
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

fn node_name(i: usize, n: &NodeProto) -> String {
    if n.name.is_empty() {
        format!("#{i}")
    } else {
        n.name.clone()
    }
}

fn op_label(n: &NodeProto) -> String {
    if n.domain.is_empty() || n.domain == "ai.onnx" {
        n.op_type.clone()
    } else {
        format!("{}:{}", n.domain, n.op_type)
    }
}

struct Importer<'a> {
    graph: &'a crate::onnx::GraphProto,
    opset: i64,
    /// Constant tensors by name: initializers and `Constant` node values.
    protos: HashMap<&'a str, &'a TensorProto>,
    /// Output name → producing node index.
    producer: HashMap<&'a str, usize>,
    env: HashMap<String, Operand>,
    constants: Vec<Tensor>,
    nodes: Vec<Node>,
    /// Flattened feature count of the graph input (the width classic models read).
    input_len: usize,
    /// The int64 `label` outputs of imported classifier nodes → the node name (not importable).
    label_outputs: HashMap<String, String>,
    /// How many kept nodes read each value name (plus one for the chosen output): a
    /// `BatchNormalization` is only folded into a producer whose output it alone reads.
    uses: HashMap<String, usize>,
    /// Shapes of the runtime values `0..shapes.len()` (memoized by [`Importer::value_shape`]).
    shapes: Vec<Vec<usize>>,
}

impl<'a> Importer<'a> {
    fn new(graph: &'a crate::onnx::GraphProto, opset: i64) -> Result<Self> {
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
        let (logits, classifier) = match find_classic(&self.nodes, output) {
            Some(found) => found,
            None => find_logits(&self.nodes, output),
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
        };
        graph.validate()?;
        Ok(graph)
    }

    fn operand(&mut self, name: &str, node: &str) -> Result<Operand> {
        if let Some(op) = self.env.get(name) {
            return Ok(*op);
        }
        if let Some(producer) = self.label_outputs.get(name) {
            return Err(label_error(name, producer));
        }
        let proto = self.protos.get(name).copied().ok_or_else(|| {
            ModelError::InvalidGraph(format!(
                "node `{node}` reads `{name}`, which is not defined"
            ))
        })?;
        let t = tensor_f32(proto, name)?;
        self.constants.push(t);
        let op = Operand::Const(self.constants.len() - 1);
        self.env.insert(name.to_string(), op);
        Ok(op)
    }

    fn const_i64(&self, name: &str, node: &str) -> Result<Vec<i64>> {
        if let Some(p) = self.protos.get(name) {
            return tensor_i64(p, name);
        }
        if let Some(Operand::Const(c)) = self.env.get(name) {
            if let Some(t) = self.constants.get(*c) {
                return t
                    .data
                    .iter()
                    .map(|&v| {
                        if v.fract() == 0.0 && v.abs() < 1e15 {
                            Ok(v as i64)
                        } else {
                            Err(ModelError::InvalidGraph(format!(
                                "`{name}` is not an integer tensor"
                            )))
                        }
                    })
                    .collect();
            }
        }
        Err(ModelError::Unsupported {
            op: "Reshape".into(),
            node: node.into(),
            reason: format!("shape input `{name}` must be a constant"),
        })
    }

    fn import_node(&mut self, i: usize, n: &'a NodeProto) -> Result<()> {
        let name = node_name(i, n);
        let op_type = op_label(n);
        let unsupported = |reason: &str| ModelError::Unsupported {
            op: op_type.clone(),
            node: name.clone(),
            reason: reason.to_string(),
        };
        let mut out = n
            .output
            .first()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| ModelError::InvalidGraph(format!("node `{name}` has no output")))?;
        let standard = n.domain.is_empty() || n.domain == "ai.onnx";
        if n.domain == ML_DOMAIN {
            if let Some(op) = import_ml(n, &name, &op_type, self.input_len)? {
                if matches!(&op, Op::TreeEnsemble(t) if t.classes.is_some())
                    || matches!(&op, Op::Linear(l) if l.classes.is_some())
                {
                    // Outputs: (label, probabilities/scores). Only the float one is imported.
                    self.label_outputs.insert(out.clone(), name.clone());
                    out = n.output.get(1).filter(|o| !o.is_empty()).ok_or_else(|| {
                        ModelError::InvalidGraph(format!(
                            "{op_type} node `{name}` has no score output"
                        ))
                    })?;
                }
                return self.push_node(name, op_type, op, 1, n, out);
            }
        }
        if !standard {
            let reason = if n.domain == ML_DOMAIN {
                "ai.onnx.ml ops are only accepted in the stripped label plumbing, but this node feeds the chosen output"
            } else {
                "unknown op domain"
            };
            return Err(unsupported(reason));
        }
        let mut n_inputs = 1usize;
        let op = match n.op_type.as_str() {
            "Constant" => {
                let t = attr(n, "value")
                    .and_then(|a| a.t.as_ref())
                    .ok_or_else(|| unsupported("only the `value` tensor attribute is supported"))?;
                self.protos.insert(out.as_str(), t);
                return Ok(());
            }
            "Gemm" => {
                n_inputs = if n.input.get(2).is_some_and(|s| !s.is_empty()) {
                    3
                } else {
                    2
                };
                Op::Gemm {
                    alpha: get_float(n, "alpha", 1.0, &name)?,
                    beta: get_float(n, "beta", 1.0, &name)?,
                    trans_a: get_int(n, "transA", 0, &name)? != 0,
                    trans_b: get_int(n, "transB", 0, &name)? != 0,
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
            // onnxmltools ends LightGBM classifiers with `probabilities × 1`
            "Mul" => {
                let one = self.const_input(n, 1, &name, "factor")?;
                if one.data.is_empty() || one.data.iter().any(|&v| v != 1.0) {
                    return Err(unsupported(
                        "only a multiplication by a constant 1 (a no-op)",
                    ));
                }
                Op::Identity
            }
            "Cast" => match get_int(n, "to", 0, &name)? {
                1 => Op::Identity,
                t => {
                    return Err(unsupported(&format!(
                        "cast to element type {t}; only float (1) is supported"
                    )))
                }
            },
            "Flatten" => Op::Flatten {
                axis: get_int(n, "axis", 1, &name)?,
            },
            "Reshape" => {
                let shape = match n.input.get(1).filter(|s| !s.is_empty()) {
                    Some(s) => self.const_i64(s, &name)?,
                    None => attr(n, "shape")
                        .map(|a| a.ints.clone())
                        .ok_or_else(|| unsupported("missing shape"))?,
                };
                Op::Reshape {
                    shape,
                    allow_zero: get_int(n, "allowzero", 0, &name)? != 0,
                }
            }
            "Softmax" => Op::Softmax {
                axis: get_int(n, "axis", if self.opset >= 13 { -1 } else { 1 }, &name)?,
                coerce_2d: self.opset < 13,
            },
            "ArgMax" => Op::ArgMax {
                axis: get_int(n, "axis", 0, &name)?,
                keepdims: get_int(n, "keepdims", 1, &name)? != 0,
                select_last_index: get_int(n, "select_last_index", 0, &name)? != 0,
            },
            "Conv" => {
                n_inputs = if has_input(n, 2) { 3 } else { 2 };
                self.import_conv(n, &name)?
            }
            "MaxPool" | "AveragePool" => self.import_pool(n, &name)?,
            "GlobalAveragePool" => Op::GlobalAveragePool,
            "BatchNormalization" => {
                n_inputs = 5;
                let epsilon = self.import_batch_norm(n, &name)?;
                if self.fold_batch_norm(n, &name, epsilon)? {
                    return Ok(());
                }
                Op::BatchNorm { epsilon }
            }
            "Clip" => self.import_clip(n, &name)?,
            "LeakyRelu" => Op::LeakyRelu {
                alpha: get_float(n, "alpha", 0.01, &name)?,
            },
            _ => return Err(unsupported("op not supported by glassbox")),
        };
        self.push_node(name, op_type, op, n_inputs, n, out)
    }

    /// Shape of runtime value `v`, computing (and memoizing) the shapes of all earlier values by
    /// running the imported nodes on zeros. Total work over an import: at most one inference.
    fn value_shape(&mut self, v: usize) -> Result<Vec<usize>> {
        while self.shapes.len() <= v {
            let k = self.shapes.len().saturating_sub(1);
            let node = self
                .nodes
                .get(k)
                .ok_or_else(|| ModelError::InvalidGraph(format!("value {v} is not defined")))?;
            let mut zeros = Vec::with_capacity(node.inputs.len());
            for operand in &node.inputs {
                zeros.push(match *operand {
                    Operand::Value(u) => {
                        let shape = self.shapes.get(u).cloned().ok_or_else(|| {
                            ModelError::InvalidGraph(format!(
                                "node `{}` reads a value defined after it",
                                node.name
                            ))
                        })?;
                        let n = element_count(&shape)?;
                        Some(Tensor {
                            shape,
                            data: vec![0.0; n],
                        })
                    }
                    Operand::Const(_) => None,
                });
            }
            let args = node
                .inputs
                .iter()
                .zip(&zeros)
                .map(|(operand, zero)| match (operand, zero) {
                    (_, Some(t)) => Some(t),
                    (Operand::Const(c), None) => self.constants.get(*c),
                    (Operand::Value(_), None) => None,
                })
                .collect::<Option<Vec<&Tensor>>>()
                .ok_or_else(|| {
                    ModelError::InvalidGraph(format!(
                        "node `{}` reads an undefined value",
                        node.name
                    ))
                })?;
            let out = eval(&node.name, &node.op_type, &node.op, &args)?;
            self.shapes.push(out.shape);
        }
        self.shapes
            .get(v)
            .cloned()
            .ok_or_else(|| ModelError::InvalidGraph(format!("value {v} is not defined")))
    }

    fn operand_shape(&mut self, operand: Operand) -> Result<Vec<usize>> {
        match operand {
            Operand::Value(v) => self.value_shape(v),
            Operand::Const(c) => self
                .constants
                .get(c)
                .map(|t| t.shape.clone())
                .ok_or_else(|| ModelError::InvalidGraph("dangling constant".into())),
        }
    }

    /// The constant tensor behind input `k` of `n`, or `Unsupported` if it is a runtime value.
    fn const_input(&mut self, n: &NodeProto, k: usize, node: &str, what: &str) -> Result<Tensor> {
        let input = n.input.get(k).filter(|s| !s.is_empty()).ok_or_else(|| {
            ModelError::InvalidGraph(format!(
                "{} node `{node}` is missing input {k} ({what})",
                op_label(n)
            ))
        })?;
        match self.operand(input, node)? {
            Operand::Const(c) => self
                .constants
                .get(c)
                .cloned()
                .ok_or_else(|| ModelError::InvalidGraph("dangling constant".into())),
            Operand::Value(_) => Err(unsupported_op(
                n,
                node,
                format!("{what} (`{input}`) must be a constant"),
            )),
        }
    }

    /// Explicit pads `[top, left, bottom, right]` from `pads`/`auto_pad`; SAME needs the input shape.
    fn resolve_pads(
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

    fn import_conv(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
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

    fn import_pool(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
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
    fn import_batch_norm(&mut self, n: &NodeProto, node: &str) -> Result<f32> {
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
    fn fold_batch_norm(&mut self, n: &'a NodeProto, node: &str, epsilon: f32) -> Result<bool> {
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

    fn import_clip(&mut self, n: &NodeProto, node: &str) -> Result<Op> {
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

    /// Resolves the node's operands and appends it (or folds it if all operands are constant).
    fn push_node(
        &mut self,
        name: String,
        op_type: String,
        op: Op,
        n_inputs: usize,
        n: &'a NodeProto,
        out: &'a str,
    ) -> Result<()> {
        let mut inputs = Vec::with_capacity(n_inputs);
        for k in 0..n_inputs {
            let input = n.input.get(k).filter(|s| !s.is_empty()).ok_or_else(|| {
                ModelError::InvalidGraph(format!("node `{name}` is missing input {k}"))
            })?;
            inputs.push(self.operand(input, &name)?);
        }
        let all_const = inputs.iter().all(|o| matches!(o, Operand::Const(_)));
        if all_const {
            let args: Vec<&Tensor> = inputs
                .iter()
                .filter_map(|o| match o {
                    Operand::Const(c) => self.constants.get(*c),
                    Operand::Value(_) => None,
                })
                .collect();
            let folded = eval(&name, &op_type, &op, &args)?;
            self.constants.push(folded);
            self.env
                .insert(out.to_string(), Operand::Const(self.constants.len() - 1));
        } else {
            self.nodes.push(Node {
                name,
                op_type,
                op,
                inputs,
            });
            self.env
                .insert(out.to_string(), Operand::Value(self.nodes.len()));
        }
        Ok(())
    }
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

fn has_input(n: &NodeProto, k: usize) -> bool {
    n.input.get(k).is_some_and(|s| !s.is_empty())
}

fn unsupported_op(n: &NodeProto, node: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: op_label(n),
        node: node.into(),
        reason: reason.into(),
    }
}

fn invalid_attr(n: &NodeProto, node: &str, what: &str) -> ModelError {
    ModelError::InvalidGraph(format!("{} node `{node}`: {what}", op_label(n)))
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

fn label_error(value: &str, node: &str) -> ModelError {
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

fn ml_unsupported(op: &str, node: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: op.into(),
        node: node.into(),
        reason: reason.into(),
    }
}

fn ml_invalid(op: &str, node: &str, reason: impl std::fmt::Display) -> ModelError {
    ModelError::InvalidGraph(format!("{op} node `{node}`: {reason}"))
}

fn get_ints<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [i64]> {
    match attr(n, name) {
        None => Ok(&[]),
        Some(a) if a.r#type == attribute_type::INTS || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.ints)
        }
        Some(a) => Err(wrong_attr(n, node, a, "INTS")),
    }
}

fn get_floats<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [f32]> {
    let v: &[f32] = match attr(n, name) {
        None => &[],
        Some(a) if a.r#type == attribute_type::FLOATS || a.r#type == attribute_type::UNDEFINED => {
            &a.floats
        }
        Some(a) => return Err(wrong_attr(n, node, a, "FLOATS")),
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(ModelError::NonFinite {
            context: format!("attribute `{name}` of node `{node}`"),
        });
    }
    Ok(v)
}

fn get_string<'n>(n: &'n NodeProto, name: &str, default: &'n [u8], node: &str) -> Result<&'n [u8]> {
    match attr(n, name) {
        None => Ok(default),
        Some(a) if a.r#type == attribute_type::STRING || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.s)
        }
        Some(a) => Err(wrong_attr(n, node, a, "STRING")),
    }
}

fn get_strings<'n>(n: &'n NodeProto, name: &str, node: &str) -> Result<&'n [Vec<u8>]> {
    match attr(n, name) {
        None => Ok(&[]),
        Some(a) if a.r#type == ATTR_STRINGS || a.r#type == attribute_type::UNDEFINED => {
            Ok(&a.strings)
        }
        Some(a) => Err(wrong_attr(n, node, a, "STRINGS")),
    }
}

fn post_transform(n: &NodeProto, op: &str, node: &str) -> Result<PostTransform> {
    let s = get_string(n, "post_transform", b"NONE", node)?;
    PostTransform::from_onnx(s).ok_or_else(|| {
        ml_unsupported(
            op,
            node,
            format!("post_transform `{}`", String::from_utf8_lossy(s)),
        )
    })
}

/// `usize` from an ONNX id, below `bound`.
fn index(v: i64, bound: usize, what: &str, op: &str, node: &str) -> Result<usize> {
    usize::try_from(v)
        .ok()
        .filter(|&u| u < bound)
        .ok_or_else(|| ml_invalid(op, node, format!("{what} {v} out of range (< {bound})")))
}

/// Maps an ONNX-ML node to an [`Op`]; `Ok(None)` for ops that are not classic models (they are
/// refused by the caller unless stripped as label plumbing).
fn import_ml(n: &NodeProto, node: &str, op: &str, n_features: usize) -> Result<Option<Op>> {
    for a in &n.attribute {
        if a.name.ends_with("_as_tensor") {
            return Err(ml_unsupported(
                op,
                node,
                format!("double-precision attribute `{}`", a.name),
            ));
        }
    }
    let op_out = match n.op_type.as_str() {
        "TreeEnsembleClassifier" | "TreeEnsembleRegressor" => {
            Op::TreeEnsemble(Box::new(import_trees(n, node, op, n_features)?))
        }
        "LinearClassifier" | "LinearRegressor" => {
            Op::Linear(Box::new(import_linear(n, node, op, n_features)?))
        }
        "Normalizer" => {
            let s = get_string(n, "norm", b"MAX", node)?;
            let norm = Norm::from_onnx(s).ok_or_else(|| {
                ml_unsupported(op, node, format!("norm `{}`", String::from_utf8_lossy(s)))
            })?;
            Op::Normalizer { norm }
        }
        "Scaler" => {
            let offset = get_floats(n, "offset", node)?;
            let scale = get_floats(n, "scale", node)?;
            let or = |v: &[f32], d: f32| if v.is_empty() { vec![d] } else { v.to_vec() };
            Op::Scaler {
                offset: or(offset, 0.0),
                scale: or(scale, 1.0),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(op_out))
}

fn class_labels(n: &NodeProto, names: [&str; 2], op: &str, node: &str) -> Result<Vec<i64>> {
    if !get_strings(n, names[1], node)?.is_empty() {
        return Err(ml_unsupported(
            op,
            node,
            format!(
                "string class labels (`{}`); only int64 labels are supported",
                names[1]
            ),
        ));
    }
    let labels = get_ints(n, names[0], node)?;
    if labels.len() > MAX_TARGETS {
        return Err(ModelError::TooLarge {
            what: "class labels",
            limit: MAX_TARGETS as u64,
            got: labels.len() as u64,
        });
    }
    Ok(labels.to_vec())
}

fn import_trees(n: &NodeProto, node: &str, op: &str, n_features: usize) -> Result<TreeEnsemble> {
    let classifier = n.op_type == "TreeEnsembleClassifier";
    let tree_ids = get_ints(n, "nodes_treeids", node)?;
    let count = tree_ids.len();
    if count > MAX_TREE_NODES {
        return Err(ModelError::TooLarge {
            what: "tree nodes",
            limit: MAX_TREE_NODES as u64,
            got: count as u64,
        });
    }
    let node_ids = get_ints(n, "nodes_nodeids", node)?;
    let features = get_ints(n, "nodes_featureids", node)?;
    let modes = get_strings(n, "nodes_modes", node)?;
    let true_ids = get_ints(n, "nodes_truenodeids", node)?;
    let false_ids = get_ints(n, "nodes_falsenodeids", node)?;
    let values = get_floats(n, "nodes_values", node)?;
    let missing = get_ints(n, "nodes_missing_value_tracks_true", node)?;
    let lens = [
        ("nodes_nodeids", node_ids.len()),
        ("nodes_featureids", features.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", true_ids.len()),
        ("nodes_falsenodeids", false_ids.len()),
        ("nodes_values", values.len()),
    ];
    for (what, len) in lens {
        if len != count {
            return Err(ml_invalid(
                op,
                node,
                format!("`{what}` has {len} entries, `nodes_treeids` has {count}"),
            ));
        }
    }
    if !missing.is_empty() && missing.len() != count {
        return Err(ml_invalid(
            op,
            node,
            "`nodes_missing_value_tracks_true` has the wrong length",
        ));
    }
    // `nodes_missing_value_tracks_true` only routes NaN inputs (LightGBM sets it). Every input
    // path refuses non-finite features, so for the inputs glassbox accepts it changes nothing.
    if count == 0 {
        return Err(ml_invalid(op, node, "no tree nodes"));
    }

    // Trees are contiguous runs of `nodes_treeids`; the first node of a run is its root (as in
    // onnxruntime). (tree id, node id) → (tree index, local index).
    let mut position: HashMap<(i64, i64), (usize, usize)> = HashMap::with_capacity(count);
    let mut run_of: HashMap<i64, usize> = HashMap::new();
    let mut sizes: Vec<usize> = Vec::new();
    let mut prev: Option<i64> = None;
    for (k, (&t, &id)) in tree_ids.iter().zip(node_ids).enumerate() {
        if prev != Some(t) {
            if run_of.insert(t, sizes.len()).is_some() {
                return Err(ml_unsupported(
                    op,
                    node,
                    format!("the nodes of tree {t} are not contiguous"),
                ));
            }
            sizes.push(0);
            prev = Some(t);
        }
        let ti = sizes.len() - 1;
        let local = sizes.get(ti).copied().unwrap_or(0);
        if let Some(sz) = sizes.get_mut(ti) {
            *sz += 1;
        }
        if position.insert((t, id), (ti, local)).is_some() {
            return Err(ml_invalid(
                op,
                node,
                format!("node {id} of tree {t} defined twice (entry {k})"),
            ));
        }
    }
    let mut trees: Vec<Tree> = sizes
        .iter()
        .map(|&s| Tree {
            nodes: Vec::with_capacity(s),
        })
        .collect();
    for k in 0..count {
        let (t, mode, f, tid, fid, v) = match (
            tree_ids.get(k),
            modes.get(k),
            features.get(k),
            true_ids.get(k),
            false_ids.get(k),
            values.get(k),
        ) {
            (Some(&t), Some(m), Some(&f), Some(&ti), Some(&fi), Some(&v)) => (t, m, f, ti, fi, v),
            _ => return Err(ml_invalid(op, node, "node attribute lists too short")),
        };
        let ti = run_of.get(&t).copied().unwrap_or(0);
        let tree_node = if mode.as_slice() == b"LEAF" {
            TreeNode::Leaf { values: Vec::new() }
        } else {
            let mode = BranchMode::from_onnx(mode).ok_or_else(|| {
                ml_unsupported(
                    op,
                    node,
                    format!("node mode `{}`", String::from_utf8_lossy(mode)),
                )
            })?;
            let child = |id: i64, which: &str| {
                position
                    .get(&(t, id))
                    .map(|&(_, local)| local)
                    .ok_or_else(|| {
                        ml_invalid(
                            op,
                            node,
                            format!("{which} node {id} of tree {t} does not exist"),
                        )
                    })
            };
            TreeNode::Branch {
                feature: index(f, n_features, "feature id", op, node)?,
                mode,
                threshold: v,
                true_child: child(tid, "true")?,
                false_child: child(fid, "false")?,
            }
        };
        if let Some(tree) = trees.get_mut(ti) {
            tree.nodes.push(tree_node);
        }
    }

    let (n_targets, classes, prefix) = if classifier {
        let labels = class_labels(n, ["classlabels_int64s", "classlabels_strings"], op, node)?;
        if labels.len() < 2 {
            return Err(ml_invalid(
                op,
                node,
                "a classifier needs at least 2 class labels",
            ));
        }
        (labels.len(), Some(labels), "class")
    } else {
        let t = get_int(n, "n_targets", 1, node)?;
        let t = usize::try_from(t)
            .ok()
            .filter(|&t| (1..=MAX_TARGETS).contains(&t))
            .ok_or_else(|| {
                ml_invalid(op, node, format!("n_targets {t} not in 1..={MAX_TARGETS}"))
            })?;
        (t, None, "target")
    };
    let ids = get_ints(n, &format!("{prefix}_ids"), node)?;
    let leaf_nodes = get_ints(n, &format!("{prefix}_nodeids"), node)?;
    let leaf_trees = get_ints(n, &format!("{prefix}_treeids"), node)?;
    let weights = get_floats(n, &format!("{prefix}_weights"), node)?;
    if ids.len() > MAX_LEAF_VALUES {
        return Err(ModelError::TooLarge {
            what: "leaf values",
            limit: MAX_LEAF_VALUES as u64,
            got: ids.len() as u64,
        });
    }
    if [leaf_nodes.len(), leaf_trees.len(), weights.len()] != [ids.len(); 3] {
        return Err(ml_invalid(
            op,
            node,
            format!("`{prefix}_ids`, `{prefix}_nodeids`, `{prefix}_treeids` and `{prefix}_weights` differ in length"),
        ));
    }
    for k in 0..ids.len() {
        let (Some(&c), Some(&id), Some(&t), Some(&w)) = (
            ids.get(k),
            leaf_nodes.get(k),
            leaf_trees.get(k),
            weights.get(k),
        ) else {
            return Err(ml_invalid(op, node, "leaf attribute lists too short"));
        };
        let col = index(c, n_targets, &format!("{prefix} id"), op, node)?;
        let &(ti, local) = position.get(&(t, id)).ok_or_else(|| {
            ml_invalid(
                op,
                node,
                format!("weight for missing node {id} of tree {t}"),
            )
        })?;
        // onnxruntime ignores weights attached to branch nodes.
        if let Some(TreeNode::Leaf { values }) =
            trees.get_mut(ti).and_then(|tr| tr.nodes.get_mut(local))
        {
            values.push((col, w));
        }
    }

    let base = get_floats(n, "base_values", node)?;
    let base_values = match (base.len(), classes.is_some(), n_targets) {
        (0, ..) => vec![0.0; n_targets],
        (len, _, nt) if len == nt && !(classifier && nt == 2) => base.to_vec(),
        // onnxruntime adds a single base value to column 0 of a two-class classifier.
        (1, true, 2) => vec![base.first().copied().unwrap_or(0.0), 0.0],
        (len, ..) => {
            return Err(ml_unsupported(
                op,
                node,
                format!("{len} base values for {n_targets} score columns (onnxruntime's semantics for this are irregular)"),
            ))
        }
    };
    // With explicit base values onnxruntime counts every class as scored (for the label); the IR
    // counts a class as scored if it has a vote or a non-zero base value, so give zero-base classes
    // a zero vote in every leaf of the first tree.
    if classifier && n_targets > 2 && !base.is_empty() {
        let zero_cols: Vec<usize> = (0..n_targets)
            .filter(|&k| base_values.get(k) == Some(&0.0))
            .collect();
        if let Some(tree) = trees.first_mut() {
            let mut added = 0usize;
            for nd in &mut tree.nodes {
                if let TreeNode::Leaf { values } = nd {
                    for &k in &zero_cols {
                        if !values.iter().any(|&(c, _)| c == k) {
                            values.push((k, 0.0));
                            added += 1;
                        }
                    }
                }
            }
            if added.saturating_add(ids.len()) > MAX_LEAF_VALUES {
                return Err(ModelError::TooLarge {
                    what: "leaf values",
                    limit: MAX_LEAF_VALUES as u64,
                    got: (added.saturating_add(ids.len())) as u64,
                });
            }
        }
    }
    let aggregate = if classifier {
        Aggregate::Sum
    } else {
        match get_string(n, "aggregate_function", b"SUM", node)? {
            b"SUM" => Aggregate::Sum,
            b"AVERAGE" => Aggregate::Average,
            other => {
                return Err(ml_unsupported(
                    op,
                    node,
                    format!("aggregate_function `{}`", String::from_utf8_lossy(other)),
                ))
            }
        }
    };
    let ensemble = TreeEnsemble {
        n_features,
        n_targets,
        trees,
        base_values,
        aggregate,
        post_transform: post_transform(n, op, node)?,
        classes,
    };
    ensemble.validate().map_err(|e| ml_invalid(op, node, e))?;
    Ok(ensemble)
}

fn import_linear(n: &NodeProto, node: &str, op: &str, n_features: usize) -> Result<LinearModel> {
    let coefficients = get_floats(n, "coefficients", node)?.to_vec();
    let intercepts = get_floats(n, "intercepts", node)?;
    let classes = if n.op_type == "LinearClassifier" {
        Some(class_labels(
            n,
            ["classlabels_ints", "classlabels_strings"],
            op,
            node,
        )?)
    } else {
        None
    };
    let n_targets = if !intercepts.is_empty() {
        intercepts.len()
    } else if n.op_type == "LinearRegressor" {
        usize::try_from(get_int(n, "targets", 1, node)?).unwrap_or(0)
    } else {
        coefficients.len() / n_features.max(1)
    };
    let intercepts = if intercepts.is_empty() {
        vec![0.0; n_targets.min(MAX_TARGETS)]
    } else {
        intercepts.to_vec()
    };
    let model = LinearModel {
        n_features,
        n_targets,
        coefficients,
        intercepts,
        post_transform: post_transform(n, op, node)?,
        classes,
    };
    model.validate().map_err(|e| ml_invalid(op, node, e))?;
    Ok(model)
}

fn attr<'n>(n: &'n NodeProto, name: &str) -> Option<&'n AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn wrong_attr(n: &NodeProto, node: &str, a: &AttributeProto, want: &str) -> ModelError {
    ModelError::Unsupported {
        op: op_label(n),
        node: node.into(),
        reason: format!(
            "attribute `{}` has type {}, expected {want}",
            a.name, a.r#type
        ),
    }
}

fn get_int(n: &NodeProto, name: &str, default: i64, node: &str) -> Result<i64> {
    match attr(n, name) {
        None => Ok(default),
        Some(a) if a.r#type == attribute_type::INT || a.r#type == attribute_type::UNDEFINED => {
            Ok(a.i)
        }
        Some(a) => Err(wrong_attr(n, node, a, "INT")),
    }
}

fn get_float(n: &NodeProto, name: &str, default: f32, node: &str) -> Result<f32> {
    let v = match attr(n, name) {
        None => default,
        Some(a) if a.r#type == attribute_type::FLOAT || a.r#type == attribute_type::UNDEFINED => {
            a.f
        }
        Some(a) => return Err(wrong_attr(n, node, a, "FLOAT")),
    };
    if !v.is_finite() {
        return Err(ModelError::NonFinite {
            context: format!("attribute `{name}` of node `{node}`"),
        });
    }
    Ok(v)
}

fn tensor_shape(t: &TensorProto, name: &str) -> Result<(Vec<usize>, usize)> {
    if t.data_location == 1 {
        return Err(ModelError::InvalidGraph(format!(
            "tensor `{name}` uses external data, which is not supported"
        )));
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| {
            ModelError::InvalidGraph(format!("tensor `{name}` has negative dimension {d}"))
        })?;
        shape.push(d);
    }
    let n = element_count(&shape)?;
    if n > MAX_TENSOR_ELEMENTS {
        return Err(ModelError::TooLarge {
            what: "tensor elements",
            limit: MAX_TENSOR_ELEMENTS as u64,
            got: n as u64,
        });
    }
    Ok((shape, n))
}

fn data_len_error(name: &str, n: usize, got: usize) -> ModelError {
    ModelError::ShapeMismatch {
        context: format!("data of tensor `{name}`"),
        expected: format!("{n} values"),
        got: format!("{got} values"),
    }
}

fn raw_chunks<const W: usize>(raw: &[u8], n: usize, name: &str) -> Result<Vec<[u8; W]>> {
    if raw.len() != n.saturating_mul(W) {
        return Err(data_len_error(name, n, raw.len() / W));
    }
    Ok(raw
        .chunks_exact(W)
        .map(|c| {
            let mut b = [0u8; W];
            b.copy_from_slice(c);
            b
        })
        .collect())
}

/// Reads a float (or small-integer) tensor as `f32`.
fn tensor_f32(t: &TensorProto, name: &str) -> Result<Tensor> {
    let (shape, n) = tensor_shape(t, name)?;
    let data: Vec<f32> = match t.data_type {
        data_type::FLOAT if !t.raw_data.is_empty() || n == 0 => {
            raw_chunks::<4>(&t.raw_data, n, name)?
                .into_iter()
                .map(f32::from_le_bytes)
                .collect()
        }
        data_type::FLOAT => t.float_data.clone(),
        data_type::DOUBLE if !t.raw_data.is_empty() => raw_chunks::<8>(&t.raw_data, n, name)?
            .into_iter()
            .map(|b| f64::from_le_bytes(b) as f32)
            .collect(),
        data_type::DOUBLE => t.double_data.iter().map(|&v| v as f32).collect(),
        data_type::INT32 | data_type::INT64 => {
            let ints = tensor_i64(t, name)?;
            if ints.iter().any(|v| v.unsigned_abs() > 1 << 24) {
                return Err(ModelError::InvalidGraph(format!(
                    "integer tensor `{name}` used as float has values beyond 2^24"
                )));
            }
            ints.iter().map(|&v| v as f32).collect()
        }
        other => {
            return Err(ModelError::InvalidGraph(format!(
                "tensor `{name}` has unsupported element type {other}"
            )))
        }
    };
    if data.len() != n {
        return Err(data_len_error(name, n, data.len()));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            context: format!("tensor `{name}`"),
        });
    }
    Tensor::new(shape, data)
}

/// Reads an int32/int64 tensor.
fn tensor_i64(t: &TensorProto, name: &str) -> Result<Vec<i64>> {
    let (_, n) = tensor_shape(t, name)?;
    let data: Vec<i64> = match t.data_type {
        data_type::INT64 if !t.raw_data.is_empty() => raw_chunks::<8>(&t.raw_data, n, name)?
            .into_iter()
            .map(i64::from_le_bytes)
            .collect(),
        data_type::INT64 => t.int64_data.clone(),
        data_type::INT32 if !t.raw_data.is_empty() => raw_chunks::<4>(&t.raw_data, n, name)?
            .into_iter()
            .map(|b| i64::from(i32::from_le_bytes(b)))
            .collect(),
        data_type::INT32 => t.int32_data.iter().map(|&v| i64::from(v)).collect(),
        other => {
            return Err(ModelError::InvalidGraph(format!(
                "tensor `{name}` has element type {other}, expected an integer type"
            )))
        }
    };
    if data.len() != n {
        return Err(data_len_error(name, n, data.len()));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::{
        Dimension, GraphProto, OperatorSetIdProto, TensorShapeProto, TypeProto, TypeProtoTensor,
    };

    fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
        ValueInfoProto {
            name: name.into(),
            r#type: Some(TypeProto {
                tensor_type: Some(TypeProtoTensor {
                    elem_type: data_type::FLOAT,
                    shape: Some(TensorShapeProto {
                        dim: dims
                            .iter()
                            .map(|d| Dimension {
                                dim_value: *d,
                                dim_param: d.is_none().then(|| "N".to_string()),
                                denotation: String::new(),
                            })
                            .collect(),
                    }),
                }),
                denotation: String::new(),
            }),
            doc_string: String::new(),
        }
    }

    fn node(op: &str, name: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            name: name.into(),
            op_type: op.into(),
            ..Default::default()
        }
    }

    fn float_tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
        TensorProto {
            dims: dims.to_vec(),
            data_type: data_type::FLOAT,
            float_data: data.to_vec(),
            name: name.into(),
            ..Default::default()
        }
    }

    /// `input [N, 2] → Gemm(W [3, 2], transB) → Relu → Gemm(W2 [2, 3]) → middle op → output`.
    fn model(nodes: Vec<NodeProto>) -> Vec<u8> {
        let mut transb = AttributeProto {
            name: "transB".into(),
            r#type: attribute_type::INT,
            i: 1,
            ..Default::default()
        };
        let mut gemm0 = node("Gemm", "fc0", &["input", "w0", "b0"], "h0");
        gemm0.attribute.push(transb.clone());
        let relu = node("Relu", "relu0", &["h0"], "h1");
        let mut gemm1 = node("Gemm", "fc1", &["h1", "w1", "b1"], "logits");
        transb.i = 1;
        gemm1.attribute.push(transb);
        let mut all = vec![gemm0, relu, gemm1];
        all.extend(nodes);
        let out_name = all
            .last()
            .and_then(|n| n.output.first().cloned())
            .unwrap_or_default();
        let g = GraphProto {
            node: all,
            name: "t".into(),
            initializer: vec![
                float_tensor("w0", &[3, 2], &[1.0, 0.0, 0.0, 1.0, -1.0, -1.0]),
                float_tensor("b0", &[3], &[0.0, 0.0, 0.5]),
                float_tensor("w1", &[2, 3], &[1.0, 2.0, 3.0, -1.0, 0.0, 1.0]),
                float_tensor("b1", &[2], &[0.25, 0.0]),
            ],
            input: vec![value_info("input", &[None, Some(2)])],
            output: vec![value_info(&out_name, &[None, Some(2)])],
            ..Default::default()
        };
        let m = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            graph: Some(g),
            ..Default::default()
        };
        m.encode_to_vec()
    }

    #[test]
    fn imports_and_runs_small_mlp() {
        let g = load_onnx(&model(vec![node("Softmax", "sm", &["logits"], "probs")])).unwrap();
        assert!(g.classifier);
        assert_eq!(g.input_len, 2);
        // h = relu([x0, x1, -x0 - x1 + 0.5]) = [1, 2, 0] for x = [1, 2]; y = [1 + 4 + 0.25, -1 + 0] = [5.25, -1].
        assert_eq!(g.run_f32(&[1.0, 2.0]).unwrap(), vec![5.25, -1.0]);
        let p = g.run_f32_output(&[1.0, 2.0]).unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[0] > p[1]);
        assert!(matches!(
            g.run_f32(&[1.0]),
            Err(ModelError::InputLength {
                expected: 2,
                got: 1
            })
        ));
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let bytes = model(vec![]);
        for cut in [1, 7, bytes.len() / 2, bytes.len() - 1] {
            assert!(load_onnx(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            load_onnx(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Err(ModelError::BadProtobuf(_))
        ));
        assert!(matches!(
            load_onnx(b"definitely not onnx"),
            Err(ModelError::BadProtobuf(_))
        ));
        assert!(matches!(load_onnx(&[]), Err(ModelError::InvalidGraph(_))));
        // Deterministic pseudo-random garbage must never panic.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200 {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = load_onnx(&buf);
        }
    }

    #[test]
    fn unsupported_op_names_op_and_node() {
        let err = load_onnx(&model(vec![node("Tanh", "my_tanh", &["logits"], "out")])).unwrap_err();
        match &err {
            ModelError::Unsupported { op, node, .. } => {
                assert_eq!((op.as_str(), node.as_str()), ("Tanh", "my_tanh"))
            }
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("Tanh") && msg.contains("my_tanh"), "{msg}");
    }

    #[test]
    fn cycles_are_refused() {
        let mut bytes_model = ModelProto::decode(model(vec![]).as_slice()).unwrap();
        let g = bytes_model.graph.as_mut().unwrap();
        // fc0 now reads the output of relu0, which reads fc0.
        g.node[0].input[0] = "h1".into();
        let err = load_onnx(&bytes_model.encode_to_vec()).unwrap_err();
        assert!(matches!(err, ModelError::Cyclic { .. }), "{err:?}");
    }

    #[test]
    fn too_many_nodes_refused() {
        let nodes: Vec<NodeProto> = (0..MAX_NODES)
            .map(|i| {
                node(
                    "Identity",
                    &format!("id{i}"),
                    &[&format!("v{i}")],
                    &format!("v{}", i + 1),
                )
            })
            .collect();
        let err = load_onnx(&model(nodes)).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::TooLarge {
                    what: "node count",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn nan_weights_and_bad_raw_data_refused() {
        let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
        m.graph.as_mut().unwrap().initializer[0].float_data[0] = f32::NAN;
        assert!(matches!(
            load_onnx(&m.encode_to_vec()),
            Err(ModelError::NonFinite { .. })
        ));
        let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.float_data.clear();
        t.raw_data = vec![0; 5];
        assert!(matches!(
            load_onnx(&m.encode_to_vec()),
            Err(ModelError::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn conv_same_pads_and_batch_norm_folding() {
        let mut conv = node("Conv", "conv", &["input", "w", "b"], "c");
        conv.attribute.push(AttributeProto {
            name: "strides".into(),
            r#type: attribute_type::INTS,
            ints: vec![2, 2],
            ..Default::default()
        });
        conv.attribute.push(AttributeProto {
            name: "auto_pad".into(),
            r#type: attribute_type::STRING,
            s: b"SAME_UPPER".to_vec(),
            ..Default::default()
        });
        let mut bn = node(
            "BatchNormalization",
            "bn",
            &["c", "g", "beta", "m", "v"],
            "y",
        );
        bn.attribute.push(AttributeProto {
            name: "epsilon".into(),
            r#type: attribute_type::FLOAT,
            f: 0.0,
            ..Default::default()
        });
        let g = GraphProto {
            node: vec![conv, bn],
            name: "cnn".into(),
            initializer: vec![
                float_tensor("w", &[1, 1, 2, 2], &[1.0; 4]),
                float_tensor("b", &[1], &[1.0]),
                float_tensor("g", &[1], &[4.0]),
                float_tensor("beta", &[1], &[1.0]),
                float_tensor("m", &[1], &[3.0]),
                float_tensor("v", &[1], &[4.0]),
            ],
            input: vec![value_info("input", &[None, Some(1), Some(3), Some(3)])],
            output: vec![value_info("y", &[None, Some(1), Some(2), Some(2)])],
            ..Default::default()
        };
        let m = ModelProto {
            ir_version: 8,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            graph: Some(g),
            ..Default::default()
        };
        let graph = load_onnx(&m.encode_to_vec()).unwrap();
        // 3 wide, kernel 2, stride 2: 2 outputs need 4 cells, so one pad at the end (SAME_UPPER).
        assert_eq!(graph.nodes.len(), 1);
        assert_eq!(
            graph.nodes[0].op,
            Op::Conv {
                strides: [2, 2],
                pads: [0, 0, 1, 1]
            }
        );
        // BN scale 4 / sqrt(4) = 2: W' = 2, b' = (1 - 3) * 2 + 1 = -3.
        let consts: Vec<&Tensor> = graph.nodes[0].inputs[1..]
            .iter()
            .map(|o| match o {
                Operand::Const(c) => &graph.constants[*c],
                Operand::Value(_) => panic!("weights are constants"),
            })
            .collect();
        assert_eq!(consts[0].data, vec![2.0; 4]);
        assert_eq!(consts[1].data, vec![-3.0]);
        // Windows {1,2,4,5}, {3,6}, {7,8}, {9} of 1..=9, plus bias 1, then 2x - 5.
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        assert_eq!(graph.run_f32(&x).unwrap(), vec![21.0, 15.0, 27.0, 15.0]);
    }

    #[test]
    fn hidden_layer_without_relu_is_unsupported() {
        let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
        m.graph.as_mut().unwrap().node[1].op_type = "Identity".into();
        let g = load_onnx(&m.encode_to_vec()).unwrap();
        let err = crate::FloatMlp::from_graph(&g).unwrap_err();
        assert!(
            matches!(&err, ModelError::Unsupported { op, node, .. } if op == "Gemm" && node == "fc1"),
            "{err:?}"
        );
        let ok = crate::FloatMlp::from_graph(&load_onnx(&model(vec![])).unwrap()).unwrap();
        assert_eq!(
            ok.layers.iter().map(|l| l.relu).collect::<Vec<_>>(),
            vec![true, false]
        );
    }
}
