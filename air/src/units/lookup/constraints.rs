//! The lookup unit's constraints and assertions (see [`crate::units::lookup`]).

use alloc::vec::Vec;

use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::field::{felt_from_i64, Felt};
use crate::frame::{AuxFrame, MainFrame};
use crate::layout::{Layout, LookupValue, ACT_CELLS};
use crate::limits::RANGE_TABLE_SIZE;
use crate::sink::{Assertions, Constraints, Degree};
use crate::table::ActivationTable;
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

/// The value a lookup checks, read from one trace row (the index `x` of a tabled pair).
pub fn lookup_value<F: FieldElement<BaseField = Felt>>(row: &[F], v: &LookupValue) -> F {
    match *v {
        LookupValue::Cell(c) => row[c],
        LookupValue::Tabled { base, .. } => activation(row, base),
        LookupValue::Gap { high, low } => row[high] - row[low],
    }
}

/// The key a lookup puts on the bus: the value itself, or `x + λ·y + λ²·(k + 1)` for a tabled
/// pair of table `k` (see [`crate::table`]).
pub fn lookup_key<F, E>(row: &[F], v: &LookupValue, lambda: E) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let x = E::from(lookup_value(row, v));
    match *v {
        LookupValue::Tabled { base, table } => {
            let y = E::from(row[base + ACT_CELLS]);
            table_key(x, y, table, lambda)
        }
        _ => x,
    }
}

/// The key of entry `(x, y)` of table `k`: `x + λ·(y + λ·(k + 1))`.
pub fn table_key<E: FieldElement<BaseField = Felt>>(x: E, y: E, table: usize, lambda: E) -> E {
    x + lambda * (y + lambda * E::from(Felt::new(table as u64 + 1)))
}

/// Main: the table column steps by 0 or 1 (with its assertions, it runs through `0..256`), and
/// each activation table's value column changes only where it steps.
pub fn table_step<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    f: &MainFrame<'_, E>,
    out: &mut Constraints<'_, E>,
) {
    let dt = f.next[layout.table] - f.cur[layout.table];
    out.push(Degree::new(2), dt * (dt - E::ONE));
    for t in &layout.tables {
        let dv = f.next[t.values] - f.cur[t.values];
        out.push(Degree::new(2), (E::ONE - dt) * dv);
    }
}

/// Main assertions: the table holds `i` at row `i·N/256` and ends at 255, and each activation
/// table's value column holds `T[i]` on the same rows.
pub fn table_assertions(layout: &Layout, tables: &[&ActivationTable], out: &mut Assertions<Felt>) {
    let last = layout.trace_len - 1;
    let stride = layout.table_stride();
    pin(out, layout.table, stride, || {
        (0..RANGE_TABLE_SIZE as u64).map(Felt::new).collect()
    });
    // (with one row per value the pinned rows already end at the last row)
    if stride > 1 {
        out.single(layout.table, last, || {
            Felt::new(RANGE_TABLE_SIZE as u64 - 1)
        });
    }
    for (cols, table) in layout.tables.iter().zip(tables) {
        pin(out, cols.values, stride, || {
            table.values().iter().map(|&v| felt_from_i64(v)).collect()
        });
    }
}

/// `column` holds `values()[i]` at row `i·stride`: one sequence assertion, or, with one row per
/// value (winterfell's strides are at least 2), one for the even rows and one for the odd.
fn pin(out: &mut Assertions<Felt>, column: usize, stride: usize, values: impl Fn() -> Vec<Felt>) {
    if stride > 1 {
        out.sequence(column, 0, stride, values);
    } else {
        for first in 0..2 {
            out.sequence(column, first, 2, || {
                values().into_iter().skip(first).step_by(2).collect()
            });
        }
    }
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
    let (gamma, lambda) = (f.r[ch.gamma], f.r[ch.lambda]);
    let mut sums = [E::ZERO; 2];
    for (g, group) in layout.lookup_groups.iter().enumerate() {
        let h = ax.helpers[g];
        // each looked-up value or key is linear in the cells
        let degree = Degree::new(1 + group.len());
        for (row, aux_row, sum) in [(mc, ac, 0), (mn, an, 1)] {
            let values = group.iter().map(|v| lookup_key(row, v, lambda));
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
        for (k, (cols, &h)) in layout.tables.iter().zip(&ax.table_helpers).enumerate() {
            let key = table_key(
                E::from(row[layout.table]),
                E::from(row[cols.values]),
                k,
                lambda,
            );
            let m = E::from(row[cols.multiplicity]);
            out.push(Degree::new(2), aux_row[h] * (gamma - key) - m);
            sums[sum] -= aux_row[h];
        }
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
