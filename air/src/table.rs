//! Activation tables: a hidden layer whose outputs pass through a committed function.
//!
//! A layer with a table requantizes and clamps its accumulators as every hidden layer does, to an
//! index `x ∈ 0..256`, and the next layer reads `y = T[x]` instead of `x`. `T` (256 integers,
//! `|T[x]| ≤ 255`) is part of the descriptor, hence of the digest, so the function is committed
//! like the weights. This is how smooth activations (sigmoid, tanh, GELU, `exp`, squares) are
//! proven: the layer's multiplier and bias map the pre-activation's calibrated range onto the
//! index, and `T` holds the function's values at the activation scale of the next layer.
//!
//! **How the proof checks it.** Every activation of a tabled region has a seventh cell `y`, and
//! the pair is looked up on the LogUp bus the range checks use: the key `x + λ·y + λ²·(k + 1)`
//! (table `k` of the layout, `λ` a verifier challenge) must match a row of table `k`'s columns,
//! whose key is `i + λ·T_k[i] + λ²·(k + 1)`. The range table's column runs through `0..256`, each
//! value on a run of rows; a sequence assertion pins value `i` to row `i·N/256`, and table `k`'s
//! value column is pinned to `T_k[i]` on the same rows and may change only where the range table
//! steps, so every row of it holds `T_k` of that row's range value. The range table's own keys
//! have no `λ` terms, so a tabled key can match no range entry and no other table's entry (with
//! probability `1 − O(1/|F|)` over `λ`). A lookup of `x` in table `k` also range-checks `x`.

use alloc::vec::Vec;

use crate::limits::{ACT_MAX, RANGE_TABLE_SIZE};

/// Added to a layer's multiplier in the digest's elements to mark a tabled layer (multipliers are
/// below 2^24, so the mark is unambiguous); the table's 256 values follow the layer's bias.
pub const DIGEST_TABLE_MARK: u64 = 1 << 32;

/// Set in a layer's multiplier field in the proof file to mark a tabled layer; the table's 256
/// values (`i16`) follow the layer's bias.
pub const ENVELOPE_TABLE_MARK: u32 = 1 << 31;

/// The 256 values of an activation table (see the [module docs](self)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationTable {
    values: Vec<i64>,
}

impl ActivationTable {
    /// The table with these values, if there are exactly 256 and each has `|v| ≤ 255`.
    pub fn new(values: Vec<i64>) -> Option<Self> {
        let ok = values.len() == RANGE_TABLE_SIZE && values.iter().all(|v| v.abs() <= ACT_MAX);
        ok.then_some(Self { values })
    }

    /// The values, index `0..256`.
    pub fn values(&self) -> &[i64] {
        &self.values
    }

    /// `T[x]` for an index in `0..256` (0 outside, which no honest index is).
    pub fn get(&self, x: i64) -> i64 {
        usize::try_from(x)
            .ok()
            .and_then(|i| self.values.get(i))
            .copied()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_has_256_values_within_the_activation_range() {
        let identity: Vec<i64> = (0..256).collect();
        let table = ActivationTable::new(identity.clone());
        assert_eq!(table.as_ref().map(|t| t.get(7)), Some(7));
        assert_eq!(table.map(|t| t.get(256)), Some(0));
        assert!(ActivationTable::new(identity[..255].to_vec()).is_none());
        let mut wide = identity.clone();
        wide[3] = 256;
        assert!(ActivationTable::new(wide).is_none());
        let mut negative = identity;
        negative[3] = -255;
        assert!(ActivationTable::new(negative).is_some());
    }
}
