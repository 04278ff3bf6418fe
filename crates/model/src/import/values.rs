//! The importer's values: operands (runtime values and constants), their shapes (found by running
//! the imported nodes on zeros), and appending or constant-folding a parsed node.

use crate::error::{ModelError, Result};
use crate::exec::float::eval;
use crate::import::attrs::{op_label, unsupported_op};
use crate::import::constants::{tensor_f32, tensor_i64};
use crate::import::loader::{label_error, Importer};
use crate::import::onnx::NodeProto;
use crate::ir::graph::{element_count, Node, Op, Operand, Tensor};

impl<'a> Importer<'a> {
    pub(crate) fn operand(&mut self, name: &str, node: &str) -> Result<Operand> {
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

    pub(crate) fn const_i64(&self, name: &str, node: &str) -> Result<Vec<i64>> {
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

    /// Shape of runtime value `v`, computing (and memoizing) the shapes of all earlier values by
    /// running the imported nodes on zeros. Total work over an import: at most one inference.
    pub(crate) fn value_shape(&mut self, v: usize) -> Result<Vec<usize>> {
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

    pub(crate) fn operand_shape(&mut self, operand: Operand) -> Result<Vec<usize>> {
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
    pub(crate) fn const_input(
        &mut self,
        n: &NodeProto,
        k: usize,
        node: &str,
        what: &str,
    ) -> Result<Tensor> {
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

    /// Resolves the node's operands and appends it (or folds it if all operands are constant).
    pub(crate) fn push_node(
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
