//! The patch unit's constraints and assertions (see [`crate::units::patch`]).

use winter_math::{ExtensionOf, FieldElement};

use super::{layer_plane_term, BackTotals};
use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::AuxFrame;
use crate::layout::Layout;
use crate::sink::{Assertions, Constraints, Degree};
use crate::units::product::constraints::lane_sum;
use crate::units::product::rows::{input_row_sum, weight_row_sum};

/// A block's totals in patch layer `l`, read on its last row.
struct Block<E> {
    /// The block's weight total `F_q`.
    f: E,
    /// The kernel prefix completed by it, `D_q`.
    d: E,
    /// The position power `ρ^q`.
    pos: E,
    /// The block's lane total `g_q`.
    g: E,
}

/// The row's block totals of patch layer `l`, from row `row` (main) and `aux` (its auxiliary
/// values), meaningful where the row is a block's last.
fn block_totals<F, E>(
    layout: &Layout,
    ch: &Challenges,
    r: &[E],
    main: &[F],
    aux: &[E],
    l: usize,
) -> Block<E>
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let [d, _, _] = ax.patch[l].unwrap_or_default();
    let f = aux[ax.u[l]] + weight_row_sum(layout, ch, r, main, l);
    let g = lane_sum(aux, ax.v[l]) + input_row_sum(layout, ch, r, main, l);
    Block {
        f,
        d: aux[d] + f,
        pos: aux[ax.g[l].unwrap_or(0)],
        g,
    }
}

/// Auxiliary: per patch layer, `D`, `E1` and `E2` hold inside a block, step after its last row,
/// and restart after a plane's last row.
pub fn constraints<F, E>(
    layout: &Layout,
    ch: &Challenges,
    f: &AuxFrame<'_, F, E>,
    out: &mut Constraints<'_, E>,
) where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let (ac, an) = (f.cur, f.next);
    for (l, lay) in layout.layers.iter().enumerate() {
        let (Some([d, e1, e2]), Some(span)) = (layout.aux.patch[l], lay.plane_span()) else {
            continue;
        };
        let (last, _) = f.flags(layout, lay.block_len);
        let (plane_last, _) = f.flags(layout, span);
        let rho = f.r[ch.rho[l]];
        let b = block_totals(layout, ch, f.r, f.main.cur, ac, l);
        // a plane's last row is a block's last row, so `last·(1 − plane_last)` is
        // `last − plane_last` on the trace: each term then has one periodic factor, and the
        // degree is exactly the one declared (the plane flag's)
        let step = last - plane_last;
        out.push(
            Degree::cyclic(1, span),
            an[d] - ac[d] + last * ac[d] - step * rho * b.d,
        );
        out.push(
            Degree::cyclic(2, span),
            an[e1] - ac[e1] + last * ac[e1] - step * (ac[e1] + b.pos * b.g),
        );
        out.push(
            Degree::cyclic(2, span),
            an[e2] - ac[e2] + last * ac[e2] - step * (ac[e2] + b.d * b.g),
        );
        // a linear layer's back-reading sums: the block's weights enter only in the plane's
        // upper half (flag `h`); `step·h` is `half − plane_last` with `half` the flag of the
        // upper half's block ends (the plane's last row is one), again one periodic factor a term
        let Some([dm, em]) = layout.aux.patch_back[l] else {
            continue;
        };
        let step_h = f.half(layout, span, lay.block_len) - plane_last;
        out.push(
            Degree::cyclic(1, span),
            an[dm] - ac[dm] + last * ac[dm] - step * rho * ac[dm] - step_h * rho * b.f,
        );
        out.push(
            Degree::cyclic(2, span),
            an[em] - ac[em] + last * ac[em] - step * (ac[em] + ac[dm] * b.g) - step_h * b.f * b.g,
        );
    }
}

/// The accumulator's share of patch layer `l` on this row: its [`plane_term`] from the next
/// row's values where that row ends a plane (zero for other layers).
pub fn accumulator_term<F, E>(
    layout: &Layout,
    ch: &Challenges,
    f: &AuxFrame<'_, F, E>,
    l: usize,
) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let lay = &layout.layers[l];
    let (Some([_, e1, e2]), Some(span), Some(at)) =
        (layout.aux.patch[l], lay.plane_span(), ch.patch[l])
    else {
        return E::ZERO;
    };
    let (_, penult) = f.flags(layout, span);
    let an = f.next;
    let b = block_totals(layout, ch, f.r, f.main.next, an, l);
    // the plane's last block is in its upper half: its weights complete `D⁻`
    let back = layout.aux.patch_back[l].map(|[dm, em]| {
        let d = an[dm] + b.f;
        BackTotals {
            d,
            e2: an[em] + d * b.g,
        }
    });
    let term = layer_plane_term(
        [f.r[at], f.r[at + 1], f.r[at + 2]],
        f.r[ch.rho[l]],
        b.d,
        an[e1] + b.pos * b.g,
        an[e2] + b.d * b.g,
        back,
    );
    penult * term
}

/// Degree of [`accumulator_term`] for layer `l` (`None` unless it is a patch layer).
pub fn accumulator_degree(layout: &Layout, l: usize) -> Option<(usize, usize)> {
    let span = layout.layers[l].plane_span()?;
    // the plane sums times a lane total (activations are cells)
    Some((3, span))
}

/// Auxiliary assertions: every patch layer's `D`, `E1`, `E2` (and a linear one's `D⁻`, `E2⁻`)
/// start at zero.
pub fn assertions<E: FieldElement<BaseField = Felt>>(layout: &Layout, out: &mut Assertions<E>) {
    for cols in layout.aux.patch.iter().flatten() {
        for &c in cols {
            out.single(c, 0, || E::ZERO);
        }
    }
    for cols in layout.aux.patch_back.iter().flatten() {
        for &c in cols {
            out.single(c, 0, || E::ZERO);
        }
    }
}
