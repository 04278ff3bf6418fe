//! What an auditor checks beyond the proofs themselves, written once for the CLI and the browser
//! page: that the proven int8 inputs are the committed encoding of the raw inputs the auditor
//! holds (`verify --inputs`), and that a bundle manifest states what its proofs prove.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use glassbox_air::{bundle_id, EncodeError, InputEncoding, ModelDigest};

use crate::bundle::{check_bundle, BundleClaim, BundleError};
use crate::claim::Claim;

/// Why the auditor's inputs or a manifest do not match the proofs, or cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditError {
    /// A raw input of this sample does not encode to a finite value.
    NotFinite {
        /// Sample index in the auditor's file.
        sample: usize,
        /// The feature.
        feature: usize,
    },
    /// The auditor holds another number of samples than the proof or the bundle.
    SampleCount {
        /// Samples in the auditor's file.
        file: usize,
        /// Samples the proof (or the bundle) holds.
        proven: usize,
        /// The bundle's sample count, when one chunk of it is checked.
        bundle: Option<usize>,
    },
    /// A sample has another number of features than the proof's.
    FeatureCount {
        /// Sample index in the bundle.
        sample: usize,
        /// Features in the auditor's file.
        file: usize,
        /// Features the proof holds.
        proven: usize,
    },
    /// A proven input differs from the auditor's encoded one.
    Value {
        /// Sample index in the bundle.
        sample: usize,
        /// Feature index.
        feature: usize,
        /// The proven int8 input.
        proven: i64,
        /// The auditor's raw input, encoded.
        encoded: i64,
    },
    /// One chunk's samples match, but it belongs to a bundle of other inputs.
    BundleOfOtherInputs {
        /// The bundle id the proof binds.
        proven: [u8; 32],
        /// The id of the auditor's inputs.
        inputs: [u8; 32],
        /// Samples in the auditor's file.
        samples: usize,
    },
    /// The manifest names another model than the proofs are of.
    ManifestDigest {
        /// The manifest's digest.
        listed: ModelDigest,
        /// The digest the proofs verified against.
        proven: ModelDigest,
    },
    /// The proofs are not one bundle.
    Bundle(BundleError),
    /// The manifest states another total than the bundle holds.
    ManifestSamples {
        /// Stated.
        stated: usize,
        /// Held.
        held: usize,
    },
    /// The manifest lists another sample count for a file than its proof holds.
    ManifestFileSamples {
        /// The file.
        file: String,
        /// Samples its proof holds.
        held: usize,
        /// Samples the manifest lists.
        listed: usize,
    },
    /// The manifest states another security level than a proof offers.
    ManifestSecurity {
        /// Stated bits.
        stated: u32,
        /// The file.
        file: String,
        /// Bits its proof offers.
        offered: u32,
    },
}

impl AuditError {
    /// Whether the check could not be made (a usage error), rather than failed.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::NotFinite { .. })
    }
}

fn short_hex(id: &[u8; 32]) -> String {
    use core::fmt::Write;
    let mut s = String::new();
    for b in &id[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFinite { sample, feature } => write!(
                f,
                "feature {feature} of sample {sample} of the inputs does not encode (not finite)"
            ),
            Self::SampleCount {
                file,
                proven,
                bundle: Some(b),
            } => write!(
                f,
                "inputs mismatch: the inputs file holds {file} samples; the proof holds {proven} \
                 (of a bundle of {b})"
            ),
            Self::SampleCount { file, proven, .. } => write!(
                f,
                "inputs mismatch: the inputs file holds {file} samples; the bundle holds {proven}"
            ),
            Self::FeatureCount {
                sample,
                file,
                proven,
            } => write!(
                f,
                "inputs mismatch: sample {sample} has {file} features in the inputs file; the \
                 proof's have {proven}"
            ),
            Self::Value {
                sample,
                feature,
                proven,
                encoded,
            } => write!(
                f,
                "inputs mismatch: sample {sample}, feature {feature}: the proof has {proven}, the \
                 inputs file encodes to {encoded}"
            ),
            Self::BundleOfOtherInputs {
                proven,
                inputs,
                samples,
            } => write!(
                f,
                "inputs mismatch: this chunk's samples match, but the bundle it belongs to ({}) \
                 is not the bundle of these {samples} inputs ({})",
                short_hex(proven),
                short_hex(inputs)
            ),
            Self::ManifestDigest { listed, proven } => write!(
                f,
                "manifest digest mismatch: the manifest names model {listed}, the proofs are of \
                 {proven}"
            ),
            Self::Bundle(e) => write!(f, "{e}"),
            Self::ManifestSamples { stated, held } => write!(
                f,
                "manifest sample count mismatch: the manifest states {stated} samples; the bundle \
                 holds {held}"
            ),
            Self::ManifestFileSamples { file, held, listed } => write!(
                f,
                "manifest sample count mismatch: {file} holds {held} samples; the manifest lists \
                 {listed}"
            ),
            Self::ManifestSecurity {
                stated,
                file,
                offered,
            } => write!(
                f,
                "manifest security mismatch: the manifest states {stated} bits; {file} offers \
                 {offered}"
            ),
        }
    }
}

impl core::error::Error for AuditError {}

/// The auditor's raw inputs under the encoding the digest commits (every model kind: the
/// symmetric scale, affine steps or threshold lists are part of the descriptor).
///
/// # Errors
/// [`AuditError::FeatureCount`] for a sample of the wrong width, [`AuditError::NotFinite`] for a
/// value that does not encode.
pub fn encode_inputs(
    raw: &[Vec<f32>],
    encoding: &InputEncoding,
    input_scale: f64,
) -> Result<Vec<Vec<i64>>, AuditError> {
    raw.iter()
        .enumerate()
        .map(|(sample, x)| {
            encoding.encode(x, input_scale).map_err(|e| match e {
                EncodeError::Length { expected, got } => AuditError::FeatureCount {
                    sample,
                    file: got,
                    proven: expected,
                },
                EncodeError::NotFinite { feature } => AuditError::NotFinite { sample, feature },
            })
        })
        .collect()
}

/// The first sample and feature where the proven inputs differ from the encoded ones (samples
/// numbered from `first`).
fn compare<'a>(
    encoded: &[Vec<i64>],
    proven: impl Iterator<Item = &'a Vec<i64>>,
    first: usize,
) -> Result<(), AuditError> {
    for (i, (want, got)) in encoded.iter().zip(proven).enumerate() {
        let sample = first + i;
        if want.len() != got.len() {
            return Err(AuditError::FeatureCount {
                sample,
                file: want.len(),
                proven: got.len(),
            });
        }
        if let Some(feature) = (0..want.len()).find(|&f| want[f] != got[f]) {
            return Err(AuditError::Value {
                sample,
                feature,
                proven: got[feature],
                encoded: want[feature],
            });
        }
    }
    Ok(())
}

/// What [`check_inputs`] matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputsMatch {
    /// Every sample of the proof, in order.
    All {
        /// Samples.
        samples: usize,
    },
    /// This chunk's slice of the auditor's whole bundle, and the bundle id of all of them.
    Chunk {
        /// First sample of the chunk.
        first: usize,
        /// One past its last.
        end: usize,
        /// Samples the auditor holds.
        of: usize,
    },
}

impl fmt::Display for InputsMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All { samples } => write!(f, "all {samples} samples, in order"),
            Self::Chunk { first, end, of } => write!(
                f,
                "samples {first}..{end} of the auditor's {of}, and the bundle id of all of them"
            ),
        }
    }
}

/// Checks one proof's inputs against the auditor's raw inputs: either exactly the proof's
/// samples, or (for one chunk of a bundle) the whole bundle's, whose slice must match and whose
/// bundle id must be the one the proof binds.
///
/// # Errors
/// The first [`AuditError`].
pub fn check_inputs(claim: &Claim, raw: &[Vec<f32>]) -> Result<InputsMatch, AuditError> {
    let encoded = encode_inputs(raw, &claim.input_encoding, claim.input_scale)?;
    let b = claim.bundle;
    let (first, end) = (b.first_sample as usize, b.end_sample(claim.inputs.len()));
    if encoded.len() == b.samples as usize && !claim.is_whole_bundle() {
        let slice = encoded.get(first..end).unwrap_or_default();
        compare(slice, claim.inputs.iter(), first)?;
        let id = bundle_id(encoded.iter().map(Vec::as_slice));
        if id != b.id {
            return Err(AuditError::BundleOfOtherInputs {
                proven: b.id,
                inputs: id,
                samples: encoded.len(),
            });
        }
        return Ok(InputsMatch::Chunk {
            first,
            end,
            of: encoded.len(),
        });
    }
    if encoded.len() != claim.inputs.len() {
        return Err(AuditError::SampleCount {
            file: encoded.len(),
            proven: claim.inputs.len(),
            bundle: Some(b.samples as usize),
        });
    }
    compare(&encoded, claim.inputs.iter(), 0)?;
    Ok(InputsMatch::All {
        samples: encoded.len(),
    })
}

/// Checks a verified bundle's inputs against the auditor's raw inputs, all samples in order.
///
/// # Errors
/// The first [`AuditError`].
pub fn check_bundle_inputs(bundle: &BundleClaim, raw: &[Vec<f32>]) -> Result<(), AuditError> {
    let encoded = match bundle.claims.first() {
        Some(c) => encode_inputs(raw, &c.input_encoding, c.input_scale)?,
        None => Vec::new(),
    };
    if encoded.len() != bundle.samples {
        return Err(AuditError::SampleCount {
            file: encoded.len(),
            proven: bundle.samples,
            bundle: None,
        });
    }
    compare(&encoded, bundle.inputs(), 0)
}

/// A manifest entry must name a file beside the manifest, nothing elsewhere (it comes from
/// strangers).
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Checks the sample count a manifest lists for `file` against its verified proof.
///
/// # Errors
/// [`AuditError::ManifestFileSamples`].
pub fn check_listed_samples(file: &str, listed: usize, claim: &Claim) -> Result<(), AuditError> {
    if claim.inputs.len() == listed {
        return Ok(());
    }
    Err(AuditError::ManifestFileSamples {
        file: file.into(),
        held: claim.inputs.len(),
        listed,
    })
}

/// Checks a manifest's total samples and security level against a verified bundle (`files` in
/// the bundle's order).
///
/// # Errors
/// [`AuditError::ManifestSamples`] or [`AuditError::ManifestSecurity`].
pub fn check_manifest_totals<'a>(
    samples: usize,
    security_bits: u32,
    files: impl Iterator<Item = &'a str>,
    bundle: &BundleClaim,
) -> Result<(), AuditError> {
    if samples != bundle.samples {
        return Err(AuditError::ManifestSamples {
            stated: samples,
            held: bundle.samples,
        });
    }
    for (file, claim) in files.zip(&bundle.claims) {
        if claim.security_bits != security_bits {
            return Err(AuditError::ManifestSecurity {
                stated: security_bits,
                file: file.into(),
                offered: claim.security_bits,
            });
        }
    }
    Ok(())
}

/// What a bundle manifest states: the model, the total samples, the security level and its
/// files in order.
#[derive(Clone, Debug)]
pub struct StatedBundle<'a> {
    /// The model the manifest names.
    pub digest: ModelDigest,
    /// Total samples.
    pub samples: usize,
    /// Security of every proof.
    pub security_bits: u32,
    /// The proof files, in bundle order.
    pub files: Vec<&'a str>,
}

/// Checks proofs already verified against `digest` (their claims, in the manifest's order) as the
/// bundle `stated` describes: the manifest's model, one bundle ([`check_bundle`]), the
/// manifest's totals, then the auditor's inputs if given. Returns the bundle when the proofs form
/// one, and the verdict.
pub fn check_stated_bundle(
    stated: &StatedBundle<'_>,
    digest: &ModelDigest,
    claims: Vec<Claim>,
    raw: Option<&[Vec<f32>]>,
) -> (Option<BundleClaim>, Result<(), AuditError>) {
    if stated.digest != *digest {
        let e = AuditError::ManifestDigest {
            listed: stated.digest,
            proven: *digest,
        };
        return (None, Err(e));
    }
    let bundle = match check_bundle(claims) {
        Ok(b) => b,
        Err(e) => return (None, Err(AuditError::Bundle(e))),
    };
    let verdict = check_manifest_totals(
        stated.samples,
        stated.security_bits,
        stated.files.iter().copied(),
        &bundle,
    )
    .and_then(|()| raw.map_or(Ok(()), |r| check_bundle_inputs(&bundle, r)));
    (Some(bundle), verdict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn plain_names_only() {
        assert!(is_plain_file_name("b.1.gbp"));
        for bad in ["", ".", "..", "../b.gbp", "/etc/passwd", "a\\b", "x\0"] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn raw_inputs_encode_under_every_committed_encoding() {
        let sym = InputEncoding::Symmetric;
        assert_eq!(
            encode_inputs(&[vec![0.5], vec![f32::NAN]], &sym, 0.01),
            Err(AuditError::NotFinite {
                sample: 1,
                feature: 0
            })
        );
        assert_eq!(
            encode_inputs(&[vec![0.5, -2.0]], &sym, 0.01),
            Ok(vec![vec![50, -128]])
        );
        let affine = InputEncoding::Affine {
            offset: vec![10.0, 0.0],
            step: vec![2.0, 0.5],
        };
        assert_eq!(
            encode_inputs(&[vec![14.0, -1.0]], &affine, 1.0),
            Ok(vec![vec![2, -2]])
        );
        assert_eq!(
            encode_inputs(&[vec![14.0]], &affine, 1.0),
            Err(AuditError::FeatureCount {
                sample: 0,
                file: 1,
                proven: 2
            })
        );
        let cuts = InputEncoding::Thresholds {
            cuts: vec![vec![0.5, 1.5]],
        };
        assert_eq!(
            encode_inputs(&[vec![0.5], vec![2.0]], &cuts, 1.0),
            Ok(vec![vec![-127], vec![-124]])
        );
        assert!(AuditError::NotFinite {
            sample: 0,
            feature: 0
        }
        .is_usage());
    }
}
