//! Classic (non-neural) models from ONNX-ML (`ai.onnx.ml`): tree ensembles, as exported by
//! skl2onnx for scikit-learn trees, forests and gradient boosting (linear models are in
//! [`crate::ir::linear`]).
//!
//! The float semantics follow onnxruntime's CPU kernels, which are the ground truth the fixtures pin:
//! tree scores are summed in `f32` tree by tree (in model order), post-transforms are computed in
//! `f32`, and the two-class special cases are reproduced (see [`TreeEnsemble::outputs`] and
//! [`LinearModel::outputs`]).

use serde::{Deserialize, Serialize};

use crate::ir::scores::{first_max, logistic, probit, PostTransform};

/// Deepest tree accepted (edges from the root to the deepest leaf).
pub const MAX_TREE_DEPTH: usize = 64;
/// Most tree nodes accepted in one ensemble (all trees together).
pub(crate) const MAX_TREE_NODES: usize = 1 << 20;
/// Most `(column, weight)` leaf entries accepted in one ensemble.
pub(crate) const MAX_LEAF_VALUES: usize = 1 << 22;

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
pub(crate) enum TreeBinary {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ModelError;

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
}
