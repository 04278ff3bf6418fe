//! Support vector machines from ONNX-ML (`SVMClassifier`, one-vs-one), with onnxruntime's float
//! semantics: kernels against every support vector, one decision per class pair, and the label
//! the pairwise votes elect (see [`SvmModel::votes`]).

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::ir::scores::{check_dims, first_max, invalid};

/// Most support-vector values (`support vectors × features`) accepted.
pub(crate) const MAX_SUPPORT_VALUES: usize = 1 << 22;

/// An SVM kernel `K(x, s)` (ONNX `kernel_type` with `kernel_params = [gamma, coef0, degree]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Kernel {
    /// `⟨x, s⟩`.
    Linear,
    /// `(gamma·⟨x, s⟩ + coef0)^degree`.
    Poly {
        /// Scale of the dot product.
        gamma: f32,
        /// Added before the power.
        coef0: f32,
        /// The power (a small positive integer).
        degree: u32,
    },
    /// `exp(−gamma·‖x − s‖²)`.
    Rbf {
        /// Scale of the squared distance.
        gamma: f32,
    },
    /// `tanh(gamma·⟨x, s⟩ + coef0)`.
    Sigmoid {
        /// Scale of the dot product.
        gamma: f32,
        /// Added before `tanh`.
        coef0: f32,
    },
}

impl Kernel {
    /// `K(x, s)` in `f64`.
    pub fn eval(&self, x: &[f32], s: &[f32]) -> f64 {
        let dot = || -> f64 {
            x.iter()
                .zip(s)
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum()
        };
        match *self {
            Self::Linear => dot(),
            Self::Poly {
                gamma,
                coef0,
                degree,
            } => (f64::from(gamma) * dot() + f64::from(coef0)).powi(degree as i32),
            Self::Rbf { gamma } => {
                let d2: f64 = x
                    .iter()
                    .zip(s)
                    .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                    .sum();
                (-f64::from(gamma) * d2).exp()
            }
            Self::Sigmoid { gamma, coef0 } => (f64::from(gamma) * dot() + f64::from(coef0)).tanh(),
        }
    }
}

/// A one-vs-one `SVMClassifier`: class `c` owns `vectors_per_class[c]` consecutive support
/// vectors; pair `(i, j)` (`i < j`, in order) decides
/// `d = Σ_{v ∈ i} coef[j−1][v]·K(x, s_v) + Σ_{v ∈ j} coef[i][v]·K(x, s_v) + rho[pair]` and votes
/// for `i` if `d > 0`, else for `j`; the label is the first class with the most votes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmModel {
    /// Input features.
    pub n_features: usize,
    /// The kernel.
    pub kernel: Kernel,
    /// Row-major `[n_sv][n_features]`.
    pub support_vectors: Vec<f32>,
    /// Support vectors of each class, in class order.
    pub vectors_per_class: Vec<usize>,
    /// Row-major `[n_classes − 1][n_sv]` dual coefficients.
    pub coefficients: Vec<f32>,
    /// One offset per class pair.
    pub rho: Vec<f32>,
    /// The class labels; empty for an `SVMRegressor`, which is stored as one pair `(0, 1)`
    /// whose class 0 owns every support vector (`vectors_per_class = [n_sv, 0]`, one coefficient
    /// row, one `rho`), so its decision is `Σ_v coef_v·K(x, s_v) + rho`.
    pub classes: Vec<i64>,
}

impl SvmModel {
    /// Number of support vectors.
    pub fn n_sv(&self) -> usize {
        self.vectors_per_class.iter().sum()
    }

    /// Whether this is an `SVMRegressor`.
    pub fn is_regressor(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class pairs `(i, j)`, `i < j`, in onnxruntime's order (one for a regressor).
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        let n = self.vectors_per_class.len();
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect()
    }

    /// Checks sizes, limits and finiteness.
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`], [`ModelError::TooLarge`] or [`ModelError::NonFinite`].
    pub fn validate(&self) -> Result<()> {
        let n_classes = if self.is_regressor() {
            2
        } else {
            self.classes.len()
        };
        check_dims(self.n_features, n_classes)?;
        let regressor_shape = !self.is_regressor() || self.vectors_per_class.get(1) == Some(&0);
        if n_classes < 2 || self.vectors_per_class.len() != n_classes || !regressor_shape {
            return Err(invalid(format!(
                "SVM with {n_classes} classes and {} support-vector counts",
                self.vectors_per_class.len()
            )));
        }
        let n_sv = self
            .vectors_per_class
            .iter()
            .try_fold(0usize, |a, &v| a.checked_add(v))
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid("SVM without support vectors"))?;
        let values = n_sv
            .checked_mul(self.n_features)
            .filter(|&v| v <= MAX_SUPPORT_VALUES)
            .ok_or(ModelError::TooLarge {
                what: "support-vector values",
                limit: MAX_SUPPORT_VALUES as u64,
                got: u64::MAX,
            })?;
        let pairs = n_classes * (n_classes - 1) / 2;
        if self.support_vectors.len() != values
            || self.coefficients.len() != (n_classes - 1) * n_sv
            || self.rho.len() != pairs
        {
            return Err(invalid(format!(
                "SVM with {} support values, {} coefficients and {} offsets for {n_sv} vectors \
                 of {} features and {n_classes} classes",
                self.support_vectors.len(),
                self.coefficients.len(),
                self.rho.len(),
                self.n_features
            )));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !(finite(&self.support_vectors) && finite(&self.coefficients) && finite(&self.rho)) {
            return Err(ModelError::NonFinite {
                context: "SVM parameters".into(),
            });
        }
        if let Kernel::Poly { degree, .. } = self.kernel {
            if !(1..=8).contains(&degree) {
                return Err(invalid(format!("polynomial kernel of degree {degree}")));
            }
        }
        Ok(())
    }

    /// First support vector of each class.
    fn starts(&self) -> Vec<usize> {
        self.vectors_per_class
            .iter()
            .scan(0usize, |acc, &v| {
                let start = *acc;
                *acc += v;
                Some(start)
            })
            .collect()
    }

    /// The dual coefficient of support vector `v` in the decision of pair `(i, j)` (zero for
    /// vectors of other classes): `coef[j−1][v]` for `v ∈ i`, `coef[i][v]` for `v ∈ j`.
    pub fn pair_coefficients(&self, (i, j): (usize, usize)) -> Vec<f64> {
        let n_sv = self.n_sv();
        let starts = self.starts();
        let mut out = vec![0.0; n_sv];
        for (class, row) in [(i, j - 1), (j, i)] {
            for v in starts[class]..starts[class] + self.vectors_per_class[class] {
                out[v] = f64::from(self.coefficients[row * n_sv + v]);
            }
        }
        out
    }

    /// Support vector `v`.
    pub fn vector(&self, v: usize) -> &[f32] {
        &self.support_vectors[v * self.n_features..(v + 1) * self.n_features]
    }

    /// One decision value per class pair.
    pub fn decisions(&self, x: &[f32]) -> Vec<f64> {
        let k: Vec<f64> = (0..self.n_sv())
            .map(|v| self.kernel.eval(x, self.vector(v)))
            .collect();
        self.pairs()
            .into_iter()
            .zip(&self.rho)
            .map(|(pair, &rho)| {
                let c = self.pair_coefficients(pair);
                c.iter().zip(&k).map(|(a, b)| a * b).sum::<f64>() + f64::from(rho)
            })
            .collect()
    }

    /// Votes per class: pair `(i, j)` votes for `i` if its decision is positive, else for `j`.
    pub fn votes(&self, x: &[f32]) -> Vec<f64> {
        let mut votes = vec![0.0; self.classes.len()];
        for ((i, j), d) in self.pairs().into_iter().zip(self.decisions(x)) {
            votes[if d > 0.0 { i } else { j }] += 1.0;
        }
        votes
    }

    /// What the graph node outputs: the votes of a classifier, the decision of a regressor.
    pub fn outputs(&self, x: &[f32]) -> Vec<f64> {
        if self.is_regressor() {
            self.decisions(x)
        } else {
            self.votes(x)
        }
    }

    /// The label index (into [`SvmModel::classes`]): the first class with the most votes.
    pub fn label(&self, x: &[f32]) -> usize {
        let votes = self.votes(x);
        first_max(votes.iter().map(|&v| v as f32).enumerate())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_classes() -> SvmModel {
        // one support vector per class, linear kernel, 1 feature
        SvmModel {
            n_features: 1,
            kernel: Kernel::Linear,
            support_vectors: vec![-1.0, 0.0, 1.0],
            vectors_per_class: vec![1, 1, 1],
            coefficients: vec![1.0, -1.0, 0.5, 2.0, 3.0, -2.0],
            rho: vec![0.0, 0.5, -0.25],
            classes: vec![0, 1, 2],
        }
    }

    #[test]
    fn pairs_read_their_own_classes_coefficients() {
        let m = three_classes();
        m.validate().unwrap();
        assert_eq!(m.pairs(), vec![(0, 1), (0, 2), (1, 2)]);
        // (0, 1): coef[0][v0] for class 0, coef[0][v1] for class 1
        assert_eq!(m.pair_coefficients((0, 1)), vec![1.0, -1.0, 0.0]);
        // (0, 2): coef[1][v0], coef[0][v2]
        assert_eq!(m.pair_coefficients((0, 2)), vec![2.0, 0.0, 0.5]);
        // (1, 2): coef[1][v1], coef[1][v2]
        assert_eq!(m.pair_coefficients((1, 2)), vec![0.0, 3.0, -2.0]);
        // x = 2: K = [-2, 0, 2]; decisions -2, -4 + 1 + 0.5, -4 - 0.25
        assert_eq!(m.decisions(&[2.0]), vec![-2.0, -2.5, -4.25]);
        assert_eq!(m.votes(&[2.0]), vec![0.0, 1.0, 2.0]);
        assert_eq!(m.label(&[2.0]), 2);
    }

    #[test]
    fn malformed_models_are_refused() {
        let mut m = three_classes();
        m.rho.pop();
        assert!(m.validate().is_err());
        let mut m = three_classes();
        m.support_vectors[0] = f32::NAN;
        assert!(m.validate().is_err());
        let mut m = three_classes();
        m.vectors_per_class = vec![0, 0, 0];
        assert!(m.validate().is_err());
    }

    #[test]
    fn kernels_match_their_formulas() {
        let (x, s) = ([1.0f32, 2.0], [0.5f32, -1.0]);
        assert_eq!(Kernel::Linear.eval(&x, &s), -1.5);
        let poly = Kernel::Poly {
            gamma: 2.0,
            coef0: 1.0,
            degree: 2,
        };
        assert_eq!(poly.eval(&x, &s), 4.0);
        let rbf = Kernel::Rbf { gamma: 0.5 };
        assert!((rbf.eval(&x, &s) - (-0.5f64 * 9.25).exp()).abs() < 1e-12);
    }
}
