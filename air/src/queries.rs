//! The query positions of a winterfell proof, recomputed from the proof itself.
//!
//! winterfell draws its query positions from a public coin seeded with the proof context and the
//! public inputs, then reseeded with every commitment in order. This replays exactly the draws
//! `winter_verifier::verify` makes (using the AIR's own coefficient-drawing methods), so the
//! prover can open the weight commitment at the rows winterfell opens the main trace at, and the
//! verifier can check those openings against the main-trace rows it has already authenticated.

use alloc::vec::Vec;

use winter_air::proof::{merge_ood_evaluations, Proof};
use winter_air::{Air, FieldExtension};
use winter_crypto::{DefaultRandomCoin, ElementHasher, RandomCoin};
use winter_math::fields::{CubeExtension, QuadExtension};
use winter_math::{FieldElement, ToElements};

use crate::air::InferenceAir;
use crate::commitment::WeightHasher;
use crate::field::Felt;

/// The query positions were not recomputable (a malformed proof).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryError;

impl core::fmt::Display for QueryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the proof's query positions cannot be recomputed")
    }
}

/// The sorted, distinct LDE positions winterfell queried in `proof`, whose AIR is `air` (built
/// for the proof's trace shape, options and public inputs).
///
/// # Errors
/// [`QueryError`] if the proof's commitments or out-of-domain frame do not parse.
pub fn query_positions(proof: &Proof, air: &InferenceAir) -> Result<Vec<usize>, QueryError> {
    match proof.options().field_extension() {
        FieldExtension::None => replay::<Felt>(proof, air),
        FieldExtension::Quadratic => replay::<QuadExtension<Felt>>(proof, air),
        FieldExtension::Cubic => replay::<CubeExtension<Felt>>(proof, air),
    }
}

fn replay<E: FieldElement<BaseField = Felt>>(
    proof: &Proof,
    air: &InferenceAir,
) -> Result<Vec<usize>, QueryError> {
    let info = air.trace_info();
    let options = air.options();
    let lde_size = air.lde_domain_size();
    let fri_layers = options.to_fri_options().num_fri_layers(lde_size);
    let (trace_roots, constraint_root, fri_roots) = proof
        .commitments
        .clone()
        .parse::<WeightHasher>(info.num_segments(), fri_layers)
        .map_err(|_| QueryError)?;

    let mut seed = proof.context.to_elements();
    seed.append(&mut air.public_inputs().to_elements());
    let mut coin = DefaultRandomCoin::<WeightHasher>::new(&seed);
    for (segment, root) in trace_roots.iter().enumerate() {
        coin.reseed(*root);
        if segment == 0 && info.is_multi_segment() {
            air.get_aux_rand_elements::<E, _>(&mut coin)
                .map_err(|_| QueryError)?;
        }
    }
    air.get_constraint_composition_coefficients::<E, _>(&mut coin)
        .map_err(|_| QueryError)?;
    coin.reseed(constraint_root);
    let _z: E = coin.draw().map_err(|_| QueryError)?;

    let (trace_ood, quotient_ood) = proof
        .ood_frame
        .clone()
        .parse::<E>(
            info.main_trace_width(),
            info.aux_segment_width(),
            air.context().num_constraint_composition_columns(),
        )
        .map_err(|_| QueryError)?;
    let ood = merge_ood_evaluations(&trace_ood, &quotient_ood);
    coin.reseed(WeightHasher::hash_elements(&ood));
    air.get_deep_composition_coefficients::<E, _>(&mut coin)
        .map_err(|_| QueryError)?;
    for root in fri_roots {
        coin.reseed(root);
        let _alpha: E = coin.draw().map_err(|_| QueryError)?;
    }
    let mut positions = coin
        .draw_integers(options.num_queries(), lde_size, proof.pow_nonce)
        .map_err(|_| QueryError)?;
    positions.sort_unstable();
    positions.dedup();
    Ok(positions)
}
