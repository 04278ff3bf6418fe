//! Per-sample normalization (an ONNX-ML `Normalizer` in front of a model), part of a committed
//! input encoding ([`crate::InputEncoding::Normalized`]): its arithmetic is defined here once, in
//! `f32` in feature order as onnxruntime computes it, so the prover's and the auditor's codes agree
//! bit for bit.

use alloc::vec::Vec;

/// Which norm each sample is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// The sample's maximum (not the largest magnitude).
    Max,
    /// The sum of absolute values.
    L1,
    /// The Euclidean norm.
    L2,
}

impl Norm {
    /// The code the digest and the proof file carry.
    pub fn code(self) -> u8 {
        match self {
            Self::Max => 0,
            Self::L1 => 1,
            Self::L2 => 2,
        }
    }

    /// The norm of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Max,
            1 => Self::L1,
            2 => Self::L2,
            _ => return None,
        })
    }

    /// The sample divided by its norm (unchanged if the norm is zero or not finite), in `f32`:
    /// the maximum, or the sum of `|x|` or of `x²` in feature order (then `sqrt`), then one
    /// division per feature.
    pub fn apply(self, row: &[f32]) -> Vec<f32> {
        let d = match self {
            Self::Max => row.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            Self::L1 => row.iter().fold(0f32, |s, v| s + v.abs()),
            Self::L2 => libm::sqrtf(row.iter().fold(0f32, |s, v| s + v * v)),
        };
        if d == 0.0 || !d.is_finite() {
            return row.to_vec();
        }
        row.iter().map(|v| v / d).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_norm_divides_by_its_own_measure_and_a_zero_norm_leaves_the_sample() {
        assert_eq!(Norm::L2.apply(&[3.0, -4.0]), [0.6, -0.8]);
        assert_eq!(Norm::L1.apply(&[1.0, -3.0]), [0.25, -0.75]);
        assert_eq!(Norm::Max.apply(&[2.0, -4.0]), [1.0, -2.0]);
        assert_eq!(Norm::L2.apply(&[0.0, 0.0]), [0.0, 0.0]);
        for n in [Norm::Max, Norm::L1, Norm::L2] {
            assert_eq!(Norm::from_code(n.code()), Some(n));
        }
        assert_eq!(Norm::from_code(3), None);
    }
}
