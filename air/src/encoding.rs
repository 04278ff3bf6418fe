//! The input encoding a digest commits for every model kind: the rule the prover applies to raw
//! features and the auditor's `verify --inputs` applies again, written once.
//!
//! The encoding is part of the [`ModelDescriptor`](crate::ModelDescriptor), so of the digest and
//! of every proof file: a proof says "these raw features, under this committed encoding, gave
//! these outputs", not only "these int8 codes gave these outputs".

use alloc::vec::Vec;
use core::fmt;

use crate::field::Felt;
use crate::limits::MAX_CUTS_PER_FEATURE;

/// How a float sample becomes the int8 inputs a proof is about.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEncoding {
    /// Every feature: `q = clamp(round_half_away_from_zero(x / input_scale), -128, 127)` (MLPs
    /// and CNNs; the scale is the descriptor's `input_scale`).
    Symmetric,
    /// Per feature `f`: `q = clamp(round_half_away_from_zero((x − offset_f) / step_f), -127, 127)`
    /// (linear models and folded preprocessing, whose per-feature steps are folded into the
    /// weights).
    Affine {
        /// `offset_f`, one per feature.
        offset: Vec<f64>,
        /// `step_f > 0`, one per feature.
        step: Vec<f64>,
    },
    /// Per feature `f`, its sorted distinct split thresholds `c_0 < … < c_{m−1}` (`m <=`
    /// [`MAX_CUTS_PER_FEATURE`]): `q = 2·#{i : c_i < x} + [x ∈ {c_i}] − 128`, compared in `f32`
    /// exactly as a tree compares (trees lose nothing to quantization).
    Thresholds {
        /// One sorted list of distinct finite thresholds per feature (possibly empty).
        cuts: Vec<Vec<f32>>,
    },
}

/// Why a sample does not encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The sample has the wrong number of features.
    Length {
        /// Features the encoding takes.
        expected: usize,
        /// Features the sample has.
        got: usize,
    },
    /// A feature is NaN or infinite, or its quotient overflows.
    NotFinite {
        /// The feature.
        feature: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { expected, got } => {
                write!(f, "a sample has {got} features; the model takes {expected}")
            }
            Self::NotFinite { feature } => write!(f, "feature {feature} is not a finite number"),
        }
    }
}

/// Why an encoding is malformed (the first problem, in words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodingError(pub &'static str);

impl fmt::Display for EncodingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// `q = clamp(round(x / input_scale), -128, 127)`, rounding half away from zero; `None` if the
/// quotient is not finite.
pub fn encode_symmetric(x: f32, input_scale: f64) -> Option<i64> {
    let q = libm::round(f64::from(x) / input_scale);
    q.is_finite().then(|| q.clamp(-128.0, 127.0) as i64)
}

impl InputEncoding {
    /// The tag the descriptor's elements and the proof file carry.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Symmetric => 0,
            Self::Affine { .. } => 1,
            Self::Thresholds { .. } => 2,
        }
    }

    /// Checks lengths against `input_len`, finiteness, positive steps and sorted, distinct,
    /// bounded cut lists.
    ///
    /// # Errors
    /// The first problem.
    pub fn validate(&self, input_len: usize) -> Result<(), EncodingError> {
        match self {
            Self::Symmetric => Ok(()),
            Self::Affine { offset, step } => {
                if offset.len() != input_len || step.len() != input_len {
                    return Err(EncodingError(
                        "the affine input encoding does not have one offset and step per feature",
                    ));
                }
                if offset.iter().any(|o| !o.is_finite())
                    || step.iter().any(|s| !(s.is_finite() && *s > 0.0))
                {
                    return Err(EncodingError(
                        "the affine input encoding has a non-finite offset or a step that is not positive",
                    ));
                }
                Ok(())
            }
            Self::Thresholds { cuts } => {
                if cuts.len() != input_len {
                    return Err(EncodingError(
                        "the threshold input encoding does not have one cut list per feature",
                    ));
                }
                if cuts.iter().any(|c| c.len() > MAX_CUTS_PER_FEATURE) {
                    return Err(EncodingError(
                        "a feature has more than 127 thresholds, more than an int8 input holds",
                    ));
                }
                if cuts
                    .iter()
                    .any(|c| c.iter().any(|v| !v.is_finite()) || c.windows(2).any(|w| w[0] >= w[1]))
                {
                    return Err(EncodingError(
                        "a feature's thresholds are not sorted, distinct and finite",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Encodes one sample (`input_scale` is used by [`InputEncoding::Symmetric`] only).
    ///
    /// # Errors
    /// [`EncodeError`] for a sample of the wrong length or a value that does not encode.
    pub fn encode(&self, x: &[f32], input_scale: f64) -> Result<Vec<i64>, EncodeError> {
        let expected = match self {
            Self::Symmetric => x.len(),
            Self::Affine { offset, .. } => offset.len(),
            Self::Thresholds { cuts } => cuts.len(),
        };
        if x.len() != expected {
            return Err(EncodeError::Length {
                expected,
                got: x.len(),
            });
        }
        if let Some(feature) = x.iter().position(|v| !v.is_finite()) {
            return Err(EncodeError::NotFinite { feature });
        }
        let not_finite = |feature| EncodeError::NotFinite { feature };
        match self {
            Self::Symmetric => x
                .iter()
                .enumerate()
                .map(|(f, &v)| encode_symmetric(v, input_scale).ok_or(not_finite(f)))
                .collect(),
            Self::Affine { offset, step } => x
                .iter()
                .enumerate()
                .map(|(f, &v)| {
                    let q = libm::round((f64::from(v) - offset[f]) / step[f]);
                    q.is_finite()
                        .then(|| q.clamp(-127.0, 127.0) as i64)
                        .ok_or(not_finite(f))
                })
                .collect(),
            Self::Thresholds { cuts } => Ok(x
                .iter()
                .zip(cuts)
                .map(|(&v, c)| {
                    let below = c.partition_point(|&t| t < v);
                    let hit = c.get(below).is_some_and(|&t| t == v);
                    2 * below as i64 + i64::from(hit) - 128
                })
                .collect()),
        }
    }

    /// The encoding as field elements, in the order the digest absorbs them: the tag, then
    /// every `f64` as two 32-bit limbs (affine) or every cut list's length and `f32` bits.
    pub fn to_elements(&self, out: &mut Vec<Felt>) {
        out.push(Felt::new(u64::from(self.tag())));
        let f64_limbs = |out: &mut Vec<Felt>, v: f64| {
            let bits = v.to_bits();
            out.push(Felt::new(bits & 0xffff_ffff));
            out.push(Felt::new(bits >> 32));
        };
        match self {
            Self::Symmetric => {}
            Self::Affine { offset, step } => {
                for (&o, &s) in offset.iter().zip(step) {
                    f64_limbs(out, o);
                    f64_limbs(out, s);
                }
            }
            Self::Thresholds { cuts } => {
                for c in cuts {
                    out.push(Felt::new(c.len() as u64));
                    out.extend(c.iter().map(|v| Felt::new(u64::from(v.to_bits()))));
                }
            }
        }
    }

    /// Appends the proof-file form: the tag, then per feature `offset, step` as `f64` bits
    /// (affine) or a one-byte count and the `f32` bits of each cut (thresholds).
    pub fn write(&self, w: &mut Vec<u8>) {
        w.push(self.tag());
        match self {
            Self::Symmetric => {}
            Self::Affine { offset, step } => {
                for (o, s) in offset.iter().zip(step) {
                    w.extend_from_slice(&o.to_bits().to_le_bytes());
                    w.extend_from_slice(&s.to_bits().to_le_bytes());
                }
            }
            Self::Thresholds { cuts } => {
                for c in cuts {
                    w.push(c.len() as u8);
                    for v in c {
                        w.extend_from_slice(&v.to_bits().to_le_bytes());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn rounds_half_away_from_zero_and_saturates() {
        assert_eq!(encode_symmetric(0.5, 1.0), Some(1));
        assert_eq!(encode_symmetric(-0.5, 1.0), Some(-1));
        assert_eq!(encode_symmetric(0.49, 1.0), Some(0));
        assert_eq!(encode_symmetric(1.0, 1.0 / 127.0), Some(127));
        assert_eq!(encode_symmetric(-2.0, 1.0 / 127.0), Some(-128));
        assert_eq!(encode_symmetric(f32::NAN, 1.0), None);
        assert_eq!(encode_symmetric(1.0, 0.0), None);
        for x in [-1.3f32, -0.25, 0.0, 0.1, 0.75, 2.5] {
            let q = (f64::from(x) / 0.01).round().clamp(-128.0, 127.0) as i64;
            assert_eq!(encode_symmetric(x, 0.01), Some(q), "{x}");
        }
    }

    #[test]
    fn affine_and_threshold_codes() {
        let affine = InputEncoding::Affine {
            offset: vec![1.0, -2.0],
            step: vec![0.5, 4.0],
        };
        assert_eq!(affine.validate(2), Ok(()));
        assert_eq!(affine.encode(&[2.25, 1000.0], 1.0), Ok(vec![3, 127]));
        assert_eq!(affine.encode(&[-1000.0, -4.0], 1.0), Ok(vec![-127, -1]));
        assert_eq!(
            affine.encode(&[1.0], 1.0),
            Err(EncodeError::Length {
                expected: 2,
                got: 1
            })
        );
        assert_eq!(
            affine.encode(&[1.0, f32::INFINITY], 1.0),
            Err(EncodeError::NotFinite { feature: 1 })
        );
        let cuts = InputEncoding::Thresholds {
            cuts: vec![vec![-1.5, 0.0, 2.25]],
        };
        let codes: Vec<i64> = [-9.0f32, -1.5, -1.0, 0.0, 1.0, 2.25, 3.0]
            .iter()
            .map(|&x| cuts.encode(&[x], 1.0).map(|q| q[0] + 128))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(codes, vec![0, 1, 2, 3, 4, 5, 6]);
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

    #[test]
    fn every_field_reaches_the_elements() {
        let base = InputEncoding::Affine {
            offset: vec![1.0, 2.0],
            step: vec![0.5, 0.25],
        };
        let elements = |e: &InputEncoding| {
            let mut out = Vec::new();
            e.to_elements(&mut out);
            out
        };
        let mut changed = base.clone();
        if let InputEncoding::Affine { step, .. } = &mut changed {
            step[1] = 0.2500001;
        }
        assert_ne!(elements(&base), elements(&changed));
        let a = InputEncoding::Thresholds {
            cuts: vec![vec![1.0], vec![]],
        };
        let b = InputEncoding::Thresholds {
            cuts: vec![vec![], vec![1.0]],
        };
        assert_ne!(elements(&a), elements(&b));
    }
}
