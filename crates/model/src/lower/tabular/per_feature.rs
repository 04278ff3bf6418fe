//! Reading per-feature chains off the float graph: every value of the preprocessing is traced as
//! a list of [`Feature`]s, each a constant or a chain of scalar steps of one raw feature. Shape
//! plumbing (`Reshape`, `Flatten`, `ArrayFeatureExtractor`, `Concat`) is traced by running the
//! float kernels themselves on tensors of positions, so features move exactly as values do;
//! broadcasting arithmetic by the kernels' own broadcast rule.

use crate::error::{ModelError, Result};
use crate::exec::float::eval;
use crate::exec::kernels::{broadcast_shape, broadcast_to};
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::tabular::chains::{Feature, Step};

/// The features value `value` of `graph` holds, each a constant or a chain of one raw feature;
/// `None` if a step mixes features (a matrix product, arithmetic between two features).
///
/// # Errors
/// [`ModelError::Unsupported`] for a step that is neither (the caller checks the prefix is
/// affine first), and the errors of the float kernels on the graph's shapes.
pub(crate) fn trace(graph: &Graph, value: usize) -> Result<Option<Vec<Feature>>> {
    let input = (0..graph.input_len)
        .map(|input| Feature::Chain {
            input,
            steps: Vec::new(),
        })
        .collect();
    let mut values = vec![(graph.input_shape.clone(), input)];
    for node in graph.nodes.iter().take(value) {
        let operands = node
            .inputs
            .iter()
            .map(|o| operand(graph, &values, *o))
            .collect::<Result<Vec<_>>>()?;
        match node_features(node, &operands)? {
            Some(out) => values.push(out),
            None => return Ok(None),
        }
    }
    match values.pop().filter(|_| values.len() == value) {
        Some((_, features)) => Ok(Some(features)),
        None => Err(ModelError::InvalidGraph(format!(
            "value {value} is not produced by the graph"
        ))),
    }
}

/// A shaped list of features.
type Traced = (Vec<usize>, Vec<Feature>);

fn operand(graph: &Graph, values: &[Traced], o: Operand) -> Result<Traced> {
    let missing =
        || ModelError::InvalidGraph("a preprocessing step reads an undefined value".into());
    match o {
        Operand::Value(v) => values.get(v).cloned().ok_or_else(missing),
        Operand::Const(c) => graph
            .constants
            .get(c)
            .map(|t| {
                (
                    t.shape.clone(),
                    t.data.iter().map(|&v| Feature::Const(v)).collect(),
                )
            })
            .ok_or_else(missing),
    }
}

/// Tensors of positions (`base + i`), one per operand, so the float kernels move positions
/// exactly as they move values (exact in `f32` below `2^24`).
fn positions(operands: &[Traced]) -> Result<Vec<Tensor>> {
    let total: usize = operands.iter().map(|t| t.1.len()).sum();
    if total >= 1 << 24 {
        return Err(ModelError::TooLarge {
            what: "preprocessed features",
            limit: 1 << 24,
            got: total as u64,
        });
    }
    let mut base = 0;
    Ok(operands
        .iter()
        .map(|(shape, f)| {
            let data = (base..base + f.len()).map(|i| i as f32).collect();
            base += f.len();
            Tensor {
                shape: shape.clone(),
                data,
            }
        })
        .collect())
}

fn node_features(node: &Node, operands: &[Traced]) -> Result<Option<Traced>> {
    let all: Vec<&Feature> = operands.iter().flat_map(|t| &t.1).collect();
    let index = positions(operands)?;
    let refs: Vec<&Tensor> = index.iter().collect();
    let pick = |data: &[f32]| {
        data.iter()
            .map(|&i| all[i as usize].clone())
            .collect::<Vec<_>>()
    };
    let not_affine = || ModelError::Unsupported {
        op: node.op_type.clone(),
        node: node.name.clone(),
        reason: "only per-feature affine steps fold into a tree's thresholds".into(),
    };
    match &node.op {
        Op::Identity
        | Op::Flatten { .. }
        | Op::Reshape { .. }
        | Op::SelectFeatures { .. }
        | Op::Concat { .. } => {
            let out = eval(&node.name, &node.op_type, &node.op, &refs)?;
            Ok(Some((out.shape.clone(), pick(&out.data))))
        }
        Op::Scaler { offset, scale } => {
            let (shape, features) = operands.first().cloned().ok_or_else(not_affine)?;
            let width = shape.last().copied().unwrap_or(1).max(1);
            if ![offset.len(), scale.len()]
                .iter()
                .all(|&n| n == 1 || n == width)
            {
                return Err(not_affine());
            }
            let at = |v: &[f32], j: usize| v.get(j).or(v.first()).copied();
            let mut out = Vec::with_capacity(features.len());
            for (i, f) in features.into_iter().enumerate() {
                let (Some(o), Some(s)) = (at(offset, i % width), at(scale, i % width)) else {
                    return Err(not_affine());
                };
                out.push(f.then(Step::Sub(o))?.then(Step::Mul(s))?);
            }
            Ok(Some((shape, out)))
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            let (a, b) = (
                refs.first().ok_or_else(not_affine)?,
                refs.get(1).ok_or_else(not_affine)?,
            );
            let shape = broadcast_shape(&node.name, &a.shape, &b.shape)?;
            let (ia, ib) = (
                broadcast_to(&node.name, a, &shape)?,
                broadcast_to(&node.name, b, &shape)?,
            );
            let mut out = Vec::with_capacity(ia.len());
            for (&i, &j) in ia.iter().zip(&ib) {
                let f = match (all[i as usize], all[j as usize]) {
                    (Feature::Const(x), Feature::Const(y)) => {
                        let r = eval(
                            &node.name,
                            &node.op_type,
                            &node.op,
                            &[&scalar(*x), &scalar(*y)],
                        )?;
                        Feature::Const(r.data.first().copied().unwrap_or(f32::NAN))
                    }
                    (f @ Feature::Chain { .. }, Feature::Const(c)) => {
                        f.clone().then(match node.op {
                            Op::Add => Step::Add(*c),
                            Op::Sub => Step::Sub(*c),
                            Op::Mul => Step::Mul(*c),
                            _ => Step::Div(*c),
                        })?
                    }
                    (Feature::Const(c), f @ Feature::Chain { .. }) => {
                        f.clone().then(match node.op {
                            Op::Add => Step::Add(*c),
                            Op::Sub => Step::SubFrom(*c),
                            Op::Mul => Step::Mul(*c),
                            _ => return Err(not_affine()),
                        })?
                    }
                    _ => return Ok(None),
                };
                out.push(f);
            }
            Ok(Some((shape, out)))
        }
        Op::MatMul | Op::Gemm { .. } => Ok(None),
        _ => Err(not_affine()),
    }
}

fn scalar(v: f32) -> Tensor {
    Tensor {
        shape: vec![1],
        data: vec![v],
    }
}
