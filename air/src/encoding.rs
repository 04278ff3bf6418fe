//! The input encoding a digest commits for every model kind: the rule the prover applies to raw
//! features and the auditor's `verify --inputs` applies again, written once.
//!
//! The encoding is part of the [`ModelDescriptor`](crate::ModelDescriptor), so of the digest and
//! of every proof file: a proof says "these raw features, under this committed encoding, gave
//! these outputs", not only "these int8 codes gave these outputs".

use alloc::vec::Vec;
use core::fmt;

use crate::field::Felt;
use crate::limits::{MAX_CUTS_PER_FEATURE, MAX_DIM};
use crate::normalize::Norm;
use crate::projection::Projection;

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
    /// An affine map of the raw features, then threshold codes of its outputs: `z =`
    /// [`Projection::apply`]`(x)` (binary64 in a fixed order, rounded once to `f32`; see
    /// [`crate::projection`]), then code `k` is [`InputEncoding::Thresholds`]' code of `z_k`
    /// against `cuts[k]`. Preprocessing that mixes features (a PCA) in front of trees: the
    /// encoded features are the map's outputs, the raw sample has `map.inputs` values.
    Projected {
        /// The affine map, one row per encoded feature.
        map: Projection,
        /// One sorted list of distinct finite thresholds per encoded feature.
        cuts: Vec<Vec<f32>>,
    },
    /// Images in boxes: the raw sample is `C` planes of `height × width` values, each encoded
    /// as [`InputEncoding::Symmetric`] and placed at the top left of its own `box_h × box_w`
    /// plane of the model's inputs, which is zero elsewhere (the layout patch layers read; see
    /// [`crate::conv::PatchShape`]). `C` is the input width over `box_h·box_w`.
    Boxed {
        /// Image rows.
        height: u32,
        /// Image columns.
        width: u32,
        /// Rows of each box.
        box_h: u32,
        /// Columns of each box.
        box_w: u32,
    },
    /// Each sample divided by its own norm ([`Norm::apply`]: an ONNX-ML `Normalizer` in front of
    /// the model), then encoded by `inner` ([`InputEncoding::Symmetric`], `Affine` or
    /// `Thresholds`). Like a projection, the normalization is computed outside the proof, by the
    /// prover and again by the auditor's `verify --inputs`; the digest commits to it.
    Normalized {
        /// The norm.
        norm: Norm,
        /// The encoding of the normalized sample.
        inner: alloc::boxed::Box<InputEncoding>,
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

/// `2·#{i : c_i < x} + [x ∈ {c_i}] − 128` over sorted cuts, compared in `f32`.
fn threshold_code(x: f32, cuts: &[f32]) -> i64 {
    let below = cuts.partition_point(|&t| t < x);
    let hit = cuts.get(below).is_some_and(|&t| t == x);
    2 * below as i64 + i64::from(hit) - 128
}

/// Checks one cut list per encoded feature: sorted, distinct, finite, at most
/// [`MAX_CUTS_PER_FEATURE`] each.
fn validate_cuts(cuts: &[Vec<f32>], input_len: usize) -> Result<(), EncodingError> {
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

/// Appends cut lists as field elements: each list's length, then its `f32` bits.
fn cuts_to_elements(cuts: &[Vec<f32>], out: &mut Vec<Felt>) {
    for c in cuts {
        out.push(Felt::new(c.len() as u64));
        out.extend(c.iter().map(|v| Felt::new(u64::from(v.to_bits()))));
    }
}

/// Appends cut lists in the proof-file form: a one-byte count, then each cut's `f32` bits.
fn write_cuts(cuts: &[Vec<f32>], w: &mut Vec<u8>) {
    for c in cuts {
        w.push(c.len() as u8);
        for v in c {
            w.extend_from_slice(&v.to_bits().to_le_bytes());
        }
    }
}

impl InputEncoding {
    /// The tag the descriptor's elements and the proof file carry.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Symmetric => 0,
            Self::Affine { .. } => 1,
            Self::Thresholds { .. } => 2,
            Self::Projected { .. } => 3,
            Self::Boxed { .. } => 4,
            Self::Normalized { .. } => 5,
        }
    }

    /// Raw features per sample, where the encoding fixes them (every kind but
    /// [`InputEncoding::Symmetric`], which takes as many as the model's inputs). Equal to the
    /// model's input width except for [`InputEncoding::Projected`], whose map changes it.
    pub fn raw_len(&self) -> Option<usize> {
        match self {
            Self::Symmetric => None,
            Self::Affine { offset, .. } => Some(offset.len()),
            Self::Thresholds { cuts } => Some(cuts.len()),
            Self::Projected { map, .. } => Some(map.inputs),
            Self::Boxed { .. } => None,
            Self::Normalized { inner, .. } => inner.raw_len(),
        }
    }

    /// Raw features per sample for a model of `input_len` encoded inputs.
    pub fn raw_len_for(&self, input_len: usize) -> usize {
        match self {
            Self::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => {
                let plane = (*box_h as usize) * (*box_w as usize);
                input_len / plane.max(1) * (*height as usize) * (*width as usize)
            }
            _ => self.raw_len().unwrap_or(input_len),
        }
    }

    /// Checks lengths against `input_len` (the encoded features), finiteness, positive steps,
    /// sorted, distinct, bounded cut lists and the projection's shape and bounds.
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
            Self::Thresholds { cuts } => validate_cuts(cuts, input_len),
            Self::Projected { map, cuts } => {
                map.validate(input_len).map_err(EncodingError)?;
                validate_cuts(cuts, input_len)
            }
            Self::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => {
                let (h, w, bh, bw) = (*height, *width, *box_h, *box_w);
                let plane = (bh as usize).saturating_mul(bw as usize);
                if h == 0 || w == 0 || h > bh || w > bw || plane == 0 || plane > MAX_DIM {
                    return Err(EncodingError(
                        "the boxed input encoding's image does not fit its box",
                    ));
                }
                if !input_len.is_multiple_of(plane) {
                    return Err(EncodingError(
                        "the boxed input encoding's boxes do not tile the model's inputs",
                    ));
                }
                Ok(())
            }
            Self::Normalized { inner, .. } => match **inner {
                Self::Symmetric | Self::Affine { .. } | Self::Thresholds { .. } => {
                    inner.validate(input_len)
                }
                _ => Err(EncodingError(
                    "a normalized input encoding wraps a symmetric, affine or threshold encoding",
                )),
            },
        }
    }

    /// Encodes one sample (`input_scale` is used by [`InputEncoding::Symmetric`] only).
    ///
    /// # Errors
    /// [`EncodeError`] for a sample of the wrong length or a value that does not encode.
    pub fn encode(&self, x: &[f32], input_scale: f64) -> Result<Vec<i64>, EncodeError> {
        if let Self::Boxed {
            height,
            width,
            box_h,
            box_w,
        } = self
        {
            let (h, w) = (*height as usize, *width as usize);
            let (bh, bw) = (*box_h as usize, *box_w as usize);
            if h == 0 || w == 0 || !x.len().is_multiple_of(h * w) {
                return Err(EncodeError::Length {
                    expected: h * w,
                    got: x.len(),
                });
            }
            let codes = Self::Symmetric.encode(x, input_scale)?;
            let mut out = alloc::vec![0i64; x.len() / (h * w) * bh * bw];
            for (f, q) in codes.into_iter().enumerate() {
                let (c, y, col) = (f / (h * w), (f / w) % h, f % w);
                out[c * bh * bw + y * bw + col] = q;
            }
            return Ok(out);
        }
        if let Self::Normalized { norm, inner } = self {
            if let Some(feature) = x.iter().position(|v| !v.is_finite()) {
                return Err(EncodeError::NotFinite { feature });
            }
            return inner.encode(&norm.apply(x), input_scale);
        }
        let expected = self.raw_len().unwrap_or(x.len());
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
                .map(|(&v, c)| threshold_code(v, c))
                .collect()),
            Self::Projected { map, cuts } => Ok(map
                .apply(x)
                .iter()
                .zip(cuts)
                .map(|(&z, c)| threshold_code(z, c))
                .collect()),
            Self::Boxed { .. } | Self::Normalized { .. } => Err(EncodeError::Length {
                expected: 0,
                got: x.len(),
            }),
        }
    }

    /// The encoding as field elements, in the order the digest absorbs them: the tag, then
    /// every `f64` as two 32-bit limbs (affine), every cut list's length and `f32` bits
    /// (thresholds), or the map ([`Projection::to_elements`]) and then the cut lists.
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
            Self::Thresholds { cuts } => cuts_to_elements(cuts, out),
            Self::Projected { map, cuts } => {
                map.to_elements(out);
                cuts_to_elements(cuts, out);
            }
            Self::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => out.extend([height, width, box_h, box_w].map(|&v| Felt::new(u64::from(v)))),
            Self::Normalized { norm, inner } => {
                out.push(Felt::new(u64::from(norm.code())));
                inner.to_elements(out);
            }
        }
    }

    /// Appends the proof-file form: the tag, then per feature `offset, step` as `f64` bits
    /// (affine), a one-byte count and the `f32` bits of each cut (thresholds), or the map
    /// ([`Projection::write`]) and then the cut lists (projected).
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
            Self::Thresholds { cuts } => write_cuts(cuts, w),
            Self::Projected { map, cuts } => {
                map.write(w);
                write_cuts(cuts, w);
            }
            Self::Boxed {
                height,
                width,
                box_h,
                box_w,
            } => {
                for v in [height, width, box_h, box_w] {
                    w.extend_from_slice(&v.to_le_bytes());
                }
            }
            Self::Normalized { norm, inner } => {
                w.push(norm.code());
                inner.write(w);
            }
        }
    }
}

#[cfg(test)]
mod tests;
