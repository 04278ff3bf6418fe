//! The patch unit's constraints and assertions (see [`crate::units::patch`]).

use winter_math::{ExtensionOf, FieldElement};

use super::plane_term;
use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::AuxFrame;
use crate::layout::Layout;
use crate::sink::{Assertions, Constraints, Degree};
use crate::units::product::constraints::lane_sum;
use crate::units::product::rows::{input_row_sum, weight_row_sum};

/// The row's block totals of patch layer `l`, from row `row` (main) and `aux` (its auxiliary
/// values): `(D_q, ρ^q, g_q)` where the row is a block's last.
fn block_totals<F, E>(
    layout: &Layout,
    ch: &Challenges,
    r: &[E],
    main: &[F],
    aux: &[E],
    l: usize,
) -> (E, E, E)
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let [d, _, _] = ax.patch[l].unwrap_or_default();
    let f_q = aux[ax.u[l]] + weight_row_sum(layout, ch, r, main, l);
    let g_q = lane_sum(aux, ax.v[l]) + input_row_sum(layout, ch, r, main, l);
    (aux[d] + f_q, aux[ax.g[l].unwrap_or(0)], g_q)
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
        let (d_q, pos, g_q) = block_totals(layout, ch, f.r, f.main.cur, ac, l);
        // a plane's last row is a block's last row, so `last·(1 − plane_last)` is
        // `last − plane_last` on the trace: each term then has one periodic factor, and the
        // degree is exactly the one declared (the plane flag's)
        let step = last - plane_last;
        out.push(
            Degree::cyclic(1, span),
            an[d] - ac[d] + last * ac[d] - step * rho * d_q,
        );
        out.push(
            Degree::cyclic(2, span),
            an[e1] - ac[e1] + last * ac[e1] - step * (ac[e1] + pos * g_q),
        );
        out.push(
            Degree::cyclic(2, span),
            an[e2] - ac[e2] + last * ac[e2] - step * (ac[e2] + d_q * g_q),
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
    let (d_q, pos, g_q) = block_totals(layout, ch, f.r, f.main.next, an, l);
    let term = plane_term(
        f.r[at],
        f.r[at + 1],
        d_q,
        an[e1] + pos * g_q,
        an[e2] + d_q * g_q,
    );
    penult * term
}

/// Degree of [`accumulator_term`] for layer `l` (`None` unless it is a patch layer).
pub fn accumulator_degree(layout: &Layout, l: usize) -> Option<(usize, usize)> {
    let span = layout.layers[l].plane_span()?;
    // the plane sums times a lane total (activations are cells)
    Some((3, span))
}

/// Auxiliary assertions: every patch layer's `D`, `E1`, `E2` start at zero.
pub fn assertions<E: FieldElement<BaseField = Felt>>(layout: &Layout, out: &mut Assertions<E>) {
    for cols in layout.aux.patch.iter().flatten() {
        for &c in cols {
            out.single(c, 0, || E::ZERO);
        }
    }
}
