//! ONNX import: protobuf bytes → [`Graph`].
//!
//! The importer decodes the model with limits, refuses cyclic graphs, keeps only the nodes that feed the
//! chosen output, folds every node whose inputs are all constants, and maps each remaining ONNX node to
//! an [`Op`]. Unsupported ops are an error naming the op type and the node.

use std::collections::{HashMap, VecDeque};

use prost::Message;

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
        for i in order {
            if needed.get(i) == Some(&true) {
                if let Some(n) = self.graph.node.get(i) {
                    self.import_node(i, n)?;
                }
            }
        }

        let output = match self.env.get(&output_name) {
            Some(Operand::Value(v)) => *v,
            Some(Operand::Const(_)) => {
                return Err(ModelError::InvalidGraph(format!(
                    "output `{output_name}` does not depend on the input"
                )))
            }
            None => {
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
        let (logits, classifier) = find_logits(&self.nodes, output);
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
        let out = n
            .output
            .first()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| ModelError::InvalidGraph(format!("node `{name}` has no output")))?;
        let standard = n.domain.is_empty() || n.domain == "ai.onnx";
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
            _ => return Err(unsupported("op not supported by glassbox")),
        };
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
                .insert(out.clone(), Operand::Const(self.constants.len() - 1));
        } else {
            self.nodes.push(Node {
                name,
                op_type,
                op,
                inputs,
            });
            self.env
                .insert(out.clone(), Operand::Value(self.nodes.len()));
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
