//! The AIR's units. Each owns its constraints and assertions (in `<unit>/constraints.rs`, every
//! constraint written once with its degree, see [`crate::sink`]) and their tests; [`Units`]
//! assembles them in a fixed order, which is the order winterfell sees.
//!
//! | unit | main segment | auxiliary segment |
//! |---|---|---|
//! | [`lookup`] | the range table's steps and ends | LogUp helpers, `S`, `T` |
//! | [`sketch`] | the weight sketches `H`, `T` | |
//! | [`requant`] | each activation's case and range witness | |
//! | [`product`] | | the Horner sums `U`, `V`, `Q` and the accumulator `Z` |
//! | [`counter`] | | the per-block powers `A` and factors `G` |
//! | [`patch`] | | each patch layer's plane sums `D`, `E1`, `E2` |
//! | [`pool`] | each pooled window's maximum | |
//!
//! A new constraint is one `out.push(degree, value)` in its unit; a new unit adds one line to
//! each method of [`Units`] it takes part in.

use alloc::vec::Vec;

use winter_air::TransitionConstraintDegree;
use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::{AuxFrame, MainFrame};
use crate::layout::Layout;
use crate::public::PublicInputs;
use crate::sink::{Assertions, Constraints};

pub mod counter;
pub mod lookup;
pub mod patch;
pub mod pool;
pub mod product;
pub mod requant;
pub mod sketch;

/// Everything the units read besides the frame, and the order they write in.
#[derive(Clone, Debug)]
pub(crate) struct Units {
    /// The layout of the statement.
    pub layout: Layout,
    /// Where each challenge and power is among the random elements.
    pub challenges: Challenges,
    /// The statement.
    pub public: PublicInputs,
    /// Per region: the inverse of the multiplier of the layer whose outputs it holds.
    inv_multipliers: Vec<Felt>,
    sketches: sketch::Sketches,
}

impl Units {
    /// The units of `public`'s statement laid out as `layout`.
    pub fn new(layout: Layout, public: PublicInputs) -> Self {
        Self {
            challenges: Challenges::new(&layout),
            inv_multipliers: product::inverse_multipliers(&layout),
            sketches: sketch::Sketches::new(&layout, &public),
            layout,
            public,
        }
    }

    /// The main segment's transition constraints.
    pub fn main<E: FieldElement<BaseField = Felt>>(
        &self,
        f: &MainFrame<'_, E>,
        out: &mut Constraints<'_, E>,
    ) {
        lookup::constraints::table_step(&self.layout, f, out);
        self.sketches.constraints(&self.layout, f, out);
        requant::constraints::constraints(&self.layout, f, out);
        pool::constraints::constraints(&self.layout, f, out);
    }

    /// The auxiliary segment's transition constraints.
    pub fn aux<F, E>(&self, f: &AuxFrame<'_, F, E>, out: &mut Constraints<'_, E>)
    where
        F: FieldElement<BaseField = Felt>,
        E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
    {
        let (layout, ch, inv_m) = (&self.layout, &self.challenges, &self.inv_multipliers);
        product::constraints::running_sums(layout, ch, inv_m, f, out);
        counter::constraints::constraints(layout, ch, f, out);
        patch::constraints::constraints(layout, ch, f, out);
        product::constraints::accumulator(layout, ch, inv_m, f, out);
        lookup::constraints::logup(layout, ch, f, out);
    }

    /// The main segment's assertions.
    pub fn main_assertions(&self, out: &mut Assertions<Felt>) {
        let tables = self.public.descriptor.tables();
        lookup::constraints::table_assertions(&self.layout, &tables, out);
        sketch::constraints::assertions(&self.layout, &self.public, out);
    }

    /// The auxiliary segment's assertions (`r`: the expanded random elements).
    pub fn aux_assertions<E: FieldElement<BaseField = Felt>>(
        &self,
        r: &[E],
        out: &mut Assertions<E>,
    ) {
        let (layout, ch) = (&self.layout, &self.challenges);
        product::constraints::running_sum_assertions(layout, out);
        counter::constraints::assertions(layout, ch, r, out);
        patch::constraints::assertions(layout, out);
        product::constraints::accumulator_assertions(layout, ch, &self.public, r, out);
        lookup::constraints::logup_assertions(layout, out);
    }

    /// The main constraints' degrees, listed by running [`Units::main`] on an all-zero frame.
    pub fn main_degrees(&self) -> Vec<TransitionConstraintDegree> {
        let zero = alloc::vec![Felt::ZERO; self.layout.main_width];
        let mut out = Constraints::list();
        self.main(
            &MainFrame {
                cur: &zero,
                next: &zero,
            },
            &mut out,
        );
        out.degrees()
    }

    /// The auxiliary constraints' degrees, listed by running [`Units::aux`] on an all-zero
    /// frame.
    pub fn aux_degrees(&self) -> Vec<TransitionConstraintDegree> {
        let main = alloc::vec![Felt::ZERO; self.layout.main_width];
        let aux = alloc::vec![Felt::ZERO; self.layout.aux.width];
        let periodic = alloc::vec![Felt::ZERO; self.num_periodic()];
        let r = alloc::vec![Felt::ZERO; self.challenges.len];
        let f = AuxFrame {
            main: MainFrame {
                cur: &main,
                next: &main,
            },
            cur: &aux,
            next: &aux,
            periodic: &periodic,
            r: &r,
        };
        let mut out = Constraints::list();
        self.aux(&f, &mut out);
        out.degrees()
    }

    /// How many main assertions [`Units::main_assertions`] writes.
    pub fn num_main_assertions(&self) -> usize {
        let mut out = Assertions::count();
        self.main_assertions(&mut out);
        out.len()
    }

    /// How many auxiliary assertions [`Units::aux_assertions`] writes (no value is computed).
    pub fn num_aux_assertions(&self) -> usize {
        let r = alloc::vec![Felt::ZERO; self.challenges.len];
        let mut out = Assertions::count();
        self.aux_assertions(&r, &mut out);
        out.len()
    }

    fn num_periodic(&self) -> usize {
        2 * self.layout.block_lens.len()
            + self.layout.restart_flags.len()
            + self.layout.half_flags.len()
    }
}

/// A small two-layer layout for the units' tests (4 → 3 → 2, one sample, 256 rows).
#[cfg(test)]
pub(crate) fn test_layout() -> Layout {
    use crate::descriptor::{LayerDescriptor, ModelDescriptor};
    let layer = |n_in: usize, n_out: usize, multiplier| LayerDescriptor {
        n_in,
        n_out,
        multiplier,
        bias: alloc::vec![0; n_out],
        groups: 1,
        conv: None,
        patch: None,
        table: None,
    };
    let d = ModelDescriptor {
        trace_len: 256,
        layers: alloc::vec![layer(4, 3, Some(3000)), layer(3, 2, None)],
        input_scale: 1.0,
        output_scale: 1.0,
        input_encoding: crate::encoding::InputEncoding::Symmetric,
    };
    match Layout::new(&d, 1) {
        Ok(layout) => layout,
        Err(e) => panic!("the test model has a layout: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use winter_air::TransitionConstraintDegree;

    use super::*;
    use crate::limits::SKETCHES;

    #[test]
    fn the_main_degrees_are_the_units_constraints_in_order() {
        let layout = test_layout();
        let activations: usize = layout.regions.iter().skip(1).map(|r| r.lanes_per_row).sum();
        let public = PublicInputs {
            descriptor: crate::descriptor::ModelDescriptor {
                trace_len: 256,
                layers: Vec::new(),
                input_scale: 1.0,
                output_scale: 1.0,
                input_encoding: crate::encoding::InputEncoding::Symmetric,
            },
            inputs: Vec::new(),
            outputs: Vec::new(),
            padding_outputs: Vec::new(),
            weight_root: [0; 32],
            weight_sketch: [Felt::ZERO; SKETCHES],
            bundle: crate::bundle::BundlePosition::single(&[]),
        };
        let units = Units::new(layout, public);
        let mut expected = alloc::vec![TransitionConstraintDegree::new(2)];
        expected.extend((0..3 * SKETCHES).map(|_| TransitionConstraintDegree::new(1)));
        expected.extend((0..4 * activations).map(|_| TransitionConstraintDegree::new(3)));
        assert_eq!(units.main_degrees(), expected);
        // the range table's pinned values (one row per value here: even and odd rows, and no
        // separate last row)
        assert_eq!(units.layout.table_stride(), 1);
        assert_eq!(units.num_main_assertions(), 2 + 2 * SKETCHES);
        let l = &units.layout;
        // U per layer, A per region, V and Q where blocks have several live rows, Z's two, S
        // and T, G per factored layer
        let sums = |c: &[Option<usize>]| c.iter().flatten().count();
        let aux = l.layers.len() + l.regions.len() + sums(&l.aux.v) + sums(&l.aux.q) + 4;
        let aux = aux + sums(&l.aux.g);
        assert_eq!(units.num_aux_assertions(), aux);
    }
}
