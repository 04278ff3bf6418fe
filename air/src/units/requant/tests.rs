//! The requantization unit on hand-built cells: honest witnesses satisfy both row constraints
//! and invert the requantization; each wrong cell breaks its named constraint or changes `t`; and
//! no other cells that pass the range checks give the same `t`.

use winter_math::FieldElement;

use super::constraints::{accumulator_of, requantized, row_constraints};
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
        assert_eq!(v.x, felt_from_i64(t.clamp(0, ACT_MAX)), "t = {t}");
        assert_eq!(requantized(&v), felt_from_i64(t), "t = {t}");
    }
}

#[test]
fn each_wrong_cell_breaks_its_constraint_or_changes_t() {
    // a case outside {−1, 0, 1}: the case constraint
    let mut v = cells(-5, 0);
    v.c = Felt::new(2);
    assert_ne!(row_constraints(&v)[0], Felt::ZERO);
    // a negative t with a nonzero activation, a saturated one below 255
    let mut v = cells(-5, 0);
    v.x = Felt::new(3);
    assert_ne!(row_constraints(&v)[1], Felt::ZERO);
    let mut v = cells(300, 0);
    v.x = Felt::new(254);
    assert_ne!(row_constraints(&v)[1], Felt::ZERO);
    // the wrong case, or a witness off by one: the row holds, but t (hence the accumulator the
    // product check sees) is another value
    for (t, change) in [(-5, 0u8), (300, 0), (300, 1), (-5, 1)] {
        let mut v = cells(t, 0);
        match change {
            0 => v.c = Felt::ZERO,
            _ => v.d0 += Felt::ONE,
        }
        assert_ne!(
            requantized(&v),
            felt_from_i64(t),
            "t = {t}, change {change}"
        );
    }
}

/// Soundness of the encoding: for a given `t`, the honest `(x, c, d)` is the only choice with
/// `x ∈ 0..=255`, `d ∈ 0..2^16` (what the range checks allow) that satisfies the row constraints
/// and gives `t`.
#[test]
fn only_the_honest_cells_give_t() {
    for t in [-65536, -2, -1, 0, 5, 255, 256, 257, 65536 + 255] {
        let honest = ActivationCells::witness(t, 0);
        for x in 0..=ACT_MAX {
            for c in [-1i64, 0, 1] {
                // t = x + c·(1 + d), so d = c·(t − x) − 1 for c = ±1; with c = 0, d is free but
                // enters nothing (the honest prover writes 0)
                let d = if c == 0 { 0 } else { c * (t - x) - 1 };
                if c == 0 && x != t || !(0..1 << 16).contains(&d) {
                    continue;
                }
                let v = ActivationCells::<i64> {
                    x,
                    c,
                    r0: 0,
                    r1: 0,
                    d0: d & 0xff,
                    d1: d >> 8,
                }
                .map(felt_from_i64);
                if row_constraints(&v) == [Felt::ZERO; 2] {
                    assert_eq!(requantized(&v), felt_from_i64(t));
                    assert_eq!((x, c, d), (honest.x, honest.c, honest.d0 + 256 * honest.d1));
                }
            }
        }
    }
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
    assert_eq!(super::activation(&row, 3), v.x);
    let inv = Felt::new(7).inv();
    assert_eq!(super::accumulator(&row, 3, inv), accumulator_of(&v, inv));
    let mut out = [Felt::ONE; 2];
    super::activation_row(&row, 3, &mut out);
    assert_eq!(out, row_constraints(&v));
}
