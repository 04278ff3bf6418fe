//! The score side shared by tree ensembles and linear models: post-transforms, normalizers, and the
//! checks on class labels and score columns.
//!
//! The float semantics follow onnxruntime's CPU kernels (post-transforms computed in `f32`).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Most input features accepted by a classic model.
pub(crate) const MAX_FEATURES: usize = 1 << 20;
/// Most score columns (classes or regression targets) accepted.
pub(crate) const MAX_TARGETS: usize = 4096;

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

    /// Normalizes one row (a zero norm leaves the row unchanged), with the arithmetic the
    /// committed input encoding uses ([`glassbox_air::Norm::apply`]).
    pub fn apply(self, row: &[f32]) -> Vec<f32> {
        self.air().apply(row)
    }

    /// The same norm as the AIR crate names it.
    pub fn air(self) -> glassbox_air::Norm {
        match self {
            Norm::Max => glassbox_air::Norm::Max,
            Norm::L1 => glassbox_air::Norm::L1,
            Norm::L2 => glassbox_air::Norm::L2,
        }
    }
}

/// onnxruntime's `f32` logistic.
pub(crate) fn logistic(v: f32) -> f32 {
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

pub(crate) fn probit(v: f32) -> f32 {
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
pub(crate) fn first_max(values: impl Iterator<Item = (usize, f32)>) -> usize {
    let mut best: Option<(usize, f32)> = None;
    for (i, v) in values {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map_or(0, |(i, _)| i)
}

pub(crate) fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::InvalidModel(msg.into())
}

pub(crate) fn check_classes(classes: Option<&Vec<i64>>, n_targets: usize) -> Result<()> {
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

pub(crate) fn check_dims(n_features: usize, n_targets: usize) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
