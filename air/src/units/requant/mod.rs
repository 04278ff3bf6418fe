//! The requantization unit: per activation, `acc·M + 2^15 = t·2^16 + r` with `r = r0 + 256·r1`,
//! the activation `x = clamp(t, 0, 255)` as a cell of its own, a case cell `c` (−1: `t < 0`,
//! 0: `0 ≤ t ≤ 255`, 1: `t > 255`) and a range witness `d = d0 + 256·d1` that is `−t − 1` for
//! negative `t`, `t − 256` for saturated `t` and zero otherwise. `t` is not stored: it is
//! `x + c·(1 + d)`, which is `x` in range, `−1 − d < 0` when `c = −1` (where `x` must be 0) and
//! `256 + d > 255` when `c = 1` (where `x` must be 255). The limbs and `x` are range-checked by
//! the lookup unit, which makes the case and the rounding exact.
//!
//! Every constraint that reads an activation reads the cell `x` (degree 1), and the accumulator
//! `acc` is degree 2 in the cells, so the product check's terms stay within degree 4 and the
//! constraint evaluation domain at 4N.
//!
//! The six cells are [`ActivationCells`](crate::layout::ActivationCells); [`witness`] encodes
//! the values an honest prover writes in them (the trace builder uses it), [`constraints`] checks
//! them.

pub mod constraints;
pub mod witness;

#[cfg(test)]
mod tests;

pub use constraints::{accumulator, activation, activation_row};
