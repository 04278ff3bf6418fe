//! Classic (non-neural) models from ONNX-ML (`ai.onnx.ml`): tree ensembles and linear models, as
//! exported by skl2onnx for scikit-learn trees, forests, gradient boosting and linear/logistic
//! regression.
//!
//! The float semantics follow onnxruntime's CPU kernels, which are the ground truth the fixtures pin:
//! tree scores are summed in `f32` tree by tree (in model order), post-transforms are computed in
//! `f32`, and the two-class special cases are reproduced (see [`TreeEnsemble::outputs`] and
//! [`LinearModel::outputs`]).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Deepest tree accepted (edges from the root to the deepest leaf).
pub const MAX_TREE_DEPTH: usize = 64;
/// Most tree nodes accepted in one ensemble (all trees together).
pub const MAX_TREE_NODES: usize = 1 << 20;
/// Most `(column, weight)` leaf entries accepted in one ensemble.
pub const MAX_LEAF_VALUES: usize = 1 << 22;
/// Most input features accepted by a classic model.
pub const MAX_FEATURES: usize = 1 << 20;
/// Most score columns (classes or regression targets) accepted.
pub const MAX_TARGETS: usize = 4096;
/// Most coefficients accepted in a linear model.
pub const MAX_COEFFICIENTS: usize = 1 << 24;

/// How a tree branch compares the feature value `x` with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BranchMode {
    /// `BRANCH_LEQ`: `x <= threshold`.
    Leq,
    /// `BRANCH_LT`: `x < threshold`.
    Lt,
    /// `BRANCH_GTE`: `x >= threshold`.
    Gte,
    /// `BRANCH_GT`: `x > threshold`.
    Gt,
    /// `BRANCH_EQ`: `x == threshold`.
    Eq,
    /// `BRANCH_NEQ`: `x != threshold`.
    Neq,
}

impl BranchMode {
    /// True if `x` goes to the node's true child (ONNX semantics, `f32` compare; a NaN `x` goes to
    /// the true child only for [`BranchMode::Neq`]).
    pub fn goes_true(self, x: f32, threshold: f32) -> bool {
        match self {
            BranchMode::Leq => x <= threshold,
            BranchMode::Lt => x < threshold,
            BranchMode::Gte => x >= threshold,
            BranchMode::Gt => x > threshold,
            BranchMode::Eq => x == threshold,
            BranchMode::Neq => x != threshold,
        }
    }

    /// Parses an ONNX `nodes_modes` entry other than `LEAF`.
    pub fn from_onnx(mode: &[u8]) -> Option<Self> {
        Some(match mode {
            b"BRANCH_LEQ" => BranchMode::Leq,
            b"BRANCH_LT" => BranchMode::Lt,
            b"BRANCH_GTE" => BranchMode::Gte,
            b"BRANCH_GT" => BranchMode::Gt,
            b"BRANCH_EQ" => BranchMode::Eq,
            b"BRANCH_NEQ" => BranchMode::Neq,
            _ => return None,
        })
    }
}

/// One node of a decision tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TreeNode {
    /// An internal node: go to `true_child` if `mode.goes_true(x[feature], threshold)`, else to
    /// `false_child` (both indices into [`Tree::nodes`]).
    Branch {
        /// Feature index into the input sample.
        feature: usize,
        /// The comparison.
        mode: BranchMode,
        /// The threshold.
        threshold: f32,
        /// Node index taken when the comparison holds.
        true_child: usize,
        /// Node index taken otherwise.
        false_child: usize,
    },
    /// (score column, weight) pairs, from class_ids/class_weights or target_ids/target_weights
    Leaf {
        /// The votes of this leaf, in model order.
        values: Vec<(usize, f32)>,
    },
}

/// One decision tree: `nodes[0]` is the root; children index into `nodes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes; `nodes[0]` is the root.
    pub nodes: Vec<TreeNode>,
}

/// How the trees' leaf values are combined per score column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregate {
    /// Sum over trees (always the case for `TreeEnsembleClassifier`).
    Sum,
    /// Sum over trees divided by the number of trees.
    Average,
}

/// The ONNX-ML `post_transform` applied to the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PostTransform {
    /// Scores unchanged.
    None,
    /// Softmax over the score columns.
    Softmax,
    /// Logistic sigmoid of each score.
    Logistic,
    /// Softmax that leaves (near-)zero scores at zero.
    SoftmaxZero,
    /// `sqrt(2) * erfinv(2 p - 1)` of each score (onnxruntime's approximation).
    Probit,
}

impl PostTransform {
    /// Parses an ONNX `post_transform` attribute value.
    pub fn from_onnx(s: &[u8]) -> Option<Self> {
        Some(match s {
            b"NONE" | b"" => PostTransform::None,
            b"SOFTMAX" => PostTransform::Softmax,
            b"LOGISTIC" => PostTransform::Logistic,
            b"SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
            b"PROBIT" => PostTransform::Probit,
            _ => return None,
        })
    }

    /// Applies the transform to all columns at once, as onnxruntime does for two or more columns.
    pub fn apply(self, scores: &[f32]) -> Vec<f32> {
        match self {
            PostTransform::None => scores.to_vec(),
            PostTransform::Logistic => scores.iter().map(|&v| logistic(v)).collect(),
            PostTransform::Probit => scores.iter().map(|&v| probit(v)).collect(),
            PostTransform::Softmax => softmax(scores, false),
            PostTransform::SoftmaxZero => softmax(scores, true),
        }
    }
}

/// The ONNX-ML `Normalizer` norm (per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Norm {
    /// Divide by the row maximum (not the maximum absolute value), if it is non-zero.
    Max,
    /// Divide by the sum of absolute values, if it is non-zero.
    L1,
    /// Divide by the Euclidean norm, if it is non-zero.
    L2,
}

impl Norm {
    /// Parses an ONNX `norm` attribute value.
    pub fn from_onnx(s: &[u8]) -> Option<Self> {
        Some(match s {
            b"MAX" => Norm::Max,
            b"L1" => Norm::L1,
            b"L2" => Norm::L2,
            _ => return None,
        })
    }

    /// Normalizes one row (a zero norm leaves the row unchanged).
    pub fn apply(self, row: &[f32]) -> Vec<f32> {
        let d = match self {
            Norm::Max => row.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            Norm::L1 => row.iter().map(|v| v.abs()).sum(),
            Norm::L2 => row.iter().map(|v| v * v).sum::<f32>().sqrt(),
        };
        if d == 0.0 || !d.is_finite() {
            return row.to_vec();
        }
        row.iter().map(|v| v / d).collect()
    }
}

/// onnxruntime's `f32` logistic.
fn logistic(v: f32) -> f32 {
    let e = 1.0 / (1.0 + (-v.abs()).exp());
    if v < 0.0 {
        1.0 - e
    } else {
        e
    }
}

/// onnxruntime's approximate inverse error function (Winitzki's formula, `a = 0.147`), in `f32`.
fn erf_inv(x: f32) -> f32 {
    let sgn = if x < 0.0 { -1.0f32 } else { 1.0 };
    let y = (1.0 - x) * (1.0 + x);
    let log = y.ln();
    let a = 0.147f32;
    let v = 2.0 / (std::f32::consts::PI * a) + 0.5 * log;
    let v2 = 1.0 / a * log;
    sgn * (-v + (v * v - v2).sqrt()).sqrt()
}

fn probit(v: f32) -> f32 {
    std::f32::consts::SQRT_2 * erf_inv(2.0 * v - 1.0)
}

/// onnxruntime's `f32` softmax (and the "zero" variant that keeps zero scores at zero).
fn softmax(scores: &[f32], zero: bool) -> Vec<f32> {
    let m = scores.iter().copied().fold(-f32::MAX, f32::max);
    let exp_neg_m = (-m).exp();
    let mut sum = 0f32;
    let mut out: Vec<f32> = scores
        .iter()
        .map(|&v| {
            if zero && v.abs() <= 1e-7 {
                v * exp_neg_m
            } else {
                let e = (v - m).exp();
                sum += e;
                e
            }
        })
        .collect();
    for v in &mut out {
        *v /= sum;
    }
    out
}

/// Index of the first maximum (strict `>`), 0 for an empty slice.
fn first_max(values: impl Iterator<Item = (usize, f32)>) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in values {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::InvalidModel(msg.into())
}

fn check_classes(classes: Option<&Vec<i64>>, n_targets: usize) -> Result<()> {
    if let Some(c) = classes {
        if c.len() > MAX_TARGETS {
            return Err(ModelError::TooLarge {
                what: "class labels",
                limit: MAX_TARGETS as u64,
                got: c.len() as u64,
            });
        }
        if c.len() != n_targets || n_targets < 2 {
            return Err(invalid(format!(
                "{} class labels for {n_targets} score columns (need at least 2, one per column)",
                c.len()
            )));
        }
    }
    Ok(())
}

fn check_dims(n_features: usize, n_targets: usize) -> Result<()> {
    if n_features == 0 || n_features > MAX_FEATURES {
        return Err(ModelError::TooLarge {
            what: "features (or none)",
            limit: MAX_FEATURES as u64,
            got: n_features as u64,
        });
    }
    if n_targets == 0 || n_targets > MAX_TARGETS {
        return Err(ModelError::TooLarge {
            what: "score columns (or none)",
            limit: MAX_TARGETS as u64,
            got: n_targets as u64,
        });
    }
    Ok(())
}

/// A `TreeEnsembleClassifier` or `TreeEnsembleRegressor`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    /// Input features the trees index into.
    pub n_features: usize,
    /// score columns: the number of classes (classifier) or n_targets (regressor)
    pub n_targets: usize,
    /// The trees, in model order (scores are summed in this order).
    pub trees: Vec<Tree>,
    /// n_targets values (zeros if the model has none)
    pub base_values: Vec<f32>,
    /// How leaf values are combined ([`Aggregate::Sum`] for classifiers).
    pub aggregate: Aggregate,
    /// Applied to the scores to give [`TreeEnsemble::outputs`].
    pub post_transform: PostTransform,
    /// Some(class labels, as int64) for TreeEnsembleClassifier, None for the regressor
    pub classes: Option<Vec<i64>>,
}

/// Which of onnxruntime's two-class paths a binary tree classifier takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TreeBinary {
    /// Not a two-class classifier.
    No,
    /// No leaf votes for column 1: one score, expanded to two columns.
    OneColumn { all_positive: bool },
    /// Column 1 is always scored; `only_column_1` if column 0 never gets a vote.
    TwoColumns {
        only_column_1: bool,
        all_positive: bool,
    },
}

impl TreeEnsemble {
    /// Checks that the ensemble is well formed: every tree is a real tree (children in range, every
    /// non-root node reached exactly once from the root, no cycles, depth ≤ [`MAX_TREE_DEPTH`]),
    /// features `< n_features`, leaf columns `< n_targets`, thresholds, weights and base values
    /// finite, `base_values.len() == n_targets`, size limits, and the two-class configurations whose
    /// onnxruntime output is well defined (see [`TreeEnsemble::outputs`]).
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`] or [`ModelError::TooLarge`] describing the first problem.
    pub fn validate(&self) -> Result<()> {
        check_dims(self.n_features, self.n_targets)?;
        check_classes(self.classes.as_ref(), self.n_targets)?;
        if self.base_values.len() != self.n_targets {
            return Err(invalid(format!(
                "{} base values for {} score columns",
                self.base_values.len(),
                self.n_targets
            )));
        }
        if self.base_values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "tree ensemble base values".into(),
            });
        }
        if self.trees.is_empty() {
            return Err(invalid("tree ensemble has no trees"));
        }
        let total: usize = self.trees.iter().map(|t| t.nodes.len()).sum();
        if total > MAX_TREE_NODES {
            return Err(ModelError::TooLarge {
                what: "tree nodes",
                limit: MAX_TREE_NODES as u64,
                got: total as u64,
            });
        }
        let mut leaf_values = 0usize;
        for (t, tree) in self.trees.iter().enumerate() {
            self.validate_tree(t, tree)?;
            for node in &tree.nodes {
                if let TreeNode::Leaf { values } = node {
                    leaf_values = leaf_values.saturating_add(values.len());
                }
            }
        }
        if leaf_values > MAX_LEAF_VALUES {
            return Err(ModelError::TooLarge {
                what: "leaf values",
                limit: MAX_LEAF_VALUES as u64,
                got: leaf_values as u64,
            });
        }
        if self.classes.is_some() {
            if self.aggregate != Aggregate::Sum {
                return Err(invalid(
                    "a tree classifier always sums its trees (onnxruntime ignores AVERAGE)",
                ));
            }
            self.validate_binary()?;
        }
        Ok(())
    }

    fn validate_tree(&self, t: usize, tree: &Tree) -> Result<()> {
        let n = tree.nodes.len();
        if n == 0 {
            return Err(invalid(format!("tree {t} has no nodes")));
        }
        let mut seen = vec![false; n];
        let mut stack = vec![(0usize, 0usize)];
        if let Some(s) = seen.first_mut() {
            *s = true;
        }
        let mut reached = 1usize;
        while let Some((i, depth)) = stack.pop() {
            if depth > MAX_TREE_DEPTH {
                return Err(invalid(format!("tree {t} is deeper than {MAX_TREE_DEPTH}")));
            }
            match tree.nodes.get(i) {
                Some(TreeNode::Branch {
                    feature,
                    threshold,
                    true_child,
                    false_child,
                    ..
                }) => {
                    if *feature >= self.n_features {
                        return Err(invalid(format!(
                            "tree {t} node {i} reads feature {feature} of {}",
                            self.n_features
                        )));
                    }
                    if !threshold.is_finite() {
                        return Err(ModelError::NonFinite {
                            context: format!("threshold of tree {t} node {i}"),
                        });
                    }
                    for child in [*true_child, *false_child] {
                        match seen.get_mut(child) {
                            None => {
                                return Err(invalid(format!(
                                    "tree {t} node {i} has child {child} out of range ({n} nodes)"
                                )))
                            }
                            Some(s) if *s => {
                                return Err(invalid(format!(
                                    "tree {t} node {child} is reached twice (second parent {i}, or a cycle)"
                                )))
                            }
                            Some(s) => {
                                *s = true;
                                reached += 1;
                                stack.push((child, depth + 1));
                            }
                        }
                    }
                }
                Some(TreeNode::Leaf { values }) => {
                    for &(col, w) in values {
                        if col >= self.n_targets {
                            return Err(invalid(format!(
                                "tree {t} leaf {i} votes for column {col} of {}",
                                self.n_targets
                            )));
                        }
                        if !w.is_finite() {
                            return Err(ModelError::NonFinite {
                                context: format!("weight of tree {t} leaf {i}"),
                            });
                        }
                    }
                }
                None => return Err(invalid(format!("tree {t} node {i} out of range"))),
            }
        }
        if reached != n {
            return Err(invalid(format!(
                "tree {t} has {} nodes not reachable from the root",
                n - reached
            )));
        }
        Ok(())
    }

    fn leaves(&self) -> impl Iterator<Item = &Vec<(usize, f32)>> {
        self.trees.iter().flat_map(|t| {
            t.nodes.iter().filter_map(|n| match n {
                TreeNode::Leaf { values } => Some(values),
                TreeNode::Branch { .. } => None,
            })
        })
    }

    fn binary(&self) -> TreeBinary {
        if self.classes.is_none() || self.n_targets != 2 {
            return TreeBinary::No;
        }
        let mut used = [false; 2];
        let mut all_positive = true;
        for &(c, w) in self.leaves().flatten() {
            if let Some(u) = used.get_mut(c) {
                *u = true;
            }
            all_positive &= w >= 0.0;
        }
        if used[1] {
            TreeBinary::TwoColumns {
                only_column_1: !used[0],
                all_positive,
            }
        } else {
            TreeBinary::OneColumn { all_positive }
        }
    }

    fn validate_binary(&self) -> Result<()> {
        match self.binary() {
            TreeBinary::No => Ok(()),
            TreeBinary::OneColumn { .. } => {
                if self.post_transform == PostTransform::Probit {
                    return Err(invalid(
                        "PROBIT on a one-column binary tree classifier (onnxruntime writes a single value)",
                    ));
                }
                if self.base_values.get(1).is_some_and(|&b| b != 0.0) {
                    return Err(invalid(
                        "a one-column binary tree classifier cannot have a base value for column 1",
                    ));
                }
                if !self.leaves().flatten().any(|_| true) {
                    return Err(invalid("tree classifier has no leaf weights"));
                }
                Ok(())
            }
            TreeBinary::TwoColumns { only_column_1, .. } => {
                // Column 1 must be scored for every input: some tree votes for it in every leaf.
                let always = self.trees.iter().any(|t| {
                    t.nodes.iter().all(|n| match n {
                        TreeNode::Leaf { values } => values.iter().any(|&(c, _)| c == 1),
                        TreeNode::Branch { .. } => true,
                    })
                });
                if !always {
                    return Err(invalid(
                        "binary tree classifier whose column 1 may get no vote (onnxruntime's output is then undefined)",
                    ));
                }
                if !only_column_1 && self.classes.as_deref() != Some(&[0, 1]) {
                    return Err(invalid(
                        "binary tree classifier voting in both columns must have labels [0, 1] (onnxruntime returns the literal labels 0/1)",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Node index of the leaf reached in tree `tree` by sample `x` (`x.len() == n_features` on a
    /// validated ensemble; a missing feature compares as NaN, an invalid tree stops where it breaks).
    pub fn leaf(&self, tree: usize, x: &[f32]) -> usize {
        let Some(t) = self.trees.get(tree) else {
            return 0;
        };
        let mut i = 0usize;
        for _ in 0..=MAX_TREE_DEPTH {
            match t.nodes.get(i) {
                Some(TreeNode::Branch {
                    feature,
                    mode,
                    threshold,
                    true_child,
                    false_child,
                }) => {
                    let v = x.get(*feature).copied().unwrap_or(f32::NAN);
                    i = if mode.goes_true(v, *threshold) {
                        *true_child
                    } else {
                        *false_child
                    };
                }
                _ => return i,
            }
        }
        i
    }

    /// Aggregated scores plus base values, and which columns received a vote.
    fn accumulate(&self, x: &[f32]) -> (Vec<f32>, Vec<bool>) {
        let n = self.n_targets;
        let mut scores = vec![0f32; n];
        let mut scored = vec![false; n];
        for (t, tree) in self.trees.iter().enumerate() {
            if let Some(TreeNode::Leaf { values }) = tree.nodes.get(self.leaf(t, x)) {
                for &(c, w) in values {
                    if let (Some(s), Some(h)) = (scores.get_mut(c), scored.get_mut(c)) {
                        *s += w;
                        *h = true;
                    }
                }
            }
        }
        let n_trees = self.trees.len().max(1) as f32;
        for (k, s) in scores.iter_mut().enumerate() {
            if self.aggregate == Aggregate::Average {
                *s /= n_trees;
            }
            *s += self.base_values.get(k).copied().unwrap_or(0.0);
        }
        (scores, scored)
    }

    /// The per-column scores before the post-transform: leaf weights summed in `f32` tree by tree
    /// (divided by the tree count for [`Aggregate::Average`]), plus `base_values`.
    pub fn raw_scores(&self, x: &[f32]) -> Vec<f32> {
        self.accumulate(x).0
    }

    /// What onnxruntime returns as the float output for sample `x`.
    ///
    /// - Regressor: with one target only [`PostTransform::Probit`] is applied (onnxruntime ignores
    ///   the others); with more, the transform runs over all targets.
    /// - Classifier with more than two classes: the transform over all class scores.
    /// - Two classes, leaves voting only in column 0 (skl2onnx's binary trees): with score `s`, the
    ///   output is `[1 - s, s]` if every weight is `>= 0`, else `[σ(-s), σ(s)]` under `LOGISTIC`
    ///   (binary gradient boosting) or `[-s, s]` otherwise. No other transform is applied.
    /// - Two classes, column 1 always voted for: the transform over both columns.
    pub fn outputs(&self, x: &[f32]) -> Vec<f32> {
        let raw = self.raw_scores(x);
        if self.classes.is_none() {
            return if raw.len() == 1 {
                match self.post_transform {
                    PostTransform::Probit => raw.iter().map(|&v| probit(v)).collect(),
                    _ => raw,
                }
            } else {
                self.post_transform.apply(&raw)
            };
        }
        match self.binary() {
            TreeBinary::OneColumn { all_positive } => {
                let s = raw.first().copied().unwrap_or(0.0);
                if all_positive {
                    vec![1.0 - s, s]
                } else if self.post_transform == PostTransform::Logistic {
                    vec![logistic(-s), logistic(s)]
                } else {
                    vec![-s, s]
                }
            }
            _ => self.post_transform.apply(&raw),
        }
    }

    /// Index into `classes` of onnxruntime's `label` output (for a regressor: the first maximum of
    /// the outputs).
    ///
    /// More than two classes: the first maximum among the columns that received a vote or have a
    /// non-zero base value. Two classes: with `p` the score of the positive column (column 1 if it
    /// is voted for, else column 0), class 1 if `p > 0.5` (all weights `>= 0`, one voting column)
    /// or `p > 0` (otherwise), else class 0.
    pub fn label(&self, x: &[f32]) -> usize {
        let (raw, scored) = self.accumulate(x);
        match self.binary() {
            TreeBinary::No if self.classes.is_none() => {
                first_max(self.outputs(x).into_iter().enumerate())
            }
            TreeBinary::No => first_max(raw.iter().copied().enumerate().filter(|&(k, _)| {
                scored.get(k) == Some(&true) || self.base_values.get(k).is_some_and(|&b| b != 0.0)
            })),
            TreeBinary::OneColumn { all_positive } => {
                let p = raw.first().copied().unwrap_or(0.0);
                usize::from(if all_positive { p > 0.5 } else { p > 0.0 })
            }
            TreeBinary::TwoColumns {
                only_column_1,
                all_positive,
            } => {
                let p = raw.get(1).copied().unwrap_or(0.0);
                usize::from(if only_column_1 && all_positive {
                    p > 0.5
                } else {
                    p > 0.0
                })
            }
        }
    }
}

/// A `LinearClassifier` or `LinearRegressor`: `scores = coefficients · x + intercepts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// Input features.
    pub n_features: usize,
    /// rows of coefficients (ONNX: coefficients has n_targets*n_features values)
    pub n_targets: usize,
    /// row-major [n_targets][n_features]
    pub coefficients: Vec<f32>,
    /// n_targets values
    pub intercepts: Vec<f32>,
    /// Applied to the scores to give [`LinearModel::outputs`].
    pub post_transform: PostTransform,
    /// Some for LinearClassifier
    pub classes: Option<Vec<i64>>,
}

impl LinearModel {
    /// True for onnxruntime's binary case: a classifier with one coefficient row and two classes.
    fn is_binary(&self) -> bool {
        self.n_targets == 1 && self.classes.as_ref().is_some_and(|c| c.len() == 2)
    }

    /// Checks sizes (`coefficients.len() == n_targets * n_features`, `intercepts.len() ==
    /// n_targets`, limits), finiteness, and the class labels: one per row, or two for a single row
    /// (the binary case, where `PROBIT` is refused because onnxruntime's output is then undefined).
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`], [`ModelError::TooLarge`] or [`ModelError::NonFinite`].
    pub fn validate(&self) -> Result<()> {
        check_dims(self.n_features, self.n_targets)?;
        let n = self
            .n_targets
            .checked_mul(self.n_features)
            .filter(|&n| n <= MAX_COEFFICIENTS)
            .ok_or(ModelError::TooLarge {
                what: "coefficients",
                limit: MAX_COEFFICIENTS as u64,
                got: u64::MAX,
            })?;
        if self.coefficients.len() != n || self.intercepts.len() != self.n_targets {
            return Err(invalid(format!(
                "linear model with {} coefficients and {} intercepts for {} rows of {} features",
                self.coefficients.len(),
                self.intercepts.len(),
                self.n_targets,
                self.n_features
            )));
        }
        if self
            .coefficients
            .iter()
            .chain(&self.intercepts)
            .any(|v| !v.is_finite())
        {
            return Err(ModelError::NonFinite {
                context: "linear model coefficients".into(),
            });
        }
        if self.is_binary() {
            if self.post_transform == PostTransform::Probit {
                return Err(invalid(
                    "PROBIT on a one-row binary linear classifier (onnxruntime's output is undefined)",
                ));
            }
        } else {
            check_classes(self.classes.as_ref(), self.n_targets)?;
        }
        Ok(())
    }

    /// `coefficients · x + intercepts`, one value per row (dot products accumulated in `f64`,
    /// rounded once).
    pub fn raw_scores(&self, x: &[f32]) -> Vec<f32> {
        let nf = self.n_features.max(1);
        self.coefficients
            .chunks(nf)
            .zip(&self.intercepts)
            .map(|(row, &b)| {
                let dot: f64 = row
                    .iter()
                    .zip(x)
                    .map(|(&w, &v)| f64::from(w) * f64::from(v))
                    .sum();
                (dot + f64::from(b)) as f32
            })
            .collect()
    }

    /// What onnxruntime returns as the float output.
    ///
    /// Binary case (one row, two classes), score `s`: `[1 - σ(s), σ(s)]` under `LOGISTIC`, else
    /// `[1 - s, s]` (SOFTMAX/SOFTMAX_ZERO are not applied). One-target regressor: only `PROBIT`
    /// is applied. Otherwise the transform over all rows.
    pub fn outputs(&self, x: &[f32]) -> Vec<f32> {
        let raw = self.raw_scores(x);
        if self.is_binary() {
            let s = raw.first().copied().unwrap_or(0.0);
            let p = if self.post_transform == PostTransform::Logistic {
                logistic(s)
            } else {
                s
            };
            return vec![1.0 - p, p];
        }
        if raw.len() == 1 {
            return match self.post_transform {
                PostTransform::Probit => raw.iter().map(|&v| probit(v)).collect(),
                _ => raw,
            };
        }
        self.post_transform.apply(&raw)
    }

    /// Index into `classes` of onnxruntime's label: in the binary case 1 if the raw score is `> 0`,
    /// else the first maximum of the raw scores (for a regressor too).
    pub fn label(&self, x: &[f32]) -> usize {
        let raw = self.raw_scores(x);
        if self.is_binary() {
            return usize::from(raw.first().is_some_and(|&s| s > 0.0));
        }
        first_max(raw.into_iter().enumerate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(feature: usize, threshold: f32, t: usize, f: usize) -> TreeNode {
        TreeNode::Branch {
            feature,
            mode: BranchMode::Leq,
            threshold,
            true_child: t,
            false_child: f,
        }
    }

    fn leaf(c: usize, w: f32) -> TreeNode {
        TreeNode::Leaf {
            values: vec![(c, w)],
        }
    }

    fn ensemble(trees: Vec<Tree>, n_targets: usize, classes: Option<Vec<i64>>) -> TreeEnsemble {
        TreeEnsemble {
            n_features: 2,
            n_targets,
            trees,
            base_values: vec![0.0; n_targets],
            aggregate: Aggregate::Sum,
            post_transform: PostTransform::None,
            classes,
        }
    }

    fn stump() -> Tree {
        Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(0, 1.0), leaf(1, 2.0)],
        }
    }

    fn expect_invalid(e: &TreeEnsemble, what: &str) {
        let err = e.validate().expect_err(what);
        assert!(
            matches!(
                err,
                ModelError::InvalidModel(_) | ModelError::NonFinite { .. }
            ),
            "{what}: {err:?}"
        );
    }

    #[test]
    fn goes_true_for_each_mode() {
        use BranchMode::*;
        let cases = [
            (Leq, [true, true, false]),
            (Lt, [true, false, false]),
            (Gte, [false, true, true]),
            (Gt, [false, false, true]),
            (Eq, [false, true, false]),
            (Neq, [true, false, true]),
        ];
        for (mode, want) in cases {
            let got = [0.5f32, 1.0, 1.5].map(|x| mode.goes_true(x, 1.0));
            assert_eq!(got, want, "{mode:?}");
            assert_eq!(mode.goes_true(f32::NAN, 1.0), mode == Neq, "{mode:?} NaN");
        }
        assert_eq!(BranchMode::from_onnx(b"BRANCH_GTE"), Some(Gte));
        assert_eq!(BranchMode::from_onnx(b"LEAF"), None);
    }

    #[test]
    fn stump_scores_and_labels() {
        let e = ensemble(vec![stump(), stump()], 2, None);
        e.validate().unwrap();
        assert_eq!(e.leaf(0, &[0.0, 0.0]), 1);
        assert_eq!(e.leaf(0, &[0.6, 0.0]), 2);
        assert_eq!(e.raw_scores(&[0.0, 0.0]), vec![2.0, 0.0]);
        assert_eq!(e.raw_scores(&[0.6, 0.0]), vec![0.0, 4.0]);
        let mut avg = e.clone();
        avg.aggregate = Aggregate::Average;
        avg.base_values = vec![0.5, 0.0];
        assert_eq!(avg.raw_scores(&[0.0, 0.0]), vec![1.5, 0.0]);
    }

    #[test]
    fn validate_refuses_cycle() {
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), branch(0, 0.5, 0, 2), leaf(0, 1.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "cycle");
        let self_loop = Tree {
            nodes: vec![branch(0, 0.5, 0, 1), leaf(0, 1.0)],
        };
        expect_invalid(&ensemble(vec![self_loop], 1, None), "self loop");
    }

    #[test]
    fn validate_refuses_child_out_of_range() {
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 7), leaf(0, 1.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "child out of range");
    }

    #[test]
    fn validate_refuses_two_parents_and_unreachable() {
        let t = Tree {
            nodes: vec![
                branch(0, 0.5, 1, 2),
                branch(1, 0.5, 3, 4),
                branch(1, 0.7, 3, 4),
                leaf(0, 1.0),
                leaf(0, 2.0),
            ],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "two parents");
        let t = Tree {
            nodes: vec![
                branch(0, 0.5, 1, 2),
                leaf(0, 1.0),
                leaf(0, 2.0),
                leaf(0, 3.0),
            ],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "unreachable");
    }

    #[test]
    fn validate_refuses_deep_tree() {
        // A left spine: node 2k branches to 2k+2 (true) and leaf 2k+1 (false).
        let spine = |depth: usize| {
            let mut nodes = Vec::new();
            for k in 0..depth {
                nodes.push(branch(0, k as f32, 2 * k + 2, 2 * k + 1));
                nodes.push(leaf(0, 1.0));
            }
            nodes.push(leaf(0, 2.0));
            Tree { nodes }
        };
        ensemble(vec![spine(MAX_TREE_DEPTH)], 1, None)
            .validate()
            .unwrap();
        let deep = ensemble(vec![spine(MAX_TREE_DEPTH + 1)], 1, None);
        expect_invalid(&deep, "depth 65");
        // leaf() never walks more than MAX_TREE_DEPTH steps, even on an unvalidated tree.
        let _ = deep.leaf(0, &[-1.0, 0.0]);
    }

    #[test]
    fn validate_refuses_bad_features_thresholds_and_columns() {
        let t = Tree {
            nodes: vec![branch(2, 0.5, 1, 2), leaf(0, 1.0), leaf(0, 2.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "feature out of range");
        let t = Tree {
            nodes: vec![branch(0, f32::NAN, 1, 2), leaf(0, 1.0), leaf(0, 2.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "NaN threshold");
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(3, 1.0), leaf(0, 2.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "column out of range");
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(0, f32::INFINITY), leaf(0, 2.0)],
        };
        expect_invalid(&ensemble(vec![t], 1, None), "infinite weight");
        let mut e = ensemble(vec![stump()], 2, None);
        e.base_values.pop();
        expect_invalid(&e, "base values length");
        expect_invalid(&ensemble(vec![], 2, None), "no trees");
    }

    #[test]
    fn binary_tree_classifier_semantics() {
        // One voting column, positive weights: [1 - s, s], label by s > 0.5.
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(0, 0.2), leaf(0, 0.9)],
        };
        let e = ensemble(vec![t], 2, Some(vec![0, 1]));
        e.validate().unwrap();
        assert_eq!(e.outputs(&[0.0, 0.0]), vec![0.8, 0.2]);
        assert_eq!(e.label(&[0.0, 0.0]), 0);
        assert_eq!(e.label(&[1.0, 0.0]), 1);
        // Mixed signs with LOGISTIC (binary gradient boosting).
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(0, -1.0), leaf(0, 2.0)],
        };
        let mut e = ensemble(vec![t], 2, Some(vec![0, 1]));
        e.post_transform = PostTransform::Logistic;
        e.base_values = vec![0.5, 0.0];
        let p = e.outputs(&[0.0, 0.0]);
        assert!((p[1] - logistic(-0.5)).abs() < 1e-7 && (p[0] + p[1] - 1.0).abs() < 1e-6);
        assert_eq!(e.label(&[0.0, 0.0]), 0);
        assert_eq!(e.label(&[1.0, 0.0]), 1);
        e.post_transform = PostTransform::Probit;
        expect_invalid(&e, "probit one-column binary");
    }

    #[test]
    fn multiclass_label_ignores_unscored_columns() {
        let t = Tree {
            nodes: vec![branch(0, 0.5, 1, 2), leaf(1, -1.0), leaf(2, -2.0)],
        };
        let e = ensemble(vec![t], 3, Some(vec![10, 11, 12]));
        e.validate().unwrap();
        // Column 0 (score 0) gets no vote, so the label is column 1 despite its negative score.
        assert_eq!(e.label(&[0.0, 0.0]), 1);
        let mut with_base = e.clone();
        with_base.base_values = vec![0.25, 0.0, 0.0];
        assert_eq!(with_base.label(&[0.0, 0.0]), 0);
    }

    #[test]
    fn transforms_match_onnxruntime_formulas() {
        let p = softmax(&[1.0, 2.0, 3.0], false);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[2] > p[1]);
        let z = softmax(&[0.0, 1.0], true);
        assert_eq!(z[0], 0.0);
        assert!((z[1] - 1.0).abs() < 1e-6);
        assert!((logistic(0.0) - 0.5).abs() < 1e-7);
        assert!(probit(0.5).abs() < 1e-6);
        assert!((probit(0.975) - 1.96).abs() < 1e-2);
        assert_eq!(Norm::Max.apply(&[-1.0, -2.0, -4.0]), vec![1.0, 2.0, 4.0]);
        assert_eq!(Norm::L1.apply(&[0.0, 0.0]), vec![0.0, 0.0]);
        assert_eq!(Norm::L2.apply(&[3.0, -4.0]), vec![0.6, -0.8]);
    }

    #[test]
    fn linear_binary_and_multiclass() {
        let mut m = LinearModel {
            n_features: 2,
            n_targets: 1,
            coefficients: vec![0.3, -0.2],
            intercepts: vec![0.05],
            post_transform: PostTransform::None,
            classes: Some(vec![3, 7]),
        };
        m.validate().unwrap();
        let out = m.outputs(&[1.0, 2.0]);
        assert!((out[0] - 1.05).abs() < 1e-6 && (out[1] + 0.05).abs() < 1e-6);
        assert_eq!(m.label(&[1.0, 2.0]), 0);
        assert_eq!(m.label(&[0.0, 0.0]), 1);
        m.post_transform = PostTransform::Logistic;
        let out = m.outputs(&[1.0, 2.0]);
        assert!((out[1] - 0.487_502_6).abs() < 1e-6 && (out[0] - 0.512_497_4).abs() < 1e-6);
        m.post_transform = PostTransform::Probit;
        assert!(m.validate().is_err());
        let m = LinearModel {
            n_features: 2,
            n_targets: 3,
            coefficients: vec![0.3, -0.2, 0.1, 0.1, 0.0, 0.0],
            intercepts: vec![0.05, 0.0, -5.0],
            post_transform: PostTransform::None,
            classes: Some(vec![4, 5, 6]),
        };
        m.validate().unwrap();
        assert_eq!(m.label(&[1.0, 2.0]), 1);
        let mut bad = m.clone();
        bad.coefficients.pop();
        assert!(bad.validate().is_err());
        let mut bad = m;
        bad.classes = Some(vec![1, 2]);
        assert!(bad.validate().is_err());
    }
}
