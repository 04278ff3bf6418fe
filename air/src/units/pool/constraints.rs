//! The pool unit's constraint (see [`crate::units::pool`]).

use winter_math::FieldElement;

use crate::field::Felt;
use crate::frame::MainFrame;
use crate::layout::{Layout, RegionLayout};
use crate::sink::{Constraints, Degree};

/// `Π_k (m − x_k)`: zero exactly when the maximum cell `m` equals one of the window's
/// activations `xs`.
pub fn window_product<E: FieldElement<BaseField = Felt>>(
    m: E,
    xs: impl IntoIterator<Item = E>,
) -> E {
    xs.into_iter().fold(E::ONE, |acc, x| acc * (m - x))
}

/// The product of lane column `t`'s window in `row` (a pooled region's).
fn lane_product<E: FieldElement<BaseField = Felt>>(
    region: &RegionLayout,
    t: usize,
    m: usize,
    row: &[E],
) -> E {
    let xs = (0..region.window()).map(|k| row[region.window_activation(t, k).x]);
    window_product(row[m], xs)
}

/// Main: every window's product, in current- and next-row form (so the last row is covered too).
pub fn constraints<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    f: &MainFrame<'_, E>,
    out: &mut Constraints<'_, E>,
) {
    for region in &layout.regions {
        for t in 0..region.lanes_per_row {
            let Some(m) = region.window_max(t) else {
                continue;
            };
            for row in [f.cur, f.next] {
                out.push(
                    Degree::new(region.window()),
                    lane_product(region, t, m, row),
                );
            }
        }
    }
}
