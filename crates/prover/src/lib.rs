//! Proves glassbox statements with winterfell (parallel with rayon through `concurrent`).
//!
//! # Usage
//! ```text
//! let program = glassbox_trace::Program::compile(&quantized_model)?;
//! let envelope = glassbox_prover::prove(&program, &int8_inputs, SecurityLevel::Bits100)?;
//! std::fs::write("proof.gbp", envelope.to_bytes())?;
//! ```
//! Batches larger than one proof holds are split by [`prove_bundle`]; [`BundlePlan`] proves a
//! bundle chunk by chunk, and [`Shard`] picks the chunks one machine of several proves.
//!
//! # Performance
//! Measured with `glassbox bench` on a 2-core AMD EPYC with 24 GiB, rustc 1.95,
//! `-C target-cpu=x86-64-v3`, the default 102-bit preset (median of 3 runs; about ±20% from run
//! to run on that shared host):
//!
//! | model | batch | trace (rows × main + aux columns) | prove | proof | peak RSS |
//! |---|--:|---|--:|--:|--:|
//! | MLP 64-128-64-10 | 1 | 512 × 53 + 19 | 22 ms | 56 KB | 15 MB |
//! | MLP 64-128-64-10 | 64 | 512 × 192 + 39 | 79 ms | 113 KB | 22 MB |
//! | MLP 64-512-512-10 | 1 | 4096 × 93 + 19 | 203 ms | 95 KB | 78 MB |
//! | MLP 64-512-512-10 | 64 | 4096 × 177 + 47 | 376 ms | 136 KB | 130 MB |
//! | digits CNN (8×8, conv 3×3×8, pool) | 64 | 4096 × 138 + 61 | 424 ms | 137 KB | 132 MB |
//!
//! Proving costs about 0.8–1.3 µs per main-trace cell on two cores; the trace's low-degree
//! extension is most of it. A model costs about one main cell per weight (read once per proof,
//! whatever the batch) plus six cells and five lookups per activation per sample, so the cost per
//! sample falls with the batch until the activations dominate.

mod aux;
mod lde;
mod plan;
mod prover;

pub use plan::{bundle_positions, prove_bundle, BundlePlan, Shard};
pub use prover::{prove, prove_trace, ProveError};

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
