//! Tree ensembles lowered to three integer layers: exact threshold comparisons, one row per leaf
//! path, and the leaf scores (see the [module docs](crate::lower::tabular)).

use crate::error::{ModelError, Result};
use crate::ir::tree::{Aggregate, BranchMode, TreeEnsemble, TreeNode};
use crate::lower::tabular::head::{quantize_bias, Head, IDENTITY_MULTIPLIER, STEP_MULTIPLIER};
use crate::lower::tabular::paths::{Bits, LeafPath, Literal, PathLayers};
use crate::lower::tabular::splits::Condition;
use crate::quant::encoding::{InputEncoding, MAX_CUTS_PER_FEATURE};
use crate::quant::model::{QuantizedDense, QuantizedModel};

fn tree_error(reason: String) -> ModelError {
    ModelError::Unsupported {
        op: "TreeEnsemble".into(),
        node: "(lowering)".into(),
        reason,
    }
}

/// How a tree ensemble's path layer is shaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathShape {
    /// Whichever of the two the layout makes cheaper (what [`lower_trees`] does).
    Cheapest,
    /// One dense layer over all comparisons (shared splits counted once).
    Dense,
    /// One block-diagonal group per tree, over that tree's own comparisons.
    PerTree,
}

/// Lowers a tree ensemble to comparison, path and score layers (see the [module docs](self)),
/// with the cheaper path-layer shape.
///
/// # Errors
/// See [`lower_graph`](crate::lower::tabular::lower_graph).
pub(crate) fn lower_trees(t: &TreeEnsemble) -> Result<QuantizedModel> {
    lower_trees_with(t, PathShape::Cheapest)
}

/// [`lower_trees`] with a chosen path-layer shape.
///
/// # Errors
/// See [`lower_graph`](crate::lower::tabular::lower_graph).
pub fn lower_trees_with(t: &TreeEnsemble, shape: PathShape) -> Result<QuantizedModel> {
    lower_trees_over(t, shape, t.n_features, Condition::direct)
}

/// Lowers a tree ensemble whose branches are decided on `width` encoded inputs: `split(f, mode,
/// t)` is the condition of the branch `feature f ⋚ t` over them (the feature itself for a plain
/// ensemble; a raw feature behind folded preprocessing). The model's encoding is
/// [`InputEncoding::Thresholds`] over the encoded inputs, their cuts being every range end.
///
/// # Errors
/// See [`lower_graph`](crate::lower::tabular::lower_graph).
pub(crate) fn lower_trees_over(
    t: &TreeEnsemble,
    shape: PathShape,
    width: usize,
    split: impl Fn(usize, BranchMode, f32) -> Condition,
) -> Result<QuantizedModel> {
    t.validate()?;
    let head = Head::of_trees(t)?;
    // every branch's condition, then per encoded input its sorted distinct cuts
    let mut conditions: Vec<Vec<Option<Condition>>> = Vec::with_capacity(t.trees.len());
    for tree in &t.trees {
        let mut row = Vec::with_capacity(tree.nodes.len());
        for node in &tree.nodes {
            row.push(match *node {
                TreeNode::Branch {
                    feature,
                    mode,
                    threshold,
                    ..
                } if feature < t.n_features => Some(split(feature, mode, threshold)),
                TreeNode::Branch { feature, .. } => {
                    return Err(tree_error(format!("feature {feature} out of range")))
                }
                TreeNode::Leaf { .. } => None,
            });
        }
        conditions.push(row);
    }
    let mut cuts: Vec<Vec<f32>> = vec![Vec::new(); width];
    for (input, v) in conditions
        .iter()
        .flatten()
        .flatten()
        .flat_map(Condition::cuts)
    {
        cuts.get_mut(input)
            .ok_or_else(|| tree_error(format!("encoded input {input} out of range")))?
            .push(v);
    }
    for (f, c) in cuts.iter_mut().enumerate() {
        c.sort_by(f32::total_cmp);
        c.dedup();
        if c.len() > MAX_CUTS_PER_FEATURE {
            return Err(tree_error(format!(
                "feature {f} is split at {} distinct thresholds; at most {MAX_CUTS_PER_FEATURE} fit \
                 the exact int8 encoding",
                c.len()
            )));
        }
    }
    // per tree: its comparison bits (local indices) and its leaves with their path literals
    let mut trees: Vec<(Bits, Vec<LeafPath>)> = Vec::with_capacity(t.trees.len());
    for (ti, tree) in t.trees.iter().enumerate() {
        let mut bits = Bits::default();
        let mut leaves = Vec::new();
        let mut stack = vec![(0usize, Vec::<Literal>::new())];
        while let Some((ni, path)) = stack.pop() {
            match tree.nodes.get(ni) {
                Some(TreeNode::Leaf { .. }) => leaves.push((ni, path)),
                Some(&TreeNode::Branch {
                    true_child,
                    false_child,
                    ..
                }) => {
                    let condition = conditions[ti][ni].as_ref().ok_or_else(|| {
                        tree_error(format!("tree {ti} node {ni} has no condition"))
                    })?;
                    let holds = Literal::of(condition, &cuts, &mut bits);
                    let mut on_true = path.clone();
                    let mut on_false = path;
                    on_false.push(holds.negated());
                    on_true.push(holds);
                    stack.push((false_child, on_false));
                    stack.push((true_child, on_true));
                }
                None => return Err(tree_error(format!("tree {ti} has no node {ni}"))),
            }
        }
        leaves.sort_by_key(|&(ni, _)| ni);
        trees.push((bits, leaves));
    }
    if trees.iter().all(|(bits, _)| bits.order.is_empty()) {
        return Err(tree_error("the ensemble has no split to prove".into()));
    }
    let grouped = PathLayers::grouped(&trees, width)?;
    let dense = PathLayers::dense(&trees, width)?;
    let paths = match shape {
        PathShape::PerTree => grouped,
        PathShape::Dense => dense,
        PathShape::Cheapest if grouped.cost(width) < dense.cost(width) => grouped,
        PathShape::Cheapest => dense,
    };
    let PathLayers {
        w1,
        b1,
        w2,
        b2,
        groups,
        leaf_nodes,
    } = paths;
    let n_bits = b1.len();
    let n_leaves = b2.len();
    // layer 3: scores
    let divisor = match t.aggregate {
        Aggregate::Sum => 1.0,
        Aggregate::Average => t.trees.len().max(1) as f64,
    };
    let cols = match head {
        Head::Columns => t.n_targets,
        Head::Binary { .. } => 2,
    };
    let column = |c: usize| match head {
        Head::Columns => Some(c),
        Head::Binary { column, .. } => (c == 1).then_some(column),
    };
    let mut values = vec![0f64; cols * n_leaves]; // [col][leaf]
    for (li, &(ti, ni)) in leaf_nodes
        .iter()
        .enumerate()
        .filter_map(|(li, x)| x.as_ref().map(|x| (li, x)))
    {
        if let Some(TreeNode::Leaf { values: vs }) = t.trees[ti].nodes.get(ni) {
            for &(target, w) in vs {
                for c in 0..cols {
                    if column(c) == Some(target) {
                        values[c * n_leaves + li] += f64::from(w) / divisor;
                    }
                }
            }
        }
    }
    let base: Vec<f64> = (0..cols)
        .map(|c| match (head, column(c)) {
            (Head::Binary { cut, .. }, None) => cut,
            (_, Some(target)) => t.base_values.get(target).map_or(0.0, |&b| f64::from(b)),
            (Head::Columns, None) => 0.0,
        })
        .collect();
    let max = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    let s = if max > 0.0 { max / 127.0 } else { 1.0 };
    let w3: Vec<i8> = values
        .iter()
        .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let b3 = base
        .iter()
        .enumerate()
        .map(|(i, b)| quantize_bias(255.0 * b / s, 2, i))
        .collect::<Result<Vec<_>>>()?;

    Ok(QuantizedModel {
        name: String::new(),
        input_len: width,
        input_scale: 1.0,
        input_encoding: InputEncoding::Thresholds { cuts },
        layers: vec![
            QuantizedDense {
                n_in: width,
                n_out: n_bits,
                weights: w1,
                bias: b1,
                multiplier: Some(STEP_MULTIPLIER),
                groups: 1,
                conv: None,
                patch: None,
                table: None,
            },
            QuantizedDense {
                n_in: n_bits,
                n_out: n_leaves,
                weights: w2,
                bias: b2,
                multiplier: Some(IDENTITY_MULTIPLIER),
                groups,
                conv: None,
                patch: None,
                table: None,
            },
            QuantizedDense {
                n_in: n_leaves,
                n_out: cols,
                weights: w3,
                bias: b3,
                multiplier: None,
                groups: 1,
                conv: None,
                patch: None,
                table: None,
            },
        ],
        output_scale: s / 255.0,
        classifier: t.classes.is_some(),
        proof_batch: None,
    })
}
