//! The pool unit (a 2×2 max pool without a layer of its own): a pooled patch layer proves what
//! the integer executor computes, and a forging prover that claims another value for a window's
//! maximum, keeping every product check consistent with it (the layer after the pool is the
//! public output layer, recomputed from the forged maxima), is rejected, as is one that reorders
//! a window's activations.

mod common;

use glassbox_air::conv::{PatchShape, POOL_WINDOW};
use glassbox_air::{felt_from_i64, felt_to_i64, LayerDescriptor, ModelDescriptor};
use glassbox_air::{SecurityLevel, ACT_CELLS};
use glassbox_prover::{prove, prove_trace};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

/// Box side (plane `B × B`), input planes, output planes, outputs of the dense layer.
const B: usize = 8;
const P: usize = B * B;
const PLANES: usize = 1;
const O: usize = 4;
const OUT: usize = 10;
/// Windows the pooled layer hands on (`O·P / 4`).
const WINDOWS: usize = O * P / POOL_WINDOW;

/// A pooled patch layer (one input plane and a weight at every offset, so that no column
/// repeats and winterfell's exact-degree check applies under `make validate`) and a dense output
/// layer reading the window maxima; its weights, row-major `[OUT][WINDOWS]`, and biases are
/// returned too.
fn model() -> (Program, Vec<i8>, Vec<i64>) {
    let mut s = 31u64;
    let kernel: Vec<i8> = (0..O * PLANES * P)
        .map(|_| (common::lcg(&mut s) % 121 - 60) as i8)
        .collect();
    let dense: Vec<i8> = (0..OUT * WINDOWS)
        .map(|_| (common::lcg(&mut s) % 200 - 100) as i8)
        .collect();
    let bias: Vec<i64> = (0..OUT).map(|_| common::lcg(&mut s) % 100).collect();
    let descriptor = ModelDescriptor {
        trace_len: 1024,
        layers: vec![
            LayerDescriptor {
                n_in: PLANES * P,
                n_out: O * P,
                multiplier: Some(500),
                bias: (0..O * P)
                    .map(|_| common::lcg(&mut s) % 4000 - 2000)
                    .collect(),
                groups: 1,
                conv: None,
                patch: Some(PatchShape {
                    planes: PLANES,
                    plane: P,
                    out_channels: O,
                    out_order: common::window_order(B, O),
                    pooled: true,
                    linear: false,
                }),
                table: None,
            },
            common::output_layer(WINDOWS, bias.clone()),
        ],
        input_scale: 1.0 / 127.0,
        output_scale: 1e-4,
        input_encoding: glassbox_air::InputEncoding::Symmetric,
    };
    let program = Program::with_descriptor(descriptor, vec![kernel, dense.clone()]).unwrap();
    (program, dense, bias)
}

/// Full batches (every lane live), as winterfell's exact-degree check wants.
fn lanes(p: &Program) -> usize {
    p.layout(1).unwrap().regions[1].block_len
}

/// Also run under `cargo test --profile validate` (`make validate`).
#[test]
fn a_pooled_layer_passes_winterfells_debug_checks() {
    let (p, _, _) = model();
    let n = lanes(&p);
    let xs = common::inputs(n, PLANES * P, 8);
    let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
    assert_eq!(claim.outputs, p.execute(&xs, n).unwrap().outputs);
}

/// Where lane `b`'s cells of window `j` start: `(row, first column)`.
fn lane_cells(t: &Trace, j: usize, b: usize) -> (usize, usize) {
    let region = &t.layout.regions[1];
    let k = region.lanes() - 1 - b;
    let (p, lane) = (k / region.lanes_per_row, k % region.lanes_per_row);
    (j * region.block_len + p, region.lane_col(lane))
}

/// Lane `b`'s window maxima as the trace holds them.
fn maxima(t: &Trace, b: usize) -> Vec<i64> {
    let region = &t.layout.regions[1];
    (0..WINDOWS)
        .map(|j| {
            let (row, col) = lane_cells(t, j, b);
            felt_to_i64(t.columns[col + region.window() * ACT_CELLS][row])
        })
        .collect()
}

/// The dense output layer on `m`: what the last product check accepts for these maxima.
fn dense_outputs(dense: &[i8], bias: &[i64], m: &[i64]) -> Vec<i64> {
    dense
        .chunks(WINDOWS)
        .zip(bias)
        .map(|(row, b)| {
            b + row
                .iter()
                .zip(m)
                .map(|(&w, &x)| i64::from(w) * x)
                .sum::<i64>()
        })
        .collect()
}

/// The honest trace with lane `b`'s maximum of window `j` replaced by `f(window's activations)`
/// and the public outputs recomputed from the forged maxima, lookups recounted.
fn forged(
    honest: &Trace,
    dense: &[i8],
    bias: &[i64],
    j: usize,
    b: usize,
    f: impl Fn(&[i64]) -> i64,
) -> Trace {
    let mut t = honest.clone();
    let (row, col) = lane_cells(&t, j, b);
    let xs: Vec<i64> = (0..POOL_WINDOW)
        .map(|k| felt_to_i64(t.columns[col + k * ACT_CELLS][row]))
        .collect();
    t.columns[col + POOL_WINDOW * ACT_CELLS][row] = felt_from_i64(f(&xs));
    t.public.outputs[b] = dense_outputs(dense, bias, &maxima(&t, b));
    t.recount_lookups();
    t
}

/// A forger's rule: the claimed maximum of a window's activations.
type Forgery = fn(&[i64]) -> i64;

/// The honest rule.
fn max(xs: &[i64]) -> i64 {
    xs.iter().copied().max().unwrap_or(0)
}

fn rejected(t: Trace, digest: &glassbox_air::ModelDigest) -> bool {
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), digest, 100).is_err()
}

#[test]
fn a_forged_window_maximum_is_rejected() {
    let (p, dense, bias) = model();
    let digest = p.digest();
    let xs = common::inputs(3, PLANES * P, 9);
    let honest = p.trace(&xs).unwrap();
    // the harness recomputes exactly what the last product check accepts: from the honest
    // maxima it gives the honest outputs, and a trace forged with the honest maximum verifies
    for b in 0..3 {
        let m = maxima(&honest, b);
        assert_eq!(dense_outputs(&dense, &bias, &m), honest.public.outputs[b]);
    }
    assert!(!rejected(
        forged(&honest, &dense, &bias, 5, 1, max),
        &digest
    ));
    // windows whose members differ, so that a smaller member is another value
    let spread: Vec<usize> = (0..WINDOWS)
        .filter(|&j| {
            let (row, col) = lane_cells(&honest, j, 0);
            let x = |k: usize| felt_to_i64(honest.columns[col + k * ACT_CELLS][row]);
            (0..POOL_WINDOW).map(x).min() < (0..POOL_WINDOW).map(x).max()
        })
        .collect();
    assert!(spread.len() >= 2, "the test inputs spread some windows");
    let (first, last) = (spread[0], spread[spread.len() - 1]);
    for (j, b) in [(first, 0), (last, 0)] {
        let forgeries: [(&str, Forgery); 4] = [
            // a member, but not the largest: its gap to the maximum is negative
            ("the smallest member", |xs| {
                xs.iter().copied().min().unwrap_or(0)
            }),
            // above every member: the window product is not zero
            ("the maximum plus one", |xs| max(xs) + 1),
            ("the maximum minus one", |xs| max(xs) - 1),
            // an average pool's value
            ("the mean", |xs| xs.iter().sum::<i64>() / 4),
        ];
        for (what, f) in forgeries {
            let t = forged(&honest, &dense, &bias, j, b, f);
            if t.public.outputs == honest.public.outputs {
                continue;
            }
            assert!(rejected(t, &digest), "window {j}, lane {b}: {what}");
        }
    }
}

#[test]
fn a_window_read_in_another_order_is_rejected() {
    let (p, _, _) = model();
    let digest = p.digest();
    let xs = common::inputs(2, PLANES * P, 10);
    let honest = p.trace(&xs).unwrap();
    // the first window whose first two activations differ: swap their cells (the maximum, and
    // so every output, unchanged)
    let (row, col) = (0..WINDOWS)
        .map(|j| lane_cells(&honest, j, 0))
        .find(|&(row, col)| honest.columns[col][row] != honest.columns[col + ACT_CELLS][row])
        .unwrap();
    let mut t = honest.clone();
    for c in 0..ACT_CELLS {
        let (a, b) = (t.columns[col + c][row], t.columns[col + ACT_CELLS + c][row]);
        t.columns[col + c][row] = b;
        t.columns[col + ACT_CELLS + c][row] = a;
    }
    t.recount_lookups();
    assert_eq!(t.public.outputs, honest.public.outputs);
    assert!(rejected(t, &digest));
}
