//! Input encodings: how float features become the int8 inputs a proof is about.
//!
//! The proof binds the encoded inputs (public) to the outputs; the encoding itself runs before the
//! proof, like any quantization step, and is stored in the model artifact so that `run`/`prove`
//! apply it identically.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// Most split thresholds one feature may have under [`InputEncoding::Thresholds`] (codes
/// `0..=2·127` fit the int8 input range after the `−128` shift).
pub(crate) const MAX_CUTS_PER_FEATURE: usize = 127;

/// How a float sample is turned into int8 inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InputEncoding {
    /// Every feature: `q = clamp(round_half_away_from_zero(x / input_scale), -128, 127)` (MLPs).
    Symmetric,
    /// Per feature `f`: `q = clamp(round_half_away_from_zero((x − offset_f) / step_f), -127, 127)`
    /// (linear models, whose per-feature steps are folded into the weights).
    Affine {
        /// `offset_f`, one per feature.
        offset: Vec<f64>,
        /// `step_f > 0`, one per feature.
        step: Vec<f64>,
    },
    /// Per feature `f`, its sorted distinct split thresholds `c_0 < … < c_{m−1}` (`m <=`
    /// [`MAX_CUTS_PER_FEATURE`]): `q = 2·#{i : c_i < x} + [x ∈ {c_i}] − 128`, comparing in `f32`
    /// exactly as the tree does. Every comparison of `x` with some `c_i` (`<=, <, >=, >, ==, !=`) is
    /// then an exact comparison of `q` with an integer (see [`threshold_code`]), so trees lose
    /// nothing to quantization.
    Thresholds {
        /// One sorted list of distinct finite thresholds per feature (possibly empty).
        cuts: Vec<Vec<f32>>,
    },
}

/// The smallest code `K` (as `q + 128`) with `code >= K ⟺ x > c_i` (`strict`) or `x >= c_i`:
/// `2i + 2` and `2i + 1` respectively, for the `i`-th cut of a feature.
pub(crate) fn threshold_code(index: usize, strict: bool) -> i64 {
    2 * index as i64 + if strict { 2 } else { 1 }
}

impl InputEncoding {
    /// Checks lengths against `input_len`, finiteness, positive steps and sorted, bounded cut lists.
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`] naming the first problem.
    pub fn validate(&self, input_len: usize) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidModel(m));
        match self {
            Self::Symmetric => Ok(()),
            Self::Affine { offset, step } => {
                if offset.len() != input_len || step.len() != input_len {
                    return bad(format!(
                        "affine input encoding has {} offsets and {} steps for {input_len} features",
                        offset.len(),
                        step.len()
                    ));
                }
                if offset.iter().any(|o| !o.is_finite())
                    || step.iter().any(|s| !(s.is_finite() && *s > 0.0))
                {
                    return bad("affine input encoding has a non-finite offset or step".into());
                }
                Ok(())
            }
            Self::Thresholds { cuts } => {
                if cuts.len() != input_len {
                    return bad(format!(
                        "threshold input encoding has {} features, the model {input_len}",
                        cuts.len()
                    ));
                }
                for (f, c) in cuts.iter().enumerate() {
                    if c.len() > MAX_CUTS_PER_FEATURE {
                        return bad(format!(
                            "feature {f} has {} distinct thresholds; at most {MAX_CUTS_PER_FEATURE} fit an int8 input",
                            c.len()
                        ));
                    }
                    if c.iter().any(|v| !v.is_finite()) || c.windows(2).any(|w| w[0] >= w[1]) {
                        return bad(format!(
                            "feature {f}'s thresholds are not sorted, distinct and finite"
                        ));
                    }
                }
                Ok(())
            }
        }
    }

    /// Encodes one sample (`input_scale` is used by [`InputEncoding::Symmetric`] only).
    ///
    /// # Errors
    /// [`ModelError::InputLength`] or [`ModelError::NonFinite`].
    pub fn encode(&self, input: &[f32], input_scale: f64) -> Result<Vec<i64>> {
        let non_finite = || ModelError::NonFinite {
            context: "input sample".into(),
        };
        if input.iter().any(|x| !x.is_finite()) {
            return Err(non_finite());
        }
        let round = |v: f64, lo: f64| -> Result<i64> {
            let q = v.round();
            if q.is_finite() {
                Ok(q.clamp(lo, 127.0) as i64)
            } else {
                Err(non_finite())
            }
        };
        match self {
            Self::Symmetric => input
                .iter()
                .map(|&x| glassbox_air::encode_symmetric(x, input_scale).ok_or_else(non_finite))
                .collect(),
            Self::Affine { offset, step } => {
                check_len(input, offset.len())?;
                input
                    .iter()
                    .zip(offset.iter().zip(step))
                    .map(|(&x, (o, s))| round((f64::from(x) - o) / s, -127.0))
                    .collect()
            }
            Self::Thresholds { cuts } => {
                check_len(input, cuts.len())?;
                Ok(input
                    .iter()
                    .zip(cuts)
                    .map(|(&x, c)| {
                        let below = c.partition_point(|&v| v < x);
                        let hit = c.get(below).is_some_and(|&v| v == x);
                        2 * below as i64 + i64::from(hit) - 128
                    })
                    .collect())
            }
        }
    }
}

fn check_len(input: &[f32], expected: usize) -> Result<()> {
    if input.len() == expected {
        Ok(())
    } else {
        Err(ModelError::InputLength {
            expected,
            got: input.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_codes_decide_every_comparison_exactly() {
        let cuts = vec![-1.5f32, 0.0, 2.25, 7.0];
        let enc = InputEncoding::Thresholds {
            cuts: vec![cuts.clone()],
        };
        enc.validate(1).unwrap();
        let probes = [-9.0f32, -1.5, -1.0, 0.0, 1e-7, 2.25, 3.0, 7.0, 8.0];
        for &x in &probes {
            let code = enc.encode(&[x], 1.0).unwrap()[0] + 128;
            assert!((0..=8).contains(&code));
            for (i, &c) in cuts.iter().enumerate() {
                let ge = code >= threshold_code(i, false);
                let gt = code >= threshold_code(i, true);
                assert_eq!(ge, x >= c, "x = {x}, c = {c}");
                assert_eq!(gt, x > c, "x = {x}, c = {c}");
                assert_eq!(ge && !gt, x == c);
            }
        }
    }

    #[test]
    fn affine_and_symmetric_round_and_clamp() {
        let enc = InputEncoding::Affine {
            offset: vec![1.0, -2.0],
            step: vec![0.5, 4.0],
        };
        enc.validate(2).unwrap();
        assert_eq!(enc.encode(&[2.25, 1000.0], 1.0).unwrap(), vec![3, 127]);
        assert_eq!(enc.encode(&[-1000.0, -4.0], 1.0).unwrap(), vec![-127, -1]);
        assert_eq!(
            InputEncoding::Symmetric.encode(&[0.5, -3.0], 0.01).unwrap(),
            vec![50, -128]
        );
        assert!(enc.encode(&[1.0], 1.0).is_err());
        assert!(enc.encode(&[f32::NAN, 1.0], 1.0).is_err());
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let unsorted = InputEncoding::Thresholds {
            cuts: vec![vec![1.0, 1.0]],
        };
        assert!(unsorted.validate(1).is_err());
        let too_many = InputEncoding::Thresholds {
            cuts: vec![(0..128).map(|i| i as f32).collect()],
        };
        assert!(too_many.validate(1).is_err());
        let zero_step = InputEncoding::Affine {
            offset: vec![0.0],
            step: vec![0.0],
        };
        assert!(zero_step.validate(1).is_err());
        assert!(InputEncoding::Symmetric.validate(3).is_ok());
    }
}
