//! The compiled-model file: `b"GBMODEL\0"`, a little-endian `u16` format version, then the postcard
//! encoding of a [`QuantizedModel`]. One canonical encoding: trailing bytes are refused.

use crate::error::{ModelError, Result};
use crate::quant::model::QuantizedModel;

/// Magic bytes at the start of every artifact.
pub const MAGIC: &[u8; 8] = b"GBMODEL\0";
/// The artifact format version written and read by this build.
pub const FORMAT_VERSION: u16 = 6;
/// Largest artifact accepted (256 MiB).
pub const MAX_ARTIFACT_BYTES: usize = 256 << 20;

impl QuantizedModel {
    /// Encodes the model as an artifact. Deterministic: equal models give equal bytes.
    ///
    /// # Errors
    /// [`ModelError::Encoding`] if postcard fails, or a [`QuantizedModel::validate`] error.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let mut out = Vec::with_capacity(MAGIC.len() + 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let body = postcard::to_stdvec(self).map_err(|e| ModelError::Encoding(e.to_string()))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decodes and validates an artifact.
    ///
    /// # Errors
    /// [`ModelError::TooLarge`], [`ModelError::BadMagic`], [`ModelError::UnsupportedVersion`],
    /// [`ModelError::Encoding`], [`ModelError::TrailingBytes`], or a [`QuantizedModel::validate`] error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_ARTIFACT_BYTES {
            return Err(ModelError::TooLarge {
                what: "artifact bytes",
                limit: MAX_ARTIFACT_BYTES as u64,
                got: bytes.len() as u64,
            });
        }
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(ModelError::BadMagic)?;
        let (version, body) = match rest {
            [a, b, body @ ..] => (u16::from_le_bytes([*a, *b]), body),
            _ => {
                return Err(ModelError::Encoding(
                    "artifact truncated before the version".into(),
                ))
            }
        };
        if version != FORMAT_VERSION {
            return Err(ModelError::UnsupportedVersion {
                expected: FORMAT_VERSION,
                got: version,
            });
        }
        let (model, remainder): (Self, &[u8]) =
            postcard::take_from_bytes(body).map_err(|e| ModelError::Encoding(e.to_string()))?;
        if !remainder.is_empty() {
            return Err(ModelError::TrailingBytes {
                count: remainder.len(),
            });
        }
        model.validate()?;
        // one encoding per model: postcard accepts overlong varints, so re-encode and compare
        if model.to_bytes()? != bytes {
            return Err(ModelError::Encoding(
                "artifact is not in canonical encoding".into(),
            ));
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::model::{QuantizedDense, MAX_PROOF_BATCH};

    #[test]
    fn overlong_varints_are_refused() {
        let bytes = model().to_bytes().unwrap();
        // the name length (1) right after magic and version, re-encoded as the two bytes 0x81 0x00
        let at = MAGIC.len() + 2;
        assert_eq!(bytes[at], 1);
        let mut long = bytes[..at].to_vec();
        long.extend_from_slice(&[0x81, 0x00]);
        long.extend_from_slice(&bytes[at + 1..]);
        assert!(QuantizedModel::from_bytes(&long).is_err());
        assert!(QuantizedModel::from_bytes(&bytes).is_ok());
    }

    fn model() -> QuantizedModel {
        QuantizedModel {
            name: "m".into(),
            input_len: 2,
            input_scale: 0.01,
            input_encoding: crate::quant::encoding::InputEncoding::Symmetric,
            layers: vec![
                QuantizedDense {
                    n_in: 2,
                    n_out: 1,
                    weights: vec![1, -1],
                    bias: vec![5],
                    multiplier: Some(300),
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
                QuantizedDense {
                    n_in: 1,
                    n_out: 2,
                    weights: vec![3, -4],
                    bias: vec![-7, 7],
                    multiplier: None,
                    groups: 1,
                    conv: None,
                    patch: None,
                    table: None,
                },
            ],
            output_scale: 0.002,
            classifier: false,
            proof_batch: None,
        }
    }

    /// An artifact of `m` written without [`QuantizedModel::validate`] (what a stranger may send).
    fn unvalidated_bytes(m: &QuantizedModel) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&postcard::to_stdvec(m).unwrap());
        bytes
    }

    #[test]
    fn round_trip() {
        let m = model();
        let bytes = m.to_bytes().unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(QuantizedModel::from_bytes(&bytes).unwrap(), m);
        assert_eq!(m.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn rejects_trailing_magic_version_truncation() {
        let bytes = model().to_bytes().unwrap();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            QuantizedModel::from_bytes(&trailing),
            Err(ModelError::TrailingBytes { count: 1 })
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert_eq!(
            QuantizedModel::from_bytes(&magic),
            Err(ModelError::BadMagic)
        );
        let mut version = bytes.clone();
        version[8] = 1; // a version-1 artifact (before input encodings)
        assert_eq!(
            QuantizedModel::from_bytes(&version),
            Err(ModelError::UnsupportedVersion {
                expected: FORMAT_VERSION,
                got: 1
            })
        );
        for cut in 0..bytes.len() {
            assert!(
                QuantizedModel::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn rejects_invalid_model_inside_valid_encoding() {
        let mut m = model();
        m.layers[0].multiplier = None;
        assert!(matches!(
            QuantizedModel::from_bytes(&unvalidated_bytes(&m)),
            Err(ModelError::InvalidModel(_))
        ));
    }

    #[test]
    fn proof_batch_round_trips_and_is_bounded() {
        let mut m = model();
        m.proof_batch = Some(MAX_PROOF_BATCH);
        let bytes = m.to_bytes().unwrap();
        assert_eq!(QuantizedModel::from_bytes(&bytes).unwrap(), m);
        for bad in [0, MAX_PROOF_BATCH + 1] {
            m.proof_batch = Some(bad);
            assert!(matches!(m.to_bytes(), Err(ModelError::InvalidModel(_))));
            assert!(matches!(
                QuantizedModel::from_bytes(&unvalidated_bytes(&m)),
                Err(ModelError::InvalidModel(_))
            ));
        }
    }
}
