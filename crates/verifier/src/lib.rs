//! Verifies glassbox proofs offline, holding only the model digest.
//!
//! Depends on `glassbox-air` and `winter-verifier` only: no model import, no ndarray, no rayon,
//! no prover.
//!
//! # Usage
//! ```no_run
//! use glassbox_air::ModelDigest;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let published_hex = "67c095d35a5d2bf7d3f931f03aa4b6e9a28d1223015b84692718b4d8245138f9";
//! let digest = ModelDigest::from_hex(published_hex).ok_or("malformed digest")?;
//! let proof_bytes = std::fs::read("proof.gbp")?;
//! let claim = glassbox_verifier::verify(&proof_bytes, &digest, 100)?;
//! println!("{} samples, labels {:?}", claim.inputs.len(), claim.labels());
//! # Ok(())
//! # }
//! ```
//!
//! # What is checked, in order
//! 1. The file is at most 8 MiB and is a well-formed envelope (every length checked before
//!    allocation, no trailing bytes).
//! 2. The claimed preset reaches `min_security_bits`.
//! 3. The statement is well-formed (shapes, int8 inputs, output bounds) and fits the model's
//!    layout, and the descriptor and weight root hash to the caller's digest.
//! 4. The winterfell proof has exactly the preset's options and the trace shape the model implies.
//! 5. The STARK verifies (winterfell's verifier), and its FRI remainder is the polynomial the
//!    prover committed to, which winterfell 0.13.1 does not check. With the `std` feature (the
//!    default), panics inside winterfell are caught and reported as rejections.
//! 6. The weight cells of every main-trace row the STARK opened hash to leaves of the committed
//!    weight tree (the opening in the envelope, against the root the digest commits to).
//!
//! Every proof states its place in a bundle (step 3 checks it is consistent, and a one-chunk
//! bundle's id is its own inputs' hash). A proof that is one chunk of a larger bundle proves
//! only its own samples; [`verify_bundle`] checks a whole bundle as one statement.
//!
//! [`checks`] lists every step of the STARK protocol, the code that checks it (glassbox's or
//! winterfell's, read line by line) and the negative test behind it, most of them proofs forged
//! by the malicious prover in `adversary/`.
//!
//! # Performance
//! Verification does not grow with the model: it hashes the ~29 (38 at 128 bits) opened rows of
//! each commitment, walks their Merkle paths, evaluates the constraints at one point and checks
//! the public inputs and outputs. Measured on a 2-core AMD EPYC, rustc 1.95, 102-bit preset
//! (`glassbox bench`, median of 5): 0.7 ms for one inference of the 64-128-64-10 MLP, 1.4 ms for
//! 64 of them in one 113 KB proof, 2–3.4 ms for the 64-512-512-10 MLP and 2.1–2.8 ms for the
//! digits CNN. The remainder binding adds one hash of at most 64 field elements.
//!
//! # `no_std`
//! Without the default `std` feature the crate is `no_std` + `alloc` (it builds for
//! `wasm32-unknown-unknown`; `crates/wasm` binds it for the browser) and checks exactly the same
//! things. The one difference: there is no `catch_unwind`, so a panic inside winterfell (none is
//! known to be reachable past the pre-scan) aborts instead of becoming a rejection. On wasm that
//! abort is a trap the caller sees (a `WebAssembly.RuntimeError`); `web/glassbox.js` reports it
//! as a rejection and verifies the next proof in a fresh instance.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;

mod bundle;
pub mod checks;
mod prescan;
mod rejection;
mod remainder;
mod shape;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use glassbox_air::commitment::{weight_leaf, WEIGHT_BLOWUP};
use glassbox_air::{
    Challenges, EnvelopeError, InferenceAir, ModelDigest, Proof, ProofEnvelope, PublicInputs,
    SecurityLevel, WeightOpening,
};
use winter_verifier::crypto::{hashers::Blake3_256, DefaultRandomCoin, MerkleTree};
use winter_verifier::{AcceptableOptions, Air, Serializable, TraceInfo};

pub use bundle::{check_bundle, verify_bundle, BundleClaim, BundleError};
pub use glassbox_air::{BundlePosition, Felt, MAX_PROOF_BYTES};
pub use rejection::StarkRejection;
pub use shape::{StarkOptions, TraceDims};

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The model the proof is bound to.
    pub digest: ModelDigest,
    /// Quantized inputs, one vector per sample.
    pub inputs: Vec<Vec<i64>>,
    /// Raw integer outputs, one vector per sample.
    pub outputs: Vec<Vec<i64>>,
    /// Real value of one output unit.
    pub output_scale: f64,
    /// Real value of one input unit.
    pub input_scale: f64,
    /// Conjectured security of the proof, in bits.
    pub security_bits: u32,
    /// The proof's place in its bundle (checked for consistency with its own inputs; whether the
    /// other chunks exist is [`verify_bundle`]'s question).
    pub bundle: BundlePosition,
}

impl Claim {
    /// Whether this proof is a whole bundle (one chunk), so its samples are the whole statement.
    pub fn is_whole_bundle(&self) -> bool {
        self.bundle.chunks == 1
    }

    /// Index of the first largest output of each sample (the predicted class of a classifier).
    pub fn labels(&self) -> Vec<usize> {
        self.outputs
            .iter()
            .map(|y| {
                y.iter()
                    .enumerate()
                    .fold(
                        (0, i64::MIN),
                        |best, (i, &v)| if v > best.1 { (i, v) } else { best },
                    )
                    .0
            })
            .collect()
    }

    /// Outputs in real units.
    pub fn dequantized_outputs(&self) -> Vec<Vec<f64>> {
        self.outputs
            .iter()
            .map(|y| y.iter().map(|&v| v as f64 * self.output_scale).collect())
            .collect()
    }
}

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The bytes are not a well-formed proof file.
    Envelope(EnvelopeError),
    /// The proof's preset is weaker than required.
    SecurityTooLow {
        /// Bits asked for.
        required: u32,
        /// Bits the proof offers.
        got: u32,
    },
    /// No preset reaches the requested level at all.
    UnreachableSecurity(u32),
    /// The statement is malformed or does not fit the model.
    Statement(&'static str),
    /// The proof is bound to a different model.
    DigestMismatch {
        /// Digest asked for.
        expected: ModelDigest,
        /// Digest the proof commits to.
        got: ModelDigest,
    },
    /// The STARK bytes do not parse.
    ProofFormat(String),
    /// The STARK uses options other than its preset's.
    OptionsMismatch {
        /// The preset's options.
        expected: StarkOptions,
        /// The proof's.
        got: StarkOptions,
    },
    /// The STARK's trace shape differs from what the model implies.
    TraceShape {
        /// The shape the model and batch imply.
        expected: TraceDims,
        /// The proof's.
        got: TraceDims,
    },
    /// The STARK does not verify: the step that failed.
    Rejected(StarkRejection),
    /// The proof's weights are not the ones the digest commits to.
    WeightMismatch,
    /// The FRI remainder is not the polynomial the prover committed to before the query
    /// positions were drawn (a check winterfell 0.13.1 does not make).
    RemainderMismatch,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Envelope(e) => write!(f, "{e}"),
            Self::SecurityTooLow { required, got } => {
                write!(
                    f,
                    "proof offers {got} bits of security; {required} were required"
                )
            }
            Self::UnreachableSecurity(b) => write!(f, "no supported preset reaches {b} bits"),
            Self::Statement(why) => write!(f, "invalid statement: {why}"),
            Self::DigestMismatch { expected, got } => {
                write!(f, "proof is for model {got}, not {expected}")
            }
            Self::ProofFormat(e) => write!(f, "malformed STARK proof: {e}"),
            Self::OptionsMismatch { expected, got } => write!(
                f,
                "STARK proof options do not match its security preset: {got}, expected {expected}"
            ),
            Self::TraceShape { expected, got } => write!(
                f,
                "STARK trace shape does not match the model: {got}, expected {expected}"
            ),
            Self::Rejected(e) => write!(f, "STARK proof rejected: {e}"),
            Self::RemainderMismatch => write!(
                f,
                "the FRI remainder does not match its commitment (low-degree test voided)"
            ),
            Self::WeightMismatch => {
                write!(
                    f,
                    "the proof's weights are not the committed model's weights"
                )
            }
        }
    }
}

impl core::error::Error for VerifyError {}

fn options_mismatch(
    expected: &winter_verifier::ProofOptions,
    got: &winter_verifier::ProofOptions,
) -> VerifyError {
    VerifyError::OptionsMismatch {
        expected: expected.into(),
        got: got.into(),
    }
}

fn shape_mismatch(expected: &TraceInfo, got: &TraceInfo) -> VerifyError {
    VerifyError::TraceShape {
        expected: expected.into(),
        got: got.into(),
    }
}

/// Names what differs in a STARK header that is not the expected one. Parsing a context reads
/// no unbounded lengths; a panic in winterfell's constructors is caught by the caller.
fn header_mismatch(
    stark: &[u8],
    info: &TraceInfo,
    options: &winter_verifier::ProofOptions,
) -> VerifyError {
    use winter_verifier::{Deserializable, SliceReader};
    let mut reader = SliceReader::new(stark);
    match glassbox_air::ProofContext::read_from(&mut reader) {
        Ok(ctx) if ctx.options() != options => options_mismatch(options, ctx.options()),
        Ok(ctx) if ctx.trace_info() != info => shape_mismatch(info, ctx.trace_info()),
        Ok(_) => VerifyError::ProofFormat("unexpected STARK header".into()),
        Err(e) => VerifyError::ProofFormat(e.to_string()),
    }
}

/// Checks the weight opening against the main-trace rows of a proof winterfell has verified
/// (which authenticated those rows against the main-trace commitment).
fn check_weights(
    proof: &Proof,
    air: &InferenceAir,
    opening: &WeightOpening,
) -> Result<(), VerifyError> {
    if proof.options().blowup_factor() != WEIGHT_BLOWUP {
        return Err(options_mismatch(air.options(), proof.options()));
    }
    let (layout, public) = (air.layout(), air.public_inputs());
    let positions =
        glassbox_air::query_positions(proof, air).map_err(|_| VerifyError::WeightMismatch)?;
    let lde_size = layout.trace_len * WEIGHT_BLOWUP;
    let main = proof
        .trace_queries
        .first()
        .ok_or(VerifyError::WeightMismatch)?
        .clone();
    let (_, rows) = main
        .parse::<Felt, Blake3_256<Felt>, MerkleTree<Blake3_256<Felt>>>(
            lde_size,
            positions.len(),
            layout.main_width,
        )
        .map_err(|_| VerifyError::WeightMismatch)?;
    let range = layout.weight_range();
    let leaves: Vec<[u8; 32]> = rows
        .rows()
        .map(|row| row.get(range.clone()).map(weight_leaf))
        .collect::<Option<_>>()
        .ok_or(VerifyError::WeightMismatch)?;
    opening
        .verify(&public.weight_root, &positions, &leaves)
        .map_err(|_| VerifyError::WeightMismatch)
}

/// Runs `f`, turning a panic into `None` (with `std`: the last line of defence around winterfell).
#[cfg(feature = "std")]
fn catch_panic<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Without `std` there is no unwinding: a panic aborts (on wasm, a trap the caller handles).
#[cfg(not(feature = "std"))]
fn catch_panic<T>(f: impl FnOnce() -> T) -> Option<T> {
    Some(f())
}

/// Verifies `proof_bytes` against the published `digest`, requiring `min_security_bits`.
///
/// # Errors
/// [`VerifyError`] for every reason a proof is not accepted. Never panics on any input (with
/// `std`; without it, see the crate docs on `no_std`).
pub fn verify(
    proof_bytes: &[u8],
    digest: &ModelDigest,
    min_security_bits: u32,
) -> Result<Claim, VerifyError> {
    if SecurityLevel::at_least(min_security_bits).is_none() {
        return Err(VerifyError::UnreachableSecurity(min_security_bits));
    }
    let envelope = ProofEnvelope::from_bytes(proof_bytes).map_err(VerifyError::Envelope)?;
    let bits = envelope.security.conjectured_bits();
    if bits < min_security_bits {
        return Err(VerifyError::SecurityTooLow {
            required: min_security_bits,
            got: bits,
        });
    }
    let layout = envelope.public.validate().map_err(VerifyError::Statement)?;
    let got = envelope.public.digest();
    if got != *digest {
        return Err(VerifyError::DigestMismatch {
            expected: *digest,
            got,
        });
    }
    let options = envelope.security.options();
    let expected_info = TraceInfo::new_multi_segment(
        layout.main_width,
        layout.aux.width,
        Challenges::new(&layout).num_drawn,
        layout.trace_len,
        Vec::new(),
    );
    let public = envelope.public.clone();
    let stark = envelope.proof;
    let opening = envelope.weight_opening;
    let outcome = catch_panic(move || -> Result<(), VerifyError> {
        // the context the model implies, byte for byte, then every risky length prefix
        let air = InferenceAir::new(expected_info.clone(), public.clone(), options.clone());
        let ctx = air.context();
        let num_constraints = ctx.num_assertions() + ctx.num_transition_constraints();
        let context = glassbox_air::ProofContext::new::<Felt>(
            expected_info.clone(),
            options.clone(),
            num_constraints,
        );
        prescan::scan(&stark, &context.to_bytes(), expected_info.num_segments()).map_err(|e| {
            match e {
                prescan::ScanError::Context => header_mismatch(&stark, &expected_info, &options),
                prescan::ScanError::Length(what) => {
                    VerifyError::ProofFormat(format!("{what} run past the end"))
                }
            }
        })?;
        let proof =
            Proof::from_bytes(&stark).map_err(|e| VerifyError::ProofFormat(e.to_string()))?;
        if proof.options() != &options {
            return Err(options_mismatch(&options, proof.options()));
        }
        if proof.trace_info() != &expected_info {
            return Err(shape_mismatch(&expected_info, proof.trace_info()));
        }
        // The prover never partitions FRI commitments. With no FRI layers (short traces) winterfell
        // never reads this field, so any other value would be an accepted, altered proof.
        if proof.fri_proof.num_partitions() != 1 {
            return Err(VerifyError::ProofFormat(
                "FRI partition count differs from the prover's (1)".into(),
            ));
        }
        remainder::check(&proof).map_err(|e| match e {
            remainder::RemainderError::Mismatch => VerifyError::RemainderMismatch,
            remainder::RemainderError::Malformed => {
                VerifyError::ProofFormat("FRI commitments or remainder do not parse".into())
            }
        })?;
        let queried = proof.clone();
        winter_verifier::verify::<
            InferenceAir,
            Blake3_256<Felt>,
            DefaultRandomCoin<Blake3_256<Felt>>,
            MerkleTree<Blake3_256<Felt>>,
        >(
            proof,
            public.clone(),
            &AcceptableOptions::OptionSet(vec![options]),
        )
        .map_err(|e| VerifyError::Rejected(e.into()))?;
        check_weights(&queried, &air, &opening)
    });
    match outcome {
        Some(Ok(())) => {}
        Some(Err(e)) => return Err(e),
        None => return Err(VerifyError::ProofFormat("the STARK parser panicked".into())),
    }
    let PublicInputs {
        descriptor,
        inputs,
        outputs,
        bundle,
        ..
    } = envelope.public;
    Ok(Claim {
        digest: got,
        inputs,
        outputs,
        output_scale: descriptor.output_scale,
        input_scale: descriptor.input_scale,
        security_bits: bits,
        bundle,
    })
}
