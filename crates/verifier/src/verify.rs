//! The verification of one proof file: the envelope, the statement, the STARK (winterfell's
//! verifier and the checks it leaves out) and the weight opening, in the order
//! [`crate::checks`] lists them.

use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use glassbox_air::commitment::{weight_leaf, WEIGHT_BLOWUP};
use glassbox_air::{
    trace_info, Felt, InferenceAir, ModelDigest, Proof, ProofEnvelope, PublicInputs, SecurityLevel,
    WeightOpening,
};
use winter_verifier::crypto::{hashers::Blake3_256, DefaultRandomCoin, MerkleTree};
use winter_verifier::{AcceptableOptions, Air, Serializable, TraceInfo};

use crate::claim::Claim;
use crate::error::{options_mismatch, shape_mismatch, VerifyError};
use crate::{prescan, remainder};

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
    let expected_info = trace_info(&layout);
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
        input_encoding: descriptor.input_encoding,
        security_bits: bits,
        bundle,
    })
}
