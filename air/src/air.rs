//! Winterfell's view of the AIR: [`InferenceAir`] hands the units' constraints and assertions
//! ([`crate::units`], assembled by [`Units`]) to winterfell. See [`crate::layout`] for the
//! columns and [`crate::commitment`] for how the weight columns are bound to the model digest.
//!
//! Soundness notes, in the order a reviewer should check them:
//! - **Products are checked, not replayed.** For layer `l`, with `f_j = Σ_i ρ^{i+1} W_ij`,
//!   `g_j = Σ_b β^b X_jb` and `q_i = Σ_b β^b Y_ib`, the accumulator `Z` collects
//!   `Σ_j f_j g_j − Σ_i ρ^{i+1} q_i`, which must equal `−Σ_i ρ^{i+1} b_i · Σ_b β^b`. Each layer
//!   has its own `(ρ_l, β_l)` and every term carries a positive power of `ρ_l` (or `δ`), so errors
//!   of different layers live in disjoint monomials and cannot cancel. A stencil layer
//!   ([`crate::conv`]) orders its outputs by their natural index and shifts every exponent by the
//!   same `S`, chosen so that even the (committed zero) cells of taps outside the output grid
//!   carry a positive power.
//! - **The weights are the committed ones**: the weight opening (see [`crate::commitment`]) ties
//!   the queried rows to the weight root, and the sketch columns tie the trace's weight
//!   polynomials to the digest's sketches.
//! - **Every value the identity uses is a main-trace cell** committed before the challenges; the
//!   auxiliary columns only hold sums that constraints define from main-trace values.
//! - **Edge rows.** Running sums start from row-0 assertions; block totals are taken from
//!   next-row values on each block's second-to-last row; row-local constraints are enforced in
//!   both the current-row and the next-row form so the last row is covered too; the LogUp total
//!   includes the last row through the `T` column.
//! - **Integers, not field elements.** Activations and all limbs are range-checked (LogUp against
//!   `0..256`), and the weights are the committed int8 weights, so every product and sum stays far
//!   below `p/2`.

use alloc::vec::Vec;

use winter_air::{
    Air, AirContext, Assertion, AuxRandElements, EvaluationFrame, ProofOptions, TraceInfo,
};
use winter_crypto::{RandomCoin, RandomCoinError};
use winter_math::{ExtensionOf, FieldElement};

use crate::field::Felt;
use crate::frame::{AuxFrame, MainFrame};
use crate::layout::Layout;
use crate::limits::RANGE_TABLE_SIZE;
use crate::periodic::{periodic_columns, periodic_polys};
use crate::public::PublicInputs;
use crate::sink::{Assertions, Constraints};
use crate::units::Units;

/// The glassbox AIR for one batch of inferences of one dense model.
pub struct InferenceAir {
    context: AirContext<Felt>,
    units: Units,
}

impl InferenceAir {
    /// The layout this AIR was built for.
    pub fn layout(&self) -> &Layout {
        &self.units.layout
    }

    /// The statement this AIR was built for.
    pub fn public_inputs(&self) -> &PublicInputs {
        &self.units.public
    }
}

impl Air for InferenceAir {
    type BaseField = Felt;
    type PublicInputs = PublicInputs;

    /// Builds the AIR. The public inputs must have passed [`PublicInputs::validate`]; the
    /// verifier checks that (and the trace shape) before any proof reaches winterfell.
    ///
    /// The constraint degrees and assertion counts are the units' own: they are listed by
    /// running the units once on an all-zero frame (see [`crate::sink`]).
    fn new(trace_info: TraceInfo, pub_inputs: PublicInputs, options: ProofOptions) -> Self {
        let layout = match pub_inputs.validate() {
            Ok(layout) => layout,
            Err(_) => {
                Layout::new(&pub_inputs.descriptor, 1).unwrap_or_else(|_| placeholder_layout())
            }
        };
        let units = Units::new(layout, pub_inputs);
        let context = AirContext::new_multi_segment(
            trace_info,
            units.main_degrees(),
            units.aux_degrees(),
            units.num_main_assertions(),
            units.num_aux_assertions(),
            options,
        );
        Self { context, units }
    }

    fn context(&self) -> &AirContext<Felt> {
        &self.context
    }

    fn evaluate_transition<E: FieldElement<BaseField = Felt>>(
        &self,
        frame: &EvaluationFrame<E>,
        _periodic: &[E],
        result: &mut [E],
    ) {
        let expected = result.len();
        let mut out = Constraints::evaluate(result);
        self.units.main(&MainFrame::new(frame), &mut out);
        debug_assert_eq!(out.len(), expected);
    }

    fn evaluate_aux_transition<F, E>(
        &self,
        main_frame: &EvaluationFrame<F>,
        aux_frame: &EvaluationFrame<E>,
        periodic: &[F],
        rand: &AuxRandElements<E>,
        result: &mut [E],
    ) where
        F: FieldElement<BaseField = Felt>,
        E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
    {
        let frame = AuxFrame {
            main: MainFrame::new(main_frame),
            cur: aux_frame.current(),
            next: aux_frame.next(),
            periodic,
            r: rand.rand_elements(),
        };
        let expected = result.len();
        let mut out = Constraints::evaluate(result);
        self.units.aux(&frame, &mut out);
        debug_assert_eq!(out.len(), expected);
    }

    fn get_assertions(&self) -> Vec<Assertion<Felt>> {
        let mut out = Assertions::collect();
        self.units.main_assertions(&mut out);
        out.into_vec()
    }

    fn get_aux_assertions<E: FieldElement<BaseField = Felt>>(
        &self,
        rand: &AuxRandElements<E>,
    ) -> Vec<Assertion<E>> {
        let mut out = Assertions::collect();
        self.units.aux_assertions(rand.rand_elements(), &mut out);
        out.into_vec()
    }

    fn get_aux_rand_elements<E, R>(
        &self,
        coin: &mut R,
    ) -> Result<AuxRandElements<E>, RandomCoinError>
    where
        E: FieldElement<BaseField = Felt>,
        R: RandomCoin<BaseField = Felt>,
    {
        let ch = &self.units.challenges;
        let mut drawn = Vec::with_capacity(ch.num_drawn);
        for _ in 0..ch.num_drawn {
            drawn.push(coin.draw()?);
        }
        Ok(AuxRandElements::new(ch.expand(&self.units.layout, &drawn)))
    }

    fn get_periodic_column_values(&self) -> Vec<Vec<Felt>> {
        periodic_columns(&self.units.layout)
    }

    // the same polynomials winterfell interpolates from the values above, in closed form
    fn get_periodic_column_polys(&self) -> Vec<Vec<Felt>> {
        periodic_polys(&self.units.layout)
    }
}

fn placeholder_layout() -> Layout {
    use crate::descriptor::{LayerDescriptor, ModelDescriptor};
    let d = ModelDescriptor {
        trace_len: RANGE_TABLE_SIZE,
        layers: alloc::vec![LayerDescriptor {
            n_in: 1,
            n_out: 1,
            multiplier: None,
            bias: alloc::vec![0],
            groups: 1,
            conv: None,
            patch: None,
            table: None,
        }],
        input_scale: 1.0,
        output_scale: 1.0,
        input_encoding: crate::encoding::InputEncoding::Symmetric,
    };
    // a one-weight model always fits
    Layout::new(&d, 1).unwrap_or_else(|_| unreachable_layout())
}

#[allow(clippy::panic)]
fn unreachable_layout() -> Layout {
    panic!("the one-weight placeholder model always has a layout")
}
