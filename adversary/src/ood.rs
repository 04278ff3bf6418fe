//! The constraint check at the out-of-domain point, computed as winterfell's verifier computes
//! it, so a forger can choose quotient values that pass it.

use glassbox_air::{Felt, InferenceAir};
use winter_air::proof::TraceOodFrame;
use winterfell::math::{polynom, FieldElement};
use winterfell::{Air, AuxRandElements, ConstraintCompositionCoefficients};

/// The value `Σ_i z^(i·n) H_i(z)` must equal for the verifier's check to pass: every transition
/// constraint over the frame divided by its divisor, plus every assertion's quotient, combined
/// with `coeffs`.
pub fn constraint_value<E: FieldElement<BaseField = Felt>>(
    air: &InferenceAir,
    coeffs: &ConstraintCompositionCoefficients<E>,
    frame: &TraceOodFrame<E>,
    aux_rands: &AuxRandElements<E>,
    z: E,
) -> E {
    let main = frame.main_frame();
    let aux = frame
        .aux_frame()
        .expect("glassbox traces have an auxiliary segment");
    let transition = air.get_transition_constraints(&coeffs.transition);
    let periodic: Vec<E> = air
        .get_periodic_column_polys()
        .iter()
        .map(|poly| {
            let cycles = (air.trace_length() / poly.len()) as u64;
            polynom::eval(poly, z.exp(cycles.into()))
        })
        .collect();
    let mut main_values = vec![E::ZERO; transition.num_main_constraints()];
    air.evaluate_transition(&main, &periodic, &mut main_values);
    let mut aux_values = vec![E::ZERO; transition.num_aux_constraints()];
    air.evaluate_aux_transition(&main, &aux, &periodic, aux_rands, &mut aux_values);
    let mut value = transition.combine_evaluations::<E>(&main_values, &aux_values, z);
    let boundary = air.get_boundary_constraints(Some(aux_rands), &coeffs.boundary);
    for group in boundary.main_constraints() {
        value += group.evaluate_at(main.current(), z);
    }
    for group in boundary.aux_constraints() {
        value += group.evaluate_at(aux.current(), z);
    }
    value
}
