//! The lookup unit's constraints and assertions (see [`crate::units::lookup`]).

use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::{AuxFrame, MainFrame};
use crate::layout::{Layout, LookupValue};
use crate::limits::RANGE_TABLE_SIZE;
use crate::sink::{Assertions, Constraints, Degree};
use crate::units::requant::constraints::activation;

/// `Σ_v 1/(γ − v)` cleared of denominators: returns `(Π(γ − v), Σ_v Π_{w≠v}(γ − w))`.
pub fn fraction_sum<E: FieldElement>(gamma: E, values: impl IntoIterator<Item = E>) -> (E, E) {
    let mut den = E::ONE;
    let mut num = E::ZERO;
    for v in values {
        let d = gamma - v;
        num = num * d + den;
        den *= d;
    }
    (den, num)
}

/// The value a lookup checks, read from one trace row.
pub fn lookup_value<F: FieldElement<BaseField = Felt>>(row: &[F], v: &LookupValue) -> F {
    match *v {
        LookupValue::Cell(c) => row[c],
        LookupValue::Activation(base) => activation(row, base),
    }
}

/// Main: the table column steps by 0 or 1 (with its assertions, it runs through `0..256`).
pub fn table_step<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    f: &MainFrame<'_, E>,
    out: &mut Constraints<'_, E>,
) {
    let dt = f.next[layout.table] - f.cur[layout.table];
    out.push(Degree::new(2), dt * (dt - E::ONE));
}

/// Main assertions: the table starts at 0 and ends at 255.
pub fn table_assertions(layout: &Layout, out: &mut Assertions<Felt>) {
    let last = layout.trace_len - 1;
    out.single(layout.table, 0, || Felt::ZERO);
    out.single(layout.table, last, || {
        Felt::new(RANGE_TABLE_SIZE as u64 - 1)
    });
}

/// Auxiliary: each group's helper (current- and next-row form), the table helper
/// `m / (γ − table)` (both forms), and the running sum `S` and total `T`, so that every looked-up
/// value's fraction is cancelled by the table's.
pub fn logup<F, E>(
    layout: &Layout,
    ch: &Challenges,
    f: &AuxFrame<'_, F, E>,
    out: &mut Constraints<'_, E>,
) where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let (mc, mn, ac, an) = (f.main.cur, f.main.next, f.cur, f.next);
    let gamma = f.r[ch.gamma];
    let mut sums = [E::ZERO; 2];
    for (g, group) in layout.lookup_groups.iter().enumerate() {
        let h = ax.helpers[g];
        let degree = Degree::new(1 + group.iter().map(LookupValue::degree).sum::<usize>());
        for (row, aux_row, sum) in [(mc, ac, 0), (mn, an, 1)] {
            let values = group.iter().map(|v| E::from(lookup_value(row, v)));
            let (den, num) = fraction_sum(gamma, values);
            out.push(degree, aux_row[h] * den - num);
            sums[sum] += aux_row[h];
        }
    }
    for (row, aux_row, sum) in [(mc, ac, 0), (mn, an, 1)] {
        let th = aux_row[ax.table_helper];
        let m = E::from(row[layout.multiplicity]);
        out.push(
            Degree::new(2),
            th * (gamma - E::from(row[layout.table])) - m,
        );
        sums[sum] -= th;
    }
    out.push(Degree::new(1), an[ax.s] - ac[ax.s] - sums[0]);
    out.push(Degree::new(1), an[ax.t] - an[ax.s] - sums[1]);
}

/// Auxiliary assertions: `S` starts at zero and the total `T` is zero.
pub fn logup_assertions<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    out: &mut Assertions<E>,
) {
    let ax = &layout.aux;
    out.single(ax.s, 0, || E::ZERO);
    out.single(ax.t, layout.trace_len - 1, || E::ZERO);
}
