//! The pool unit: a 2×2 max pool without a layer of its own.
//!
//! A pooled patch layer's outputs are read by the next layer a window at a time: the region
//! after it holds, per lane, the requantization witnesses of a window's four activations
//! `x_0..x_3` (consecutive physical outputs) and one more cell, `m`, which the next layer reads as
//! its input. Two checks make `m` the window's maximum:
//! - the lookup unit range-checks each gap `m − x_k` against `0..256`, so `m ≥ x_k` for every
//!   `k` (the gaps are below `p/2` and `x_k` is in `0..=255`, so no gap wraps around);
//! - the row constraint `Π_k (m − x_k) = 0` (degree 4) makes `m` equal one of them.
//!
//! The previous layer's product check reads all four accumulators of a window, each weighted by
//! `ρ^(o_k)` for its output's place in the window (see [`crate::challenges::Challenges::window`]),
//! and the region's per-block power is that of the window's first output. Compared with a max
//! pool built from layers (a tournament of differences, `relu(a − b) + b`, then the window's pair
//! added), a window costs 25 cells and 24 lookups instead of 66 cells and 55 lookups, and the
//! trace needs two layers fewer per pool.

pub mod constraints;

#[cfg(test)]
mod tests;
