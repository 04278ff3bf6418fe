//! The counter unit's constraints and assertions (see [`crate::units::counter`]).

use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::AuxFrame;
use crate::layout::{Counter, Layout};
use crate::sink::{Assertions, Constraints, Degree};

/// Auxiliary: every `A` column, then every `G` column, steps by its factor.
pub fn constraints<F, E>(
    layout: &Layout,
    ch: &Challenges,
    f: &AuxFrame<'_, F, E>,
    out: &mut Constraints<'_, E>,
) where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let (ac, an) = (f.cur, f.next);
    // A: δ^(j+1), or ρ_(l−1)^(i+1) for the natural index i of block j's output
    for (l, reg) in layout.regions.iter().enumerate() {
        let a = ax.a[l];
        let step = step(layout, &reg.powers, ch.powers[l], f);
        out.push(degree(&reg.powers), an[a] - ac[a] * step);
    }
    // G: ρ^(g·m) for the group of a grouped layer's block, ρ^(y·Wo + x) for a stencil's
    for (l, lay) in layout.layers.iter().enumerate() {
        if let (Some(g), Some(c), Some(at)) = (ax.g[l], &lay.factor, ch.factor[l]) {
            out.push(degree(c), an[g] - ac[g] * step(layout, c, at, f));
        }
    }
}

/// Where a per-block power column steps, and by what factor (its table starts at `at`).
fn step<F, E>(layout: &Layout, c: &Counter, at: usize, f: &AuxFrame<'_, F, E>) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let mut factor = E::ONE;
    for (s, &(span, _)) in c.steps.iter().enumerate() {
        factor += f.flags(layout, span).0 * f.r[at + 1 + s];
    }
    factor
}

/// Degree of a per-block power column's constraint: its largest span decides.
fn degree(c: &Counter) -> Degree {
    match c.steps.last() {
        Some(&(span, _)) => Degree::cyclic(1, span),
        None => Degree::new(1),
    }
}

/// Auxiliary assertions: every `A`, then every `G`, starts at its table's first value.
pub fn assertions<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    ch: &Challenges,
    r: &[E],
    out: &mut Assertions<E>,
) {
    let ax = &layout.aux;
    for (l, &a) in ax.a.iter().enumerate() {
        out.single(a, 0, || r[ch.powers[l]]);
    }
    for (g, at) in ax.g.iter().zip(&ch.factor) {
        if let (Some(g), Some(at)) = (g, at) {
            out.single(*g, 0, || r[*at]);
        }
    }
}
