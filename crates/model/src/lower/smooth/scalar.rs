//! A scalar function read off the float graph: the elementwise ops between a dense layer and the
//! next (`Sigmoid`, `Tanh`, the `Erf` form of GELU, `x·Sigmoid(x)`, `HardSwish`, …), kept as the
//! graph's own nodes so that evaluating it is evaluating the graph.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::exec::float::eval;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};

/// A function `R → R` given by elementwise graph nodes: operand `Value(0)` is the argument,
/// `Value(k)` the output of `nodes[k − 1]`, `Const(c)` the scalar `constants[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarFn {
    /// The nodes, in order; the last one's output is the function's value.
    pub nodes: Vec<Node>,
    /// Their scalar constants.
    pub constants: Vec<Tensor>,
}

/// Whether `op` acts elementwise (with scalar constants).
fn is_elementwise(op: &Op) -> bool {
    matches!(
        op,
        Op::Unary(_)
            | Op::Relu
            | Op::Clip { .. }
            | Op::LeakyRelu { .. }
            | Op::Identity
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
    )
}

impl ScalarFn {
    /// A scalar function from nodes (`(op, operands)` in order) and scalar constants.
    pub(crate) fn from_ops(nodes: Vec<(Op, Vec<Operand>)>, constants: Vec<f32>) -> Self {
        Self {
            nodes: nodes
                .into_iter()
                .map(|(op, inputs)| Node {
                    name: op.name().into(),
                    op_type: op.name().into(),
                    op,
                    inputs,
                })
                .collect(),
            constants: constants
                .into_iter()
                .map(|v| Tensor {
                    shape: vec![],
                    data: vec![v],
                })
                .collect(),
        }
    }

    /// `f + c`: the function with one more node adding the scalar `c`.
    pub(crate) fn plus(&self, c: f32) -> Self {
        let mut out = self.clone();
        let last = Operand::Value(out.nodes.len());
        out.constants.push(Tensor {
            shape: vec![],
            data: vec![c],
        });
        let op = Op::Add;
        out.nodes.push(Node {
            name: "shift".into(),
            op_type: op.name().into(),
            op,
            inputs: vec![last, Operand::Const(out.constants.len() - 1)],
        });
        out
    }

    /// The shift `c ≥ 0` that makes `f + c` non-negative (`None` if `f` already is), from `f`'s
    /// minimum over `[−32, 32]`.
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`] if that minimum is at an end of the range (`f` may be
    /// unbounded below), or an evaluation error.
    pub(crate) fn nonnegative_shift(&self) -> Result<Option<f32>> {
        const PROBES: usize = 4096;
        let points: Vec<f32> = (0..=PROBES)
            .map(|i| -32.0 + 64.0 * i as f32 / PROBES as f32)
            .collect();
        let y = self.eval_many(&points)?;
        let min = y.iter().copied().fold(f32::INFINITY, f32::min);
        // still falling at an end of the range (beyond a flat tail's rounding): no lower bound
        let tol = 1e-5 * y.iter().fold(1f32, |m, v| m.max(v.abs()));
        let falls = y[0] < y[PROBES / 8] - tol || y[PROBES] < y[PROBES - PROBES / 8] - tol;
        if !min.is_finite() || (min < 0.0 && falls) {
            return Err(ModelError::InvalidModel(format!(
                "{} is not bounded below, so no shift makes it non-negative before a pool",
                self.describe()
            )));
        }
        Ok((min < 0.0).then_some(-min))
    }

    /// The ops in order, for messages (`Div → Erf → Add → Mul → Mul`).
    pub fn describe(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.op.name())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// The function at every point of `x`, in one pass.
    ///
    /// # Errors
    /// Errors of the float kernels.
    pub fn eval_many(&self, x: &[f32]) -> Result<Vec<f32>> {
        let mut values = vec![Tensor::new(vec![x.len()], x.to_vec())?];
        for node in &self.nodes {
            let args = node
                .inputs
                .iter()
                .map(|o| match *o {
                    Operand::Value(v) => values.get(v),
                    Operand::Const(c) => self.constants.get(c),
                })
                .collect::<Option<Vec<&Tensor>>>()
                .ok_or_else(|| ModelError::InvalidGraph("dangling operand".into()))?;
            let out = eval(&node.name, &node.op_type, &node.op, &args)?;
            values.push(out);
        }
        values
            .pop()
            .map(|t| t.data)
            .ok_or_else(|| ModelError::InvalidModel("empty function".into()))
    }

    /// The elementwise region of `graph` that starts at node `start` and reads value `arg` (the
    /// output of a dense layer): the longest run of elementwise nodes whose values come from
    /// `arg`, the run itself, or scalar constants. `None` if node `start` is not elementwise or the
    /// run is a lone `Relu` among identities (an ordinary ReLU layer). Returns the function and the index of the first
    /// node after the run (its output value is that index).
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a non-scalar constant inside the run.
    pub(crate) fn region(graph: &Graph, start: usize, arg: usize) -> Result<Option<(Self, usize)>> {
        let mut map = vec![(arg, 0usize)]; // graph value → local value
        let mut nodes = Vec::new();
        let mut constants: Vec<Tensor> = Vec::new();
        let mut end = start;
        'scan: for (k, node) in graph.nodes.iter().enumerate().skip(start) {
            if !is_elementwise(&node.op) {
                break;
            }
            let mut inputs = Vec::with_capacity(node.inputs.len());
            for operand in &node.inputs {
                match *operand {
                    Operand::Value(v) => match map.iter().find(|(g, _)| *g == v) {
                        Some(&(_, local)) => inputs.push(Operand::Value(local)),
                        None => break 'scan,
                    },
                    Operand::Const(c) => {
                        let t = graph
                            .constants
                            .get(c)
                            .ok_or_else(|| ModelError::InvalidGraph("dangling constant".into()))?;
                        if t.len() != 1 {
                            return Err(ModelError::Unsupported {
                                op: node.op_type.clone(),
                                node: node.name.clone(),
                                reason: "an activation must use scalar constants only (the same \
                                         function for every neuron)"
                                    .into(),
                            });
                        }
                        constants.push(Tensor::new(vec![], t.data.clone())?);
                        inputs.push(Operand::Const(constants.len() - 1));
                    }
                }
            }
            nodes.push(Node {
                inputs,
                ..node.clone()
            });
            map.push((k + 1, nodes.len()));
            end = k + 1;
        }
        // identities around a ReLU (or nothing at all) are no smooth activation
        let mut essential = nodes.iter().filter(|n| n.op != Op::Identity);
        let plain = match essential.next() {
            None => true,
            Some(n) => n.op == Op::Relu && essential.next().is_none(),
        };
        if plain {
            return Ok(None);
        }
        Ok(Some((Self { nodes, constants }, end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::unary::Unary;

    #[test]
    fn silu_is_read_as_one_function() {
        let node = |op: Op, inputs: Vec<Operand>| Node {
            name: op.name().into(),
            op_type: op.name().into(),
            op,
            inputs,
        };
        // x · sigmoid(x)
        let f = ScalarFn {
            nodes: vec![
                node(Op::Unary(Unary::Sigmoid), vec![Operand::Value(0)]),
                node(Op::Mul, vec![Operand::Value(0), Operand::Value(1)]),
            ],
            constants: vec![],
        };
        let y = f.eval_many(&[0.0, 1.0, -2.0]).unwrap_or_default();
        let silu = |x: f32| x / (1.0 + (-x).exp());
        for (v, x) in y.iter().zip([0.0f32, 1.0, -2.0]) {
            assert!((v - silu(x)).abs() < 1e-6);
        }
        assert_eq!(f.describe(), "Sigmoid → Mul");
    }
}
