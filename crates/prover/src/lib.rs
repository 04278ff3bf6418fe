//! Proves glassbox statements with winterfell (parallel with rayon through `concurrent`).
//!
//! # Usage
//! ```text
//! let program = glassbox_trace::Program::compile(&quantized_model)?;
//! let envelope = glassbox_prover::prove(&program, &int8_inputs, SecurityLevel::Bits100)?;
//! std::fs::write("proof.gbp", envelope.to_bytes())?;
//! ```
//! Batches larger than one proof holds are split by [`prove_bundle`].

mod aux;
mod prover;

pub use prover::{bundle_positions, prove, prove_bundle, prove_trace, ProveError};

/// Builds the auxiliary segment of a main trace from the verifier's challenges, exactly as the
/// honest prover does (the `adversary/` harness reuses it to build proofs step by step).
pub fn aux_segment<E: winterfell::math::FieldElement<BaseField = glassbox_air::Felt>>(
    layout: &glassbox_air::Layout,
    main: &winterfell::matrix::ColMatrix<glassbox_air::Felt>,
    challenges: &[E],
) -> Vec<Vec<E>> {
    aux::build(layout, main, challenges)
}
#[doc(hidden)]
pub use prover::{prove_trace_tampered, AuxTamper};
