//! The sketch unit's constraints and assertions (see [`crate::units::sketch`]).

use alloc::vec::Vec;

use winter_math::FieldElement;

use crate::commitment::{sketch_points, sketch_powers, sketch_row};
use crate::field::Felt;
use crate::frame::MainFrame;
use crate::layout::Layout;
use crate::public::PublicInputs;
use crate::sink::{Assertions, Constraints, Degree};

/// Per weight sketch: `λ` and `[μ^t]` over the weight columns.
#[derive(Clone, Debug)]
pub struct Sketches {
    points: Vec<(Felt, Vec<Felt>)>,
}

impl Sketches {
    /// The sketch points of the statement's model (drawn from its descriptor and weight root).
    pub fn new(layout: &Layout, public: &PublicInputs) -> Self {
        let points = sketch_points(&public.descriptor, &public.weight_root);
        Self::from_points(&points, layout.weight_range().len())
    }

    /// The sketches at `points` `(λ, μ)` over `columns` weight columns.
    pub fn from_points(points: &[(Felt, Felt)], columns: usize) -> Self {
        Self {
            points: points
                .iter()
                .map(|&(lambda, mu)| (lambda, sketch_powers(mu, columns)))
                .collect(),
        }
    }

    /// Main: per sketch, `H' = T`, and `T = λ·H + row term` in current- and next-row form.
    pub fn constraints<E: FieldElement<BaseField = Felt>>(
        &self,
        layout: &Layout,
        f: &MainFrame<'_, E>,
        out: &mut Constraints<'_, E>,
    ) {
        let weights = layout.weight_range();
        for (k, (lambda, mu)) in self.points.iter().enumerate() {
            let (h, t) = (layout.sketch + 2 * k, layout.sketch + 2 * k + 1);
            out.push(Degree::new(1), f.next[h] - f.cur[t]);
            for row in [f.cur, f.next] {
                let term = sketch_row(&row[weights.clone()], mu);
                out.push(Degree::new(1), row[t] - row[h].mul_base(*lambda) - term);
            }
        }
    }
}

/// Main assertions: per sketch, `H` starts at zero and `T` ends at the digest's sketch.
pub fn assertions(layout: &Layout, public: &PublicInputs, out: &mut Assertions<Felt>) {
    let last = layout.trace_len - 1;
    for (k, &s) in public.weight_sketch.iter().enumerate() {
        out.single(layout.sketch + 2 * k, 0, || Felt::ZERO);
        out.single(layout.sketch + 2 * k + 1, last, || s);
    }
}
