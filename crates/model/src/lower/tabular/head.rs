//! The score head shared by lowered trees and linear models: which post-transforms keep the label,
//! the step and identity multipliers, and bias quantization.

use crate::error::{ModelError, Result};
use crate::ir::linear::LinearModel;
use crate::ir::scores::PostTransform;
use crate::ir::tree::{TreeEnsemble, TreeNode};
use crate::quant::model::BIAS_LIMIT;
use crate::quant::requant::MULTIPLIER_SHIFT;

/// The step multiplier of comparison layers: `acc >= 1 ↦ 255`, `acc <= 0 ↦ 0`.
pub const STEP_MULTIPLIER: u32 = 255 << MULTIPLIER_SHIFT;
/// The identity multiplier of path layers (`t = acc`).
pub(crate) const IDENTITY_MULTIPLIER: u32 = 1 << MULTIPLIER_SHIFT;

/// How raw score columns become the decision vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head {
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
    pub(crate) fn of_trees(t: &TreeEnsemble) -> Result<Self> {
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

    pub(crate) fn of_linear(l: &LinearModel) -> Result<Self> {
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

    pub(crate) fn apply(self, raw: &[f32]) -> Vec<f64> {
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

pub(crate) fn quantize_bias(v: f64, layer: usize, index: usize) -> Result<i64> {
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
