//! The requantization unit: per activation, `acc·M + 2^15 = t·2^16 + r` with `r = r0 + 256·r1`,
//! a case cell `c` (0: `0 ≤ t ≤ 255`, 1: `t < 0`, 2: `t > 255`), the activation
//! `x = clamp(t, 0, 255)` as a polynomial in `t, c`, and a range witness `d = d0 + 256·d1` that is
//! `−t − 1` for negative `t`, `t − 256` for saturated `t` and zero otherwise. The limbs and `x` are
//! range-checked by the lookup unit, which makes the case and the rounding exact.
//!
//! The six cells are [`ActivationCells`](crate::layout::ActivationCells); [`witness`] encodes
//! the values an honest prover writes in them (the trace builder uses it), [`constraints`] checks
//! them.

pub mod constraints;
pub mod witness;

#[cfg(test)]
mod tests;

pub use constraints::{accumulator, activation, activation_row, cases};
