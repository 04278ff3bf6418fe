//! Lowering of classic tabular models ([`TreeEnsemble`], [`LinearModel`]) to the integer dense
//! layers the proof checks, so they get the same digest binding, batching and hardening as MLPs.
//!
//! # Tree ensembles: three layers, exact comparisons
//! Features are encoded with [`InputEncoding::Thresholds`]: feature `f`'s code is
//! `2·#{c < x} + [x ∈ c] − 128` over its sorted distinct split thresholds `c`, so every split
//! `x ⋚ c_i` becomes `code ≥ K` for an integer `K` ([`threshold_code`]).
//! 1. **Comparisons.** One neuron per distinct `(feature, K)` (per tree in the grouped shape): `acc = q_f + 129 − K` with the step
//!    multiplier `M = 255·2^16`, so the activation is `255·[code ≥ K]` (a *bit*).
//! 2. **Paths.** One neuron per leaf: its path's conditions are literals `c + Σ ±bit/255` (`<=`, `<`,
//!    `>=`, `>` use one bit, `==`/`!=` the difference of two), and with `D` conditions
//!    `acc = Σ ±bit + 255·(Σc − D + 1)` and `M = 2^16` (identity), so the activation is 255 exactly
//!    when every condition holds (the leaf is reached) and 0 otherwise. Two shapes, whichever
//!    the layout would give fewer cells at a batch of 64: *dense* (comparisons shared by all trees, every leaf
//!    reads all of them; best for a few deep trees) or *grouped* (a block-diagonal layer with one
//!    group per tree, comparisons padded to a power of two and leaves to the largest tree; it
//!    costs `Σ_trees bits × leaves`, best for many shallow trees).
//! 3. **Scores.** The output layer sums the reached leaves' values (int8, one scale for the whole
//!    ensemble) into one score per class or target: `out = 255·Σ value_q + bias`.
//!
//! The weights (which feature each comparison reads, the path structure, the leaf values) are
//! committed by the model digest like any weights. The comparison constants `129 − K` are biases,
//! public in the descriptor; they are codes (ranks), not the float thresholds, which stay in the
//! prover's artifact.
//!
//! # Linear models: one layer
//! Features are encoded with [`InputEncoding::Affine`] (calibrated per-feature range mapped to
//! `−127..=127`) and the per-feature steps and offsets are folded into the int8 weights and the
//! bias.
//!
//! # Labels
//! The outputs are a *decision vector* whose first maximum is the label, for every
//! `post_transform` that preserves the order of scores (`NONE`, `SOFTMAX`, `LOGISTIC`, `PROBIT`).
//! A binary classifier with a single score column `v` gets the outputs `[T, v]`, where `T` is
//! onnxruntime's cut (`0.5` for `NONE` with non-negative leaf weights, else `0`).

use std::collections::BTreeMap;

use crate::classic::{Aggregate, BranchMode, LinearModel, PostTransform, TreeEnsemble, TreeNode};
use crate::encoding::{threshold_code, InputEncoding, MAX_CUTS_PER_FEATURE};
use crate::error::{ModelError, Result};
use crate::fidelity::{fidelity_against, FidelityReport};
use crate::graph::{Graph, Op, Operand};
use crate::quant::{QuantizedDense, QuantizedModel, BIAS_LIMIT, MULTIPLIER_SHIFT};

/// The step multiplier of comparison layers: `acc >= 1 ↦ 255`, `acc <= 0 ↦ 0`.
pub const STEP_MULTIPLIER: u32 = 255 << MULTIPLIER_SHIFT;
/// The identity multiplier of path layers (`t = acc`).
pub const IDENTITY_MULTIPLIER: u32 = 1 << MULTIPLIER_SHIFT;

/// A classic model found in a graph.
#[derive(Debug, Clone, Copy)]
pub enum ClassicModel<'a> {
    /// A tree ensemble.
    Trees(&'a TreeEnsemble),
    /// A linear model.
    Linear(&'a LinearModel),
}

impl<'a> ClassicModel<'a> {
    /// The classic model that produces the graph's logits, if the graph has one.
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] if it does not read the graph input directly (e.g. behind a
    /// `Scaler`).
    pub fn find(graph: &'a Graph) -> Result<Option<Self>> {
        let Some(node) = graph.logits.checked_sub(1).and_then(|k| graph.nodes.get(k)) else {
            return Ok(None);
        };
        let model = match &node.op {
            Op::TreeEnsemble(t) => Self::Trees(t),
            Op::Linear(l) => Self::Linear(l),
            _ => return Ok(None),
        };
        if node.inputs.first() != Some(&Operand::Value(0)) {
            return Err(ModelError::Unsupported {
                op: node.op_type.clone(),
                node: node.name.clone(),
                reason: "a classic model must read the graph input directly (no Scaler or \
                         other preprocessing in front of it yet)"
                    .into(),
            });
        }
        Ok(Some(model))
    }

    /// The float decision vector whose first maximum is the label (see the [module docs](self)).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] or [`ModelError::NonFinite`] for a bad sample, or an unsupported
    /// `post_transform`.
    pub fn decision(&self, x: &[f32]) -> Result<Vec<f64>> {
        self.check_input(x)?;
        let (raw, head) = match self {
            Self::Trees(t) => (t.raw_scores(x), Head::of_trees(t)?),
            Self::Linear(l) => (l.raw_scores(x), Head::of_linear(l)?),
        };
        Ok(head.apply(&raw))
    }

    fn check_input(&self, x: &[f32]) -> Result<()> {
        let expected = match self {
            Self::Trees(t) => t.n_features,
            Self::Linear(l) => l.n_features,
        };
        if x.len() != expected {
            return Err(ModelError::InputLength {
                expected,
                got: x.len(),
            });
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "input sample".into(),
            });
        }
        Ok(())
    }

    /// The label index (into the class list) onnxruntime reports, from the float model.
    ///
    /// # Errors
    /// As [`ClassicModel::decision`].
    pub fn label(&self, x: &[f32]) -> Result<usize> {
        self.check_input(x)?;
        Ok(match self {
            Self::Trees(t) => t.label(x),
            Self::Linear(l) => l.label(x),
        })
    }
}

/// How raw score columns become the decision vector.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Head {
    /// The raw columns as they are (multi-class, regressors).
    Columns,
    /// Binary classifier deciding on one score column `v`: `[cut, v]`.
    Binary {
        /// The score at which onnxruntime switches to class 1 (strictly above).
        cut: f64,
        /// The score column the decision reads.
        column: usize,
    },
}

impl Head {
    fn of_trees(t: &TreeEnsemble) -> Result<Self> {
        let leaves = || {
            t.trees
                .iter()
                .flat_map(|tr| &tr.nodes)
                .filter_map(|n| match n {
                    TreeNode::Leaf { values } => Some(values),
                    TreeNode::Branch { .. } => None,
                })
        };
        if t.classes.as_ref().is_none_or(|c| c.len() != 2) {
            return order_preserving(t.post_transform).map(|()| Self::Columns);
        }
        // onnxruntime's binary rules: the label is class 1 when the score of the voted column
        // (column 1 if any leaf votes for it, else column 0) exceeds 0.5 for non-negative votes
        // in a single column, 0 otherwise
        let votes = |c: usize| leaves().any(|v| v.iter().any(|&(col, _)| col == c));
        let non_negative = leaves().all(|v| v.iter().all(|&(_, w)| w >= 0.0));
        let (column, single) = if votes(1) { (1, !votes(0)) } else { (0, true) };
        if t.post_transform == PostTransform::Probit {
            return Err(unsupported_transform(t.post_transform));
        }
        let cut = if single && non_negative { 0.5 } else { 0.0 };
        Ok(Self::Binary { cut, column })
    }

    fn of_linear(l: &LinearModel) -> Result<Self> {
        match &l.classes {
            Some(c) if c.len() == 2 && l.n_targets == 1 => match l.post_transform {
                PostTransform::None | PostTransform::Logistic | PostTransform::Probit => {
                    Ok(Self::Binary {
                        cut: 0.0,
                        column: 0,
                    })
                }
                other => Err(unsupported_transform(other)),
            },
            _ => order_preserving(l.post_transform).map(|()| Self::Columns),
        }
    }

    fn apply(self, raw: &[f32]) -> Vec<f64> {
        match self {
            Self::Columns => raw.iter().map(|&v| f64::from(v)).collect(),
            Self::Binary { cut, column } => {
                vec![cut, raw.get(column).map_or(0.0, |&v| f64::from(v))]
            }
        }
    }
}

fn order_preserving(p: PostTransform) -> Result<()> {
    match p {
        PostTransform::SoftmaxZero => Err(unsupported_transform(p)),
        _ => Ok(()),
    }
}

fn unsupported_transform(p: PostTransform) -> ModelError {
    ModelError::Unsupported {
        op: "post_transform".into(),
        node: format!("{p:?}"),
        reason: "the label would not be the first maximum of the scores".into(),
    }
}

/// Lowers the classic model of `graph`, if it has one; `Ok(None)` for other graphs.
///
/// Calibration samples set the linear models' per-feature ranges (trees need none) and give the
/// fidelity report (label agreement with the float model and the score error).
///
/// # Errors
/// [`ModelError::Unsupported`] for what the lowering cannot express (a feature with more than
/// [`MAX_CUTS_PER_FEATURE`] thresholds, `MIN`/`MAX` aggregation, a path weight outside int8),
/// [`ModelError::BiasOverflow`], and errors of the float model on calibration samples.
pub fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    let Some(model) = ClassicModel::find(graph)? else {
        return Ok(None);
    };
    let samples = calibration.filter(|c| !c.is_empty());
    let mut q = match model {
        ClassicModel::Trees(t) => lower_trees(t)?,
        ClassicModel::Linear(l) => lower_linear(l, samples)?,
    };
    q.name.clone_from(&graph.name);
    q.validate()?;
    let report = samples
        .map(|s| classic_fidelity(&model, &q, s))
        .transpose()?;
    Ok(Some((q, report)))
}

/// Label agreement and score error of `q` against the float `model` on `data`.
///
/// # Errors
/// [`ModelError::InvalidModel`] for an empty data set; evaluation errors of either model.
pub fn classic_fidelity(
    model: &ClassicModel<'_>,
    q: &QuantizedModel,
    data: &[Vec<f32>],
) -> Result<FidelityReport> {
    fidelity_against(q, data, |x| model.decision(x))
}

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
/// See [`lower_graph`].
pub fn lower_trees(t: &TreeEnsemble) -> Result<QuantizedModel> {
    lower_trees_with(t, PathShape::Cheapest)
}

/// [`lower_trees`] with a chosen path-layer shape.
///
/// # Errors
/// See [`lower_graph`].
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
            },
            QuantizedDense {
                n_in: n_bits,
                n_out: n_leaves,
                weights: w2,
                bias: b2,
                multiplier: Some(IDENTITY_MULTIPLIER),
                groups,
                conv: None,
            },
            QuantizedDense {
                n_in: n_leaves,
                n_out: cols,
                weights: w3,
                bias: b3,
                multiplier: None,
                groups: 1,
                conv: None,
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

fn quantize_bias(v: f64, layer: usize, index: usize) -> Result<i64> {
    let q = v.round();
    if q.is_finite() && q.abs() < BIAS_LIMIT as f64 {
        Ok(q as i64)
    } else {
        Err(ModelError::BiasOverflow {
            layer,
            index,
            value: if q.is_finite() { q as i64 } else { i64::MAX },
        })
    }
}

/// Lowers a linear model to one dense layer over affine-encoded features (see the
/// [module docs](self)). Without calibration samples every feature is assumed to lie in `[−1, 1]`.
///
/// # Errors
/// See [`lower_graph`].
pub fn lower_linear(l: &LinearModel, calibration: Option<&[Vec<f32>]>) -> Result<QuantizedModel> {
    l.validate()?;
    let head = Head::of_linear(l)?;
    let n = l.n_features;
    let (mut lo, mut hi) = (vec![f64::INFINITY; n], vec![f64::NEG_INFINITY; n]);
    for x in calibration.unwrap_or_default() {
        if x.len() != n {
            return Err(ModelError::InputLength {
                expected: n,
                got: x.len(),
            });
        }
        for (f, &v) in x.iter().enumerate() {
            if !v.is_finite() {
                return Err(ModelError::NonFinite {
                    context: "calibration sample".into(),
                });
            }
            lo[f] = lo[f].min(f64::from(v));
            hi[f] = hi[f].max(f64::from(v));
        }
    }
    let (offset, step): (Vec<f64>, Vec<f64>) = lo
        .iter()
        .zip(&hi)
        .map(|(&a, &b)| {
            if a.is_finite() && b > a {
                ((a + b) / 2.0, (b - a) / 254.0)
            } else if a.is_finite() {
                (a, 1.0) // a constant feature: code 0 is its value
            } else {
                (0.0, 1.0 / 127.0) // no calibration: [−1, 1]
            }
        })
        .unzip();
    let rows: Vec<Option<usize>> = match head {
        Head::Columns => (0..l.n_targets).map(Some).collect(),
        Head::Binary { column, .. } => vec![None, Some(column)],
    };
    let mut w = Vec::with_capacity(rows.len() * n);
    let mut b = Vec::with_capacity(rows.len());
    for r in &rows {
        match r {
            Some(t) => {
                let coef = &l.coefficients[t * n..(t + 1) * n];
                w.extend(coef.iter().zip(&step).map(|(&c, s)| f64::from(c) * s));
                let shift: f64 = coef
                    .iter()
                    .zip(&offset)
                    .map(|(&c, o)| f64::from(c) * o)
                    .sum();
                b.push(f64::from(l.intercepts[*t]) + shift);
            }
            None => {
                w.extend(std::iter::repeat_n(0.0, n));
                b.push(0.0);
            }
        }
    }
    let max = w.iter().fold(0f64, |m, v| m.max(v.abs()));
    let s = if max > 0.0 { max / 127.0 } else { 1.0 };
    let weights = w
        .iter()
        .map(|v| (v / s).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let bias = b
        .iter()
        .enumerate()
        .map(|(i, v)| quantize_bias(v / s, 0, i))
        .collect::<Result<Vec<_>>>()?;
    Ok(QuantizedModel {
        name: String::new(),
        input_len: n,
        input_scale: 1.0,
        input_encoding: InputEncoding::Affine { offset, step },
        layers: vec![QuantizedDense {
            n_in: n,
            n_out: rows.len(),
            weights,
            bias,
            multiplier: None,
            groups: 1,
            conv: None,
        }],
        output_scale: s,
        classifier: l.classes.is_some(),
        proof_batch: None,
    })
}
