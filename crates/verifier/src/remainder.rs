//! The check winterfell 0.13.1 leaves out: the FRI remainder must be the polynomial the prover
//! committed to before the query positions were drawn.
//!
//! winterfell's prover hashes the remainder's coefficients (highest degree first, as sent) with
//! the proof's hash function and absorbs that digest as its last FRI commitment; the public coin
//! draws the grinding challenge and the query positions after it. winterfell's verifier absorbs
//! the digest too, but never compares it with the remainder the proof carries, so a prover could
//! fit the remainder through its last layer's values at the drawn positions and void the
//! low-degree test (`../shared/attacks/`, and the `adversary/` harness). Hashing the remainder
//! here and comparing it with that commitment closes the gap.

use alloc::vec::Vec;

use glassbox_air::{Felt, Proof};
use winter_verifier::crypto::hashers::Blake3_256;
use winter_verifier::crypto::ElementHasher;
use winter_verifier::math::fields::{CubeExtension, QuadExtension};
use winter_verifier::math::FieldElement;
use winter_verifier::FieldExtension;

/// Why the remainder is not bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemainderError {
    /// The commitments or the remainder do not parse.
    Malformed,
    /// The remainder does not hash to the last FRI commitment.
    Mismatch,
}

/// Checks that `proof`'s FRI remainder hashes to the last FRI layer commitment.
///
/// # Errors
/// [`RemainderError`] if the proof's parts do not parse or the digests differ.
pub fn check(proof: &Proof) -> Result<(), RemainderError> {
    match proof.options().field_extension() {
        FieldExtension::None => check_in::<Felt>(proof),
        FieldExtension::Quadratic => check_in::<QuadExtension<Felt>>(proof),
        FieldExtension::Cubic => check_in::<CubeExtension<Felt>>(proof),
    }
}

fn check_in<E: FieldElement<BaseField = Felt>>(proof: &Proof) -> Result<(), RemainderError> {
    let info = proof.trace_info();
    let fri_layers = proof
        .options()
        .to_fri_options()
        .num_fri_layers(proof.lde_domain_size());
    let (_, _, fri_roots) = proof
        .commitments
        .clone()
        .parse::<Blake3_256<Felt>>(info.num_segments(), fri_layers)
        .map_err(|_| RemainderError::Malformed)?;
    let committed = fri_roots.last().ok_or(RemainderError::Malformed)?;
    let remainder: Vec<E> = proof
        .fri_proof
        .parse_remainder()
        .map_err(|_| RemainderError::Malformed)?;
    if Blake3_256::<Felt>::hash_elements(&remainder) == *committed {
        Ok(())
    } else {
        Err(RemainderError::Mismatch)
    }
}
