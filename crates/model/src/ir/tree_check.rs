//! Well-formedness of a [`TreeEnsemble`]: a real tree per entry, indices and sizes in range, finite
//! values, and the two-class configurations whose onnxruntime output is well defined.

use crate::error::{ModelError, Result};
use crate::ir::scores::{check_classes, check_dims, invalid, PostTransform};
use crate::ir::tree::{
    Aggregate, Tree, TreeBinary, TreeEnsemble, TreeNode, MAX_LEAF_VALUES, MAX_TREE_DEPTH,
    MAX_TREE_NODES,
};

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

    pub(crate) fn binary(&self) -> TreeBinary {
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
}
