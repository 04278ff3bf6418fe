//! The values range-checked against the table `0..256`, and how they are grouped under one
//! LogUp helper column each.

use alloc::vec::Vec;

use super::region::{RegionKind, RegionLayout};

/// Highest constraint degree a lookup group may reach (5 keeps winterfell's constraint
/// evaluation domain at 4× the trace length).
pub(super) const LOOKUP_DEGREE_BUDGET: usize = 5;
/// The budget for a trace that would otherwise exceed [`MAX_WIDTH`](crate::limits::MAX_WIDTH)
/// (an 8× evaluation domain, about half the helper columns).
pub(super) const WIDE_LOOKUP_DEGREE_BUDGET: usize = 8;

/// One value range-checked against the table `0..256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupValue {
    /// The cell itself (an activation's `x`, or one of its limbs).
    Cell(usize),
    /// The pair `(x, y)` of a tabled activation whose group starts at `base`, looked up in
    /// table `table` (see [`crate::table`]).
    Tabled {
        /// First column of the activation's cells (`y` is the seventh).
        base: usize,
        /// The table's index among the layout's tables.
        table: usize,
    },
    /// The difference of two cells, `row[high] − row[low]` (a window maximum minus one of its
    /// activations: checking it is `0..256` proves the maximum is at least the activation).
    Gap {
        /// The minuend's column.
        high: usize,
        /// The subtrahend's column.
        low: usize,
    },
}

/// Every range-checked value: per activation `x` (or the pair `(x, y)` of a tabled one), `r0`,
/// `r1`, `d0`, `d1`, and per pooled window `m − x_k` for each of its activations (the weights
/// are the committed ones, the inputs are public).
pub(super) fn range_checked(regions: &[RegionLayout]) -> Vec<LookupValue> {
    let mut values = Vec::new();
    for region in regions {
        if let RegionKind::Activation { table, window, .. } = region.kind {
            for t in 0..region.lanes_per_row {
                for k in 0..window {
                    let cells = region.window_activation(t, k);
                    values.push(match table {
                        // the table lookup range-checks x as well
                        Some(table) => LookupValue::Tabled {
                            base: cells.x,
                            table,
                        },
                        None => LookupValue::Cell(cells.x),
                    });
                    values.extend(cells.limbs().map(LookupValue::Cell));
                }
                if let Some(m) = region.window_max(t) {
                    values.extend((0..window).map(|k| LookupValue::Gap {
                        high: m,
                        low: region.window_activation(t, k).x,
                    }));
                }
            }
        }
    }
    values
}

/// `values` in order, cut into groups whose helper constraint stays within degree `budget`: every
/// value (or tabled key) is linear in the cells, so a group of `k` has degree `k + 1`.
pub(super) fn group_lookups(values: &[LookupValue], budget: usize) -> Vec<Vec<LookupValue>> {
    values.chunks(budget - 1).map(<[_]>::to_vec).collect()
}
