//! Linear models from ONNX-ML: `LinearClassifier` and `LinearRegressor`, with onnxruntime's float
//! semantics (see [`LinearModel::outputs`]).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::ir::scores::{
    check_classes, check_dims, first_max, invalid, logistic, probit, PostTransform,
};

/// Most coefficients accepted in a linear model.
pub(crate) const MAX_COEFFICIENTS: usize = 1 << 24;

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
