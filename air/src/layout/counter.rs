//! A column of per-block challenge powers (the `A` and `G` auxiliary columns).

use alloc::vec::Vec;

use crate::conv::{order_steps, Digit};

/// A column of per-block challenge powers: block `b` holds `base^(start + natural(b))` for a
/// mixed-radix order (see [`crate::conv`]); it starts at `base^start` on row 0 and after the last
/// row of every span in `steps` is multiplied by `base^exp` (the largest such span decides).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counter {
    /// Exponent of the row-0 value.
    pub start: i64,
    /// `(span, exp)` per digit, spans increasing.
    pub steps: Vec<(usize, i64)>,
}

impl Counter {
    /// The counter of `order` over blocks of `block_len` rows.
    pub fn new(start: i64, order: &[Digit], block_len: usize) -> Self {
        Self {
            start,
            steps: order_steps(order, block_len),
        }
    }
}
