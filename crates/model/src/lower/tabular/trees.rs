//! Tree ensembles lowered to three integer layers: exact threshold comparisons, one row per leaf
//! path, and the leaf scores (see the [module docs](crate::lower::tabular)).

use std::collections::BTreeMap;

use crate::error::{ModelError, Result};
use crate::ir::tree::{Aggregate, BranchMode, TreeEnsemble, TreeNode};
use crate::lower::tabular::head::{quantize_bias, Head, IDENTITY_MULTIPLIER, STEP_MULTIPLIER};
use crate::quant::encoding::{threshold_code, InputEncoding, MAX_CUTS_PER_FEATURE};
use crate::quant::model::{QuantizedDense, QuantizedModel};

/// A path condition: `constant + Σ coef·bit/255 ∈ {0, 1}`.
#[derive(Debug, Clone, Default)]
struct Literal {
    constant: i64,
    terms: Vec<(usize, i64)>,
}

impl Literal {
    fn negated(&self) -> Self {
        Self {
            constant: 1 - self.constant,
            terms: self.terms.iter().map(|&(b, c)| (b, -c)).collect(),
        }
    }
}

/// A leaf's node index and the literals of its path.
type LeafPath = (usize, Vec<Literal>);

/// The comparison bits `(feature, K)` in first-use order.
#[derive(Default)]
struct Bits {
    index: BTreeMap<(usize, i64), usize>,
    order: Vec<(usize, i64)>,
}

impl Bits {
    fn get(&mut self, feature: usize, k: i64) -> usize {
        *self.index.entry((feature, k)).or_insert_with(|| {
            self.order.push((feature, k));
            self.order.len() - 1
        })
    }
}

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
    t.validate()?;
    let head = Head::of_trees(t)?;
    // per-feature sorted distinct thresholds
    let mut cuts: Vec<Vec<f32>> = vec![Vec::new(); t.n_features];
    for node in t.trees.iter().flat_map(|tr| &tr.nodes) {
        if let TreeNode::Branch {
            feature, threshold, ..
        } = node
        {
            let c = cuts
                .get_mut(*feature)
                .ok_or_else(|| tree_error(format!("feature {feature} out of range")))?;
            c.push(*threshold);
        }
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
                    feature,
                    mode,
                    threshold,
                    true_child,
                    false_child,
                }) => {
                    let c = &cuts[feature];
                    let i = c.partition_point(|&v| v < threshold);
                    let bit = |bits: &mut Bits, strict: bool| {
                        bits.get(feature, threshold_code(i, strict))
                    };
                    let positive = |b: usize| Literal {
                        constant: 0,
                        terms: vec![(b, 1)],
                    };
                    let holds = match mode {
                        BranchMode::Gte => positive(bit(&mut bits, false)),
                        BranchMode::Gt => positive(bit(&mut bits, true)),
                        BranchMode::Lt => positive(bit(&mut bits, false)).negated(),
                        BranchMode::Leq => positive(bit(&mut bits, true)).negated(),
                        BranchMode::Eq | BranchMode::Neq => {
                            let ge = bit(&mut bits, false);
                            let gt = bit(&mut bits, true);
                            let eq = Literal {
                                constant: 0,
                                terms: vec![(ge, 1), (gt, -1)],
                            };
                            if mode == BranchMode::Eq {
                                eq
                            } else {
                                eq.negated()
                            }
                        }
                    };
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
    let grouped = PathLayers::grouped(&trees, t.n_features)?;
    let dense = PathLayers::dense(&trees, t.n_features)?;
    let paths = match shape {
        PathShape::PerTree => grouped,
        PathShape::Dense => dense,
        PathShape::Cheapest if grouped.cost(t.n_features) < dense.cost(t.n_features) => grouped,
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
        input_len: t.n_features,
        input_scale: 1.0,
        input_encoding: InputEncoding::Thresholds { cuts },
        layers: vec![
            QuantizedDense {
                n_in: t.n_features,
                n_out: n_bits,
                weights: w1,
                bias: b1,
                multiplier: Some(STEP_MULTIPLIER),
                groups: 1,
                conv: None,
                patch: None,
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
            },
        ],
        output_scale: s / 255.0,
        classifier: t.classes.is_some(),
        proof_batch: None,
    })
}

/// The comparison and path layers of a tree ensemble, in one of two shapes.
struct PathLayers {
    w1: Vec<i8>,
    b1: Vec<i64>,
    w2: Vec<i8>,
    b2: Vec<i64>,
    groups: usize,
    /// The `(tree, node)` behind every leaf slot (`None` for padding).
    leaf_nodes: Vec<Option<(usize, usize)>>,
}

impl PathLayers {
    /// Proving cost estimate in main-trace cells at a batch of 64, following the layout: a
    /// layer's weights fill `next_pow2(n_in) × n_out / groups` cells, and every sample pays six
    /// cells per padded hidden activation.
    fn cost(&self, n_features: usize) -> usize {
        let (bits, leaves) = (self.b1.len(), self.b2.len());
        let weights = n_features.next_power_of_two() * bits
            + bits.next_power_of_two() * (leaves / self.groups.max(1));
        weights + 64 * 6 * (bits.next_power_of_two() + leaves.next_power_of_two())
    }

    /// Dense: comparisons shared by all trees (each distinct `(feature, K)` once), every leaf
    /// tested against all of them. Best for a few deep trees.
    fn dense(trees: &[(Bits, Vec<LeafPath>)], n_features: usize) -> Result<Self> {
        let mut all = Bits::default();
        let remap: Vec<Vec<usize>> = trees
            .iter()
            .map(|(bits, _)| bits.order.iter().map(|&(f, k)| all.get(f, k)).collect())
            .collect();
        let n_bits = all.order.len();
        let (mut w1, mut b1) = (vec![0i8; n_bits * n_features], vec![0i64; n_bits]);
        for (row, &(f, k)) in all.order.iter().enumerate() {
            w1[row * n_features + f] = 1;
            b1[row] = 129 - k;
        }
        let (mut w2, mut b2, mut leaf_nodes) = (Vec::new(), Vec::new(), Vec::new());
        for (ti, (_, leaves)) in trees.iter().enumerate() {
            for (ni, path) in leaves {
                let (row, bias) = path_row(path, n_bits, |b| remap[ti][b])?;
                w2.extend(row);
                b2.push(bias);
                leaf_nodes.push(Some((ti, *ni)));
            }
        }
        Ok(Self {
            w1,
            b1,
            w2,
            b2,
            groups: 1,
            leaf_nodes,
        })
    }

    /// Grouped: one group per tree with `b` comparison slots (a power of two, as grouped layers
    /// need) and `m` leaf slots, so the path layer costs `Σ bits × leaves` over trees. Unused
    /// comparison slots compute 0; unused leaf slots (bias −255) are never reached. Best for
    /// many shallow trees.
    fn grouped(trees: &[(Bits, Vec<LeafPath>)], n_features: usize) -> Result<Self> {
        let b = trees
            .iter()
            .map(|(bits, _)| bits.order.len())
            .max()
            .unwrap_or(1)
            .max(1)
            .next_power_of_two();
        let m = trees.iter().map(|(_, l)| l.len()).max().unwrap_or(1);
        let (n_bits, n_leaves) = (trees.len() * b, trees.len() * m);
        let (mut w1, mut b1) = (vec![0i8; n_bits * n_features], vec![0i64; n_bits]);
        let (mut w2, mut b2) = (vec![0i8; n_leaves * b], vec![-255i64; n_leaves]);
        let mut leaf_nodes = vec![None; n_leaves];
        for (ti, (bits, leaves)) in trees.iter().enumerate() {
            for (slot, &(f, k)) in bits.order.iter().enumerate() {
                let row = ti * b + slot;
                w1[row * n_features + f] = 1;
                b1[row] = 129 - k;
            }
            for (slot, (ni, path)) in leaves.iter().enumerate() {
                let row = ti * m + slot;
                let (weights, bias) = path_row(path, b, |bit| bit)?;
                w2[row * b..(row + 1) * b].copy_from_slice(&weights);
                b2[row] = bias;
                leaf_nodes[row] = Some((ti, *ni));
            }
        }
        Ok(Self {
            w1,
            b1,
            w2,
            b2,
            groups: trees.len(),
            leaf_nodes,
        })
    }
}

/// One path neuron: ±1 weights over `width` bits (`index` maps a tree's bit to its column) and
/// the bias `255·(Σ constants − D + 1)`.
fn path_row(
    path: &[Literal],
    width: usize,
    index: impl Fn(usize) -> usize,
) -> Result<(Vec<i8>, i64)> {
    let mut row = vec![0i8; width];
    let mut constant = 0i64;
    for lit in path {
        constant += lit.constant;
        for &(bit, c) in &lit.terms {
            let w = &mut row[index(bit)];
            *w = i8::try_from(i64::from(*w) + c).map_err(|_| {
                tree_error("a path tests one comparison more than 127 times".into())
            })?;
        }
    }
    Ok((row, 255 * (constant - path.len() as i64 + 1)))
}
