//! Shared helpers for the prover's integration tests.
#![allow(dead_code)]

use glassbox_model::{QuantizedDense, QuantizedModel};

/// A deterministic pseudo-random generator (no dependency needed for test data).
pub fn lcg(seed: &mut u64) -> i64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as i64
}

/// A random dense model with ReLU hidden layers.
pub fn model(shape: &[usize], seed: u64) -> QuantizedModel {
    let mut s = seed;
    let layers = shape
        .windows(2)
        .enumerate()
        .map(|(l, w)| QuantizedDense {
            n_in: w[0],
            n_out: w[1],
            weights: (0..w[0] * w[1])
                .map(|_| (lcg(&mut s) % 256 - 128) as i8)
                .collect(),
            bias: (0..w[1]).map(|_| lcg(&mut s) % 2000 - 1000).collect(),
            multiplier: (l + 2 < shape.len()).then_some(300),
            groups: 1,
            conv: None,
        })
        .collect();
    QuantizedModel {
        name: "synthetic".into(),
        input_len: shape[0],
        input_scale: 1.0 / 127.0,
        input_encoding: glassbox_model::InputEncoding::Symmetric,
        layers,
        output_scale: 1e-4,
        classifier: true,
        proof_batch: None,
    }
}

/// Random int8 samples.
pub fn inputs(n: usize, len: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut s = seed;
    (0..n)
        .map(|_| (0..len).map(|_| lcg(&mut s) % 256 - 128).collect())
        .collect()
}

/// `row`, or the first live row of its block if `row` is one of the region's dead rows (whose
/// lanes lie beyond the batch capacity and enter no check).
pub fn live_row(region: &glassbox_air::RegionLayout, row: usize) -> usize {
    let p = row % region.block_len;
    row - p + p.max(region.dead_rows)
}
