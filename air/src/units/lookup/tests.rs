//! The lookup unit on hand-built values and frames.

use winter_math::FieldElement;

use super::constraints::{fraction_sum, lookup_value, table_step};
use crate::field::Felt;
use crate::frame::MainFrame;
use crate::layout::LookupValue;
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
