//! The requantization unit on hand-built cells: honest witnesses satisfy both row constraints
//! and invert the requantization; each wrong cell breaks its named constraint.

use winter_math::FieldElement;

use super::constraints::{accumulator_of, clamped, row_constraints};
use crate::field::{felt_from_i64, Felt};
use crate::layout::ActivationCells;
use crate::limits::{ACT_MAX, REQUANT_SHIFT};

/// An honest cell group for `t` (remainder `r`), as field elements.
fn cells(t: i64, r: i64) -> ActivationCells<Felt> {
    ActivationCells::witness(t, r).map(felt_from_i64)
}

#[test]
fn honest_cells_satisfy_the_row_constraints() {
    for t in [-65536, -300, -1, 0, 1, 77, 255, 256, 1000, 65536 + 255] {
        let v = cells(t, 12345);
        assert_eq!(row_constraints(&v), [Felt::ZERO; 2], "t = {t}");
        assert_eq!(clamped(&v), felt_from_i64(t.clamp(0, ACT_MAX)), "t = {t}");
    }
}

#[test]
fn each_wrong_cell_breaks_its_constraint() {
    // a case outside {0, 1, 2}: the case constraint
    let mut v = cells(-5, 0);
    v.c = Felt::new(3);
    assert_ne!(row_constraints(&v)[0], Felt::ZERO);
    // the wrong case for t (negative t claimed in range): the witness no longer matches
    let mut v = cells(-5, 0);
    v.c = Felt::ZERO;
    assert_ne!(row_constraints(&v)[1], Felt::ZERO);
    // a witness off by one
    let mut v = cells(300, 0);
    v.d0 += Felt::ONE;
    assert_ne!(row_constraints(&v)[1], Felt::ZERO);
    // saturation claimed for a negative t
    let mut v = cells(-5, 0);
    v.c = Felt::new(2);
    assert_ne!(row_constraints(&v)[1], Felt::ZERO);
}

#[test]
fn accumulator_inverts_the_requantization() {
    let m = 3000u32;
    let inv = Felt::new(u64::from(m)).inv();
    for acc in [-40_000i64, -1, 0, 1, 777, 50_000] {
        let Some(w) = ActivationCells::requantize(acc, m) else {
            panic!("acc = {acc} does not overflow");
        };
        let scaled = acc * i64::from(m) + (1 << (REQUANT_SHIFT - 1));
        assert_eq!(
            w,
            ActivationCells::witness(scaled >> REQUANT_SHIFT, scaled & 0xffff)
        );
        let v = w.map(felt_from_i64);
        assert_eq!(accumulator_of(&v, inv), felt_from_i64(acc), "acc = {acc}");
        assert_eq!(row_constraints(&v), [Felt::ZERO; 2], "acc = {acc}");
    }
    assert_eq!(ActivationCells::requantize(i64::MAX, m), None);
}

#[test]
fn a_zero_accumulator_has_the_same_witness_under_every_multiplier() {
    for m in [1, 3000, (1 << 24) - 1] {
        assert_eq!(
            ActivationCells::requantize(0, m),
            Some(ActivationCells::zero())
        );
    }
    let zero = ActivationCells::zero();
    assert_eq!(zero.to_array(), [0, 0, 0, 128, 0, 0]);
}

#[test]
fn the_row_helpers_read_the_named_cells() {
    let v = cells(300, 40_000);
    let mut row = alloc::vec![Felt::new(99); 3];
    row.extend(v.to_array());
    assert_eq!(super::activation(&row, 3), clamped(&v));
    let inv = Felt::new(7).inv();
    assert_eq!(super::accumulator(&row, 3, inv), accumulator_of(&v, inv));
    let mut out = [Felt::ONE; 2];
    super::activation_row(&row, 3, &mut out);
    assert_eq!(out, row_constraints(&v));
}
