//! Shared helpers for the prover's integration tests.
#![allow(dead_code)]

#[allow(unused_imports)] // each test binary uses a different part
pub use glassbox_testkit::{inputs, lcg, model};

/// `row`, or the first live row of its block if `row` is one of the region's dead rows (whose
/// lanes lie beyond the batch capacity and enter no check).
pub fn live_row(region: &glassbox_air::RegionLayout, row: usize) -> usize {
    let p = row % region.block_len;
    row - p + p.max(region.dead_rows)
}
