//! Input encodings: how float features become the int8 inputs a proof is about.
//!
//! The encoding itself ([`InputEncoding`]) lives in `glassbox-air`, because the digest commits to
//! it and the auditor's `verify --inputs` applies it again; this file adds what the model crate
//! needs around it: its place in the `.gbm` artifact (a serde mirror with the same variants, so
//! artifacts keep their bytes) and the threshold codes trees compare against.

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

pub use glassbox_air::{InputEncoding, Norm, Projection, MAX_CUTS_PER_FEATURE};

/// The smallest code `K` (as `q + 128`) with `code >= K ⟺ x > c_i` (`strict`) or `x >= c_i`:
/// `2i + 2` and `2i + 1` respectively, for the `i`-th cut of a feature.
pub(crate) fn threshold_code(index: usize, strict: bool) -> i64 {
    2 * index as i64 + if strict { 2 } else { 1 }
}

/// Checks an encoding against the model's input width.
///
/// # Errors
/// [`ModelError::InvalidModel`] naming the first problem.
pub(crate) fn validate(encoding: &InputEncoding, input_len: usize) -> Result<()> {
    encoding
        .validate(input_len)
        .map_err(|e| ModelError::InvalidModel(e.to_string()))
}

/// Encodes one sample.
///
/// # Errors
/// [`ModelError::InputLength`] or [`ModelError::NonFinite`].
pub(crate) fn encode(encoding: &InputEncoding, input: &[f32], scale: f64) -> Result<Vec<i64>> {
    encoding.encode(input, scale).map_err(|e| match e {
        glassbox_air::EncodeError::Length { expected, got } => {
            ModelError::InputLength { expected, got }
        }
        glassbox_air::EncodeError::NotFinite { .. } => ModelError::NonFinite {
            context: "input sample".into(),
        },
    })
}

/// [`InputEncoding`] as the artifact stores it (serde's remote derive: same variants, fields
/// and order as the type it mirrors).
#[derive(Serialize, Deserialize)]
#[serde(remote = "InputEncoding")]
pub(crate) enum InputEncodingDef {
    Symmetric,
    Affine {
        offset: Vec<f64>,
        step: Vec<f64>,
    },
    Thresholds {
        cuts: Vec<Vec<f32>>,
    },
    Projected {
        #[serde(with = "ProjectionDef")]
        map: Projection,
        cuts: Vec<Vec<f32>>,
    },
    Boxed {
        height: u32,
        width: u32,
        box_h: u32,
        box_w: u32,
    },
    Normalized {
        #[serde(with = "NormDef")]
        norm: Norm,
        #[serde(with = "boxed_encoding")]
        inner: Box<InputEncoding>,
    },
}

/// [`Norm`] as the artifact stores it (serde's remote derive).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Norm")]
pub(crate) enum NormDef {
    Max,
    L1,
    L2,
}

/// A boxed inner encoding through [`InputEncodingDef`].
mod boxed_encoding {
    use super::{InputEncoding, InputEncodingDef};

    pub(super) fn serialize<S: serde::Serializer>(
        v: &InputEncoding,
        s: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        InputEncodingDef::serialize(v, s)
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Box<InputEncoding>, D::Error> {
        InputEncodingDef::deserialize(d).map(Box::new)
    }
}

/// [`Projection`] as the artifact stores it (serde's remote derive).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Projection")]
pub(crate) struct ProjectionDef {
    inputs: usize,
    matrix: Vec<f64>,
    offset: Vec<f64>,
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
        validate(&enc, 1).unwrap();
        let probes = [-9.0f32, -1.5, -1.0, 0.0, 1e-7, 2.25, 3.0, 7.0, 8.0];
        for &x in &probes {
            let code = encode(&enc, &[x], 1.0).unwrap()[0] + 128;
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
    fn encoding_errors_become_model_errors() {
        let enc = InputEncoding::Affine {
            offset: vec![1.0, -2.0],
            step: vec![0.5, 4.0],
        };
        assert!(matches!(
            encode(&enc, &[1.0], 1.0),
            Err(ModelError::InputLength {
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            encode(&enc, &[f32::NAN, 1.0], 1.0),
            Err(ModelError::NonFinite { .. })
        ));
        let unsorted = InputEncoding::Thresholds {
            cuts: vec![vec![1.0, 1.0]],
        };
        assert!(matches!(
            validate(&unsorted, 1),
            Err(ModelError::InvalidModel(_))
        ));
    }
}
