//! The affine map a projected input encoding applies to the raw features before its thresholds
//! (a PCA, or any preprocessing that mixes features, in front of a tree ensemble).
//!
//! # Arithmetic
//! The map is part of the digest, and the auditor's `verify --inputs` must reproduce the prover's
//! codes bit for bit, so its arithmetic is fixed here rather than borrowed from a runtime:
//!
//! ```text
//! z_k = binary32( (((c_k + m_k0·x_0) + m_k1·x_1) + …) + m_k(n−1)·x_(n−1) )
//! ```
//!
//! evaluated in IEEE-754 binary64, each product and each sum rounded to nearest-even on its own
//! (never fused: Rust does not contract `a * b + c`), in feature order, and the result rounded once
//! to binary32, nearest-even (`as f32`). Every input is a finite `f32` (`|x| < 2^128`) and every
//! coefficient and offset is bounded by [`MAX_PROJECTION_MAGNITUDE`], so no product or partial
//! sum can overflow binary64 (`2^13` terms below `2^192` each) and no NaN can appear; the final
//! rounding may give `±∞`, which compares beyond every finite cut. Only correctly rounded
//! additions, multiplications and one conversion are used, so every IEEE-754 platform (x86-64,
//! aarch64, wasm32) computes the same `z`.
//!
//! This is not onnxruntime's arithmetic (its `MatMul` accumulates in `f32`, in an order and with
//! fused multiply-adds that depend on the CPU); it differs from it by a few `f32` ulps, which can
//! move a sample across a split only when the sample lies within those ulps of a threshold.

use alloc::vec::Vec;

use crate::field::Felt;
use crate::limits::{MAX_PROJECTION_ENTRIES, MAX_PROJECTION_MAGNITUDE};

/// `z = binary32(M·x + c)` over `inputs` raw features, with the arithmetic of the
/// [module docs](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Raw features per sample (the columns of `matrix`).
    pub inputs: usize,
    /// Row-major `[outputs][inputs]` coefficients.
    pub matrix: Vec<f64>,
    /// One constant per output (`c`).
    pub offset: Vec<f64>,
}

impl Projection {
    /// Outputs per sample (the rows of `matrix`).
    pub fn outputs(&self) -> usize {
        self.offset.len()
    }

    /// Checks the shape (`outputs` rows of `inputs` coefficients, at most
    /// [`MAX_PROJECTION_ENTRIES`] of them) and that every value is finite and bounded by
    /// [`MAX_PROJECTION_MAGNITUDE`].
    ///
    /// # Errors
    /// The first problem, in words.
    pub fn validate(&self, outputs: usize) -> Result<(), &'static str> {
        let entries = self.inputs.checked_mul(outputs);
        if self.inputs == 0 || entries.is_none_or(|e| e > MAX_PROJECTION_ENTRIES) {
            return Err("the projection has no raw feature or more coefficients than allowed");
        }
        if self.offset.len() != outputs || Some(self.matrix.len()) != entries {
            return Err("the projection does not have one row and one offset per encoded feature");
        }
        let bounded = |v: &f64| v.is_finite() && v.abs() <= MAX_PROJECTION_MAGNITUDE;
        if !self.matrix.iter().chain(&self.offset).all(bounded) {
            return Err("a projection coefficient or offset is not finite or exceeds 2^64");
        }
        Ok(())
    }

    /// `z` for one sample of `inputs` finite features (the caller checks both; a short sample
    /// reads as zeros past its end).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        self.matrix
            .chunks(self.inputs.max(1))
            .zip(&self.offset)
            .map(|(row, &c)| {
                let mut acc = c;
                for (&m, &v) in row.iter().zip(x) {
                    let product = m * f64::from(v);
                    acc += product;
                }
                acc as f32
            })
            .collect()
    }

    /// Appends the map as field elements: `inputs`, then per output its offset and its row,
    /// every `f64` as two 32-bit limbs.
    pub fn to_elements(&self, out: &mut Vec<Felt>) {
        out.push(Felt::new(self.inputs as u64));
        for (row, &c) in self.matrix.chunks(self.inputs.max(1)).zip(&self.offset) {
            for v in core::iter::once(c).chain(row.iter().copied()) {
                let bits = v.to_bits();
                out.push(Felt::new(bits & 0xffff_ffff));
                out.push(Felt::new(bits >> 32));
            }
        }
    }

    /// Appends the proof-file form: `inputs` as a `u32`, then per output its offset and its row
    /// as little-endian `f64` bits.
    pub fn write(&self, w: &mut Vec<u8>) {
        w.extend_from_slice(&(self.inputs as u32).to_le_bytes());
        for (row, &c) in self.matrix.chunks(self.inputs.max(1)).zip(&self.offset) {
            for v in core::iter::once(c).chain(row.iter().copied()) {
                w.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pca() -> Projection {
        // z0 = 0.5 + x0 − 2·x1, z1 = −1 + 0.25·x1
        Projection {
            inputs: 2,
            matrix: vec![1.0, -2.0, 0.0, 0.25],
            offset: vec![0.5, -1.0],
        }
    }

    #[test]
    fn applies_in_binary64_and_rounds_once_to_binary32() {
        assert_eq!(pca().apply(&[3.0, 1.0]), vec![1.5, -0.75]);
        // 1 + 2^-30 is not an f32, but the sum is rounded once at the end
        let fine = Projection {
            inputs: 2,
            matrix: vec![1.0, 1.0],
            offset: vec![0.0],
        };
        let tiny = f32::from_bits(0x3080_0000); // 2^-30
        assert_eq!(fine.apply(&[1.0, tiny]), vec![1.0]);
        let half_ulp = f32::from_bits(0x3380_0000); // 2^-24: ties to even
        assert_eq!(fine.apply(&[1.0, half_ulp]), vec![1.0]);
        let over = f32::from_bits(0x3380_0001);
        assert_eq!(fine.apply(&[1.0, over]), vec![1.0 + f32::EPSILON]);
        // beyond f32: infinity, never NaN
        let big = Projection {
            inputs: 1,
            matrix: vec![1e10],
            offset: vec![0.0],
        };
        assert_eq!(big.apply(&[f32::MAX]), vec![f32::INFINITY]);
    }

    #[test]
    fn validation_checks_shape_and_bounds() {
        assert_eq!(pca().validate(2), Ok(()));
        assert!(pca().validate(3).is_err());
        let mut bad = pca();
        bad.matrix[3] = f64::NAN;
        assert!(bad.validate(2).is_err());
        bad.matrix[3] = 2f64.powi(65);
        assert!(bad.validate(2).is_err());
        let mut bad = pca();
        bad.offset[1] = f64::INFINITY;
        assert!(bad.validate(2).is_err());
        let mut bad = pca();
        bad.matrix.pop();
        assert!(bad.validate(2).is_err());
        let none = Projection {
            inputs: 0,
            matrix: vec![],
            offset: vec![0.0],
        };
        assert!(none.validate(1).is_err());
        let huge = Projection {
            inputs: MAX_PROJECTION_ENTRIES,
            matrix: vec![0.0; 2 * MAX_PROJECTION_ENTRIES],
            offset: vec![0.0; 2],
        };
        assert!(huge.validate(2).is_err());
    }

    #[test]
    fn every_value_reaches_the_elements_and_the_bytes() {
        let elements = |p: &Projection| {
            let mut out = Vec::new();
            p.to_elements(&mut out);
            out
        };
        let bytes = |p: &Projection| {
            let mut out = Vec::new();
            p.write(&mut out);
            out
        };
        let base = pca();
        assert_eq!(elements(&base).len(), 1 + 2 * 2 * 3);
        assert_eq!(bytes(&base).len(), 4 + 2 * 3 * 8);
        for i in 0..4 {
            let mut other = pca();
            other.matrix[i] += 1e-9;
            assert_ne!(elements(&base), elements(&other), "coefficient {i}");
            assert_ne!(bytes(&base), bytes(&other), "coefficient {i}");
        }
        let mut other = pca();
        other.offset[1] = -1.0000001;
        assert_ne!(elements(&base), elements(&other));
        assert_ne!(bytes(&base), bytes(&other));
    }
}
