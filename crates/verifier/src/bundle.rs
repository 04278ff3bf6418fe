//! Verifying a bundle (several proofs of one batch) as one statement.
//!
//! Each proof states its place in its bundle ([`glassbox_air::bundle`]). [`verify_bundle`]
//! verifies every proof with [`crate::verify`], then checks, in this order, that they share one
//! bundle id ([`BundleError::Foreign`]), that no chunk appears twice
//! ([`BundleError::Duplicate`]), that there are as many files as chunks
//! ([`BundleError::Missing`], [`BundleError::ChunkCount`]), that chunk `i` is the `i`-th file
//! ([`BundleError::Reordered`]), that the sample ranges are contiguous and cover the stated total
//! ([`BundleError::NotContiguous`], [`BundleError::SampleCount`]), and that the id recomputed
//! from all the proofs' inputs in order is the bound one ([`BundleError::IdMismatch`]).

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use glassbox_air::bundle::id_hex;
use glassbox_air::{bundle_id, ModelDigest};

use crate::claim::Claim;
use crate::error::VerifyError;
use crate::verify::verify;

/// What a valid bundle establishes: every proof's claim, in sample order.
#[derive(Clone, Debug, PartialEq)]
pub struct BundleClaim {
    /// The model every proof is bound to.
    pub digest: ModelDigest,
    /// The bundle id every proof binds (the hash of all the inputs, in order).
    pub id: [u8; 32],
    /// One claim per proof, chunk 0 first.
    pub claims: Vec<Claim>,
    /// Total number of samples.
    pub samples: usize,
    /// The weakest proof's conjectured security, in bits.
    pub security_bits: u32,
}

impl BundleClaim {
    /// Every sample's inputs, in bundle order.
    pub fn inputs(&self) -> impl Iterator<Item = &Vec<i64>> {
        self.claims.iter().flat_map(|c| c.inputs.iter())
    }
}

/// Why proofs are not a valid bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// No proofs were given.
    Empty,
    /// Proof `index` (0-based, in the order given) does not verify.
    Proof {
        /// Position of the proof in the list.
        index: usize,
        /// Why it was rejected.
        error: VerifyError,
    },
    /// Proof `index` belongs to another bundle (another batch of inputs).
    Foreign {
        /// Position of the proof in the list.
        index: usize,
        /// The bundle id of the first proof.
        expected: [u8; 32],
        /// The bundle id proof `index` binds.
        got: [u8; 32],
    },
    /// Proof `index` is a chunk already given at position `first`.
    Duplicate {
        /// Position of the repeated proof.
        index: usize,
        /// The repeated chunk index.
        chunk: u32,
        /// Where the chunk was first given.
        first: usize,
    },
    /// Fewer proofs than the bundle's chunks: some are missing.
    Missing {
        /// Chunks the bundle has.
        expected: usize,
        /// Proofs given.
        got: usize,
        /// The first chunk index not given.
        chunk: u32,
    },
    /// Proofs of one bundle state different chunk counts or totals (a malformed bundle).
    ChunkCount {
        /// Position of the disagreeing proof.
        index: usize,
        /// The first proof's chunk count.
        expected: u32,
        /// This proof's chunk count.
        got: u32,
    },
    /// Proof `index` is not chunk `index`: the proofs are out of order.
    Reordered {
        /// Position of the proof in the list.
        index: usize,
        /// The chunk that belongs there.
        expected: u32,
        /// The chunk found there.
        got: u32,
    },
    /// Proof `index` does not start where the previous one ended.
    NotContiguous {
        /// Position of the proof in the list.
        index: usize,
        /// First sample it should have.
        expected: usize,
        /// First sample it states.
        got: usize,
    },
    /// The proofs' samples do not add up to the bundle's stated total.
    SampleCount {
        /// The total the proofs state.
        expected: usize,
        /// Samples the proofs hold.
        got: usize,
    },
    /// The bound bundle id is not the hash of the proofs' inputs in order.
    IdMismatch {
        /// The id every proof binds.
        expected: [u8; 32],
        /// The id of the inputs the proofs hold.
        got: [u8; 32],
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = |id: &[u8; 32]| -> String { id_hex(id)[..16].to_string() };
        match self {
            Self::Empty => write!(f, "the bundle lists no proofs"),
            Self::Proof { index, error } => write!(f, "proof {index} is invalid: {error}"),
            Self::Foreign {
                index,
                expected,
                got,
            } => write!(
                f,
                "foreign proof: proof {index} belongs to bundle {}, not {} (other inputs)",
                short(got),
                short(expected)
            ),
            Self::Duplicate {
                index,
                chunk,
                first,
            } => write!(
                f,
                "duplicated proof: proof {index} is chunk {chunk} again (already proof {first})"
            ),
            Self::Missing {
                expected,
                got,
                chunk,
            } => write!(
                f,
                "missing proof: the bundle has {expected} chunks, {got} were given (chunk {chunk} is missing)"
            ),
            Self::ChunkCount {
                index,
                expected,
                got,
            } => write!(
                f,
                "inconsistent bundle: proof {index} states {got} chunks, proof 0 states {expected}"
            ),
            Self::Reordered {
                index,
                expected,
                got,
            } => write!(
                f,
                "reordered proofs: proof {index} is chunk {got}, expected chunk {expected}"
            ),
            Self::NotContiguous {
                index,
                expected,
                got,
            } => write!(
                f,
                "non-contiguous samples: proof {index} starts at sample {got}, expected {expected}"
            ),
            Self::SampleCount { expected, got } => write!(
                f,
                "the bundle states {expected} samples; its proofs hold {got}"
            ),
            Self::IdMismatch { expected, got } => write!(
                f,
                "bundle id mismatch: the proofs bind {}, their inputs hash to {}",
                short(expected),
                short(got)
            ),
        }
    }
}

impl core::error::Error for BundleError {}

/// Verifies `proofs` (the files of one bundle, chunk 0 first) against `digest`, each with
/// [`crate::verify`] at `min_security_bits`, then as one bundle (see the module docs).
///
/// # Errors
/// [`BundleError`]: the first invalid proof, or the first way the proofs are not one bundle in
/// order.
pub fn verify_bundle(
    proofs: &[&[u8]],
    digest: &ModelDigest,
    min_security_bits: u32,
) -> Result<BundleClaim, BundleError> {
    let claims = proofs
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            verify(bytes, digest, min_security_bits)
                .map_err(|error| BundleError::Proof { index, error })
        })
        .collect::<Result<Vec<Claim>, _>>()?;
    check_bundle(claims)
}

/// The bundle checks on claims of proofs that each verified.
///
/// # Errors
/// As [`verify_bundle`], except [`BundleError::Proof`].
pub fn check_bundle(claims: Vec<Claim>) -> Result<BundleClaim, BundleError> {
    let first = claims.first().ok_or(BundleError::Empty)?.bundle;
    for (index, c) in claims.iter().enumerate() {
        if c.bundle.id != first.id {
            return Err(BundleError::Foreign {
                index,
                expected: first.id,
                got: c.bundle.id,
            });
        }
    }
    let mut seen = BTreeMap::new();
    for (index, c) in claims.iter().enumerate() {
        if let Some(&at) = seen.get(&c.bundle.chunk) {
            return Err(BundleError::Duplicate {
                index,
                chunk: c.bundle.chunk,
                first: at,
            });
        }
        seen.insert(c.bundle.chunk, index);
    }
    for (index, c) in claims.iter().enumerate() {
        if c.bundle.chunks != first.chunks || c.bundle.samples != first.samples {
            return Err(BundleError::ChunkCount {
                index,
                expected: first.chunks,
                got: c.bundle.chunks,
            });
        }
    }
    if claims.len() != first.chunks as usize {
        // no duplicates and every chunk below the count: fewer files than chunks
        let chunk = (0..first.chunks)
            .find(|k| !seen.contains_key(k))
            .unwrap_or(first.chunks);
        return Err(BundleError::Missing {
            expected: first.chunks as usize,
            got: claims.len(),
            chunk,
        });
    }
    for (index, c) in claims.iter().enumerate() {
        if c.bundle.chunk as usize != index {
            return Err(BundleError::Reordered {
                index,
                expected: index as u32,
                got: c.bundle.chunk,
            });
        }
    }
    let mut next = 0usize;
    for (index, c) in claims.iter().enumerate() {
        let got = c.bundle.first_sample as usize;
        if got != next {
            return Err(BundleError::NotContiguous {
                index,
                expected: next,
                got,
            });
        }
        next += c.inputs.len();
    }
    if next != first.samples as usize {
        return Err(BundleError::SampleCount {
            expected: first.samples as usize,
            got: next,
        });
    }
    let inputs: Vec<&[i64]> = claims
        .iter()
        .flat_map(|c| c.inputs.iter().map(Vec::as_slice))
        .collect();
    let got = bundle_id(inputs.iter().copied());
    if got != first.id {
        return Err(BundleError::IdMismatch {
            expected: first.id,
            got,
        });
    }
    Ok(BundleClaim {
        digest: claims[0].digest,
        id: first.id,
        samples: next,
        security_bits: claims.iter().map(|c| c.security_bits).min().unwrap_or(0),
        claims,
    })
}
