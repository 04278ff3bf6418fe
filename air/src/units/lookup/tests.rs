//! The lookup unit on hand-built values and frames.

use alloc::vec::Vec;

use winter_math::FieldElement;

use super::constraints::{fraction_sum, logup, lookup_value, table_step};
use crate::challenges::Challenges;
use crate::field::Felt;
use crate::frame::{AuxFrame, MainFrame};
use crate::layout::{Layout, LookupValue};
use crate::sink::Constraints;
use crate::units::test_layout;

#[test]
fn fraction_sum_clears_denominators() {
    let gamma = Felt::new(1_000_003);
    let values = [Felt::new(3), Felt::new(250), Felt::new(7)];
    let (den, num) = fraction_sum(gamma, values);
    let direct: Felt = values
        .iter()
        .map(|&v| (gamma - v).inv())
        .fold(Felt::ZERO, |a, b| a + b);
    assert_eq!(num / den, direct);
    assert_eq!(fraction_sum(gamma, []), (Felt::ONE, Felt::ZERO));
}

#[test]
fn cells_are_looked_up_as_they_are() {
    let row = [Felt::new(3), Felt::new(127)];
    assert_eq!(lookup_value(&row, &LookupValue::Cell(1)), Felt::new(127));
}

#[test]
fn the_table_steps_by_zero_or_one() {
    let layout = test_layout();
    let row = |v: u64| {
        let mut r = alloc::vec![Felt::ZERO; layout.main_width];
        r[layout.table] = Felt::new(v);
        r
    };
    let step = |cur: u64, next: u64| {
        let (cur, next) = (row(cur), row(next));
        let mut result = [Felt::ONE];
        let mut out = Constraints::evaluate(&mut result);
        table_step(
            &layout,
            &MainFrame {
                cur: &cur,
                next: &next,
            },
            &mut out,
        );
        result[0]
    };
    assert_eq!(step(7, 7), Felt::ZERO);
    assert_eq!(step(7, 8), Felt::ZERO);
    assert_ne!(step(7, 9), Felt::ZERO, "table.step, a skipped value");
    assert_ne!(step(7, 6), Felt::ZERO, "table.step, a step back");
}

/// The LogUp residues of one row pair: per group its helper in current- and next-row form, the
/// table helper in both forms, then the running sum's step and the total.
fn logup_residues(layout: &Layout, main: [&[Felt]; 2], aux: [&[Felt]; 2], r: &[Felt]) -> Vec<Felt> {
    let n = 2 * layout.lookup_groups.len() + 4;
    let mut result = alloc::vec![Felt::ONE; n];
    let mut out = Constraints::evaluate(&mut result);
    let frame = AuxFrame {
        main: MainFrame {
            cur: main[0],
            next: main[1],
        },
        cur: aux[0],
        next: aux[1],
        periodic: &[],
        r,
    };
    logup(layout, &Challenges::new(layout), &frame, &mut out);
    assert_eq!(out.len(), n);
    result
}

#[test]
fn an_honest_logup_row_pair_gives_zeros_and_each_wrong_cell_breaks_its_constraint() {
    let layout = test_layout();
    let ch = Challenges::new(&layout);
    let drawn: Vec<Felt> = (0..ch.num_drawn)
        .map(|i| Felt::new(1_000_003 + 7919 * i as u64))
        .collect();
    let r = ch.expand(&layout, &drawn);
    let gamma = r[ch.gamma];
    let ax = &layout.aux;
    // main rows with arbitrary cells, the table stepping 41 → 42 with multiplicities 3 and 0
    let row = |seed: u64| -> Vec<Felt> {
        (0..layout.main_width as u64)
            .map(|c| Felt::new((seed * 31 + c * 17) % 256))
            .collect()
    };
    let (mut mc, mut mn) = (row(1), row(2));
    mc[layout.table] = Felt::new(41);
    mn[layout.table] = Felt::new(42);
    mc[layout.multiplicity] = Felt::new(3);
    mn[layout.multiplicity] = Felt::ZERO;
    // the auxiliary rows the constraints define
    let aux_row = |m: &[Felt]| -> (Vec<Felt>, Felt) {
        let mut a = alloc::vec![Felt::ZERO; ax.width];
        let mut sum = Felt::ZERO;
        for (g, group) in layout.lookup_groups.iter().enumerate() {
            let (den, num) = fraction_sum(gamma, group.iter().map(|v| lookup_value(m, v)));
            a[ax.helpers[g]] = num / den;
            sum += a[ax.helpers[g]];
        }
        a[ax.table_helper] = m[layout.multiplicity] / (gamma - m[layout.table]);
        let net = sum - a[ax.table_helper];
        (a, net)
    };
    let (mut ac, sum_c) = aux_row(&mc);
    let (mut an, sum_n) = aux_row(&mn);
    ac[ax.s] = Felt::new(555);
    an[ax.s] = ac[ax.s] + sum_c;
    an[ax.t] = an[ax.s] + sum_n;
    ac[ax.t] = Felt::new(9); // the current row's total enters no constraint of this pair
    let zeros = alloc::vec![Felt::ZERO; 2 * layout.lookup_groups.len() + 4];
    assert_eq!(logup_residues(&layout, [&mc, &mn], [&ac, &an], &r), zeros);

    let groups = layout.lookup_groups.len();
    let nonzero = |main: [&[Felt]; 2], aux: [&[Felt]; 2], at: usize, what: &str| {
        let res = logup_residues(&layout, main, aux, &r);
        assert_ne!(res[at], Felt::ZERO, "{what}");
    };
    // a helper that is not its group's fraction
    let mut bad = ac.clone();
    bad[ax.helpers[0]] += Felt::ONE;
    nonzero([&mc, &mn], [&bad, &an], 0, "logup.helper, current row");
    // a looked-up value changed under its helper (next row of the first group)
    let mut bad = mn.clone();
    let before = lookup_value(&bad, &layout.lookup_groups[0][0]);
    match layout.lookup_groups[0][0] {
        LookupValue::Cell(c) => bad[c] += Felt::ONE,
        LookupValue::Tabled { base, .. } => bad[base + crate::layout::ACT_X] += Felt::ONE,
        LookupValue::Gap { high, .. } => bad[high] += Felt::ONE,
    }
    assert_ne!(lookup_value(&bad, &layout.lookup_groups[0][0]), before);
    nonzero([&mc, &bad], [&ac, &an], 1, "logup.helper, next row");
    // a multiplicity the table helper does not carry
    let mut bad = mn.clone();
    bad[layout.multiplicity] = Felt::ONE;
    nonzero(
        [&mc, &bad],
        [&ac, &an],
        2 * groups + 1,
        "logup.table_helper, next row",
    );
    // a running sum that skips a term, and a total that does
    let mut bad = an.clone();
    bad[ax.s] += Felt::ONE;
    nonzero([&mc, &mn], [&ac, &bad], 2 * groups + 2, "logup.s_step");
    let mut bad = an.clone();
    bad[ax.t] += Felt::ONE;
    nonzero([&mc, &mn], [&ac, &bad], 2 * groups + 3, "logup.t");
}
