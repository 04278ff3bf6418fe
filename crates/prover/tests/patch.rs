//! Patch layers (a convolution's kernel stored once, checked as a cyclic correlation over
//! power-of-two planes, or as a linear correlation whose reads beyond a plane are zero): an honest
//! proof verifies with the outputs the integer executor computes, and every way to lie about a
//! patch layer is rejected, including a prover that reads its inputs one position off while
//! committing the honest kernel, and one that wraps a linear layer's reads around the plane.

mod common;

use glassbox_air::conv::{natural_order, PatchShape};
use glassbox_air::SecurityLevel;
use glassbox_air::{felt_from_i64, felt_to_i64, Digit, LayerDescriptor, ModelDescriptor};
use glassbox_prover::{prove, prove_trace, prove_trace_tampered, AuxTamper};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

/// Box side (the plane is `B × B`), image height and width inside it, kernel side.
const B: usize = 8;
const H: usize = 5;
const W: usize = 6;
const K: usize = 3;
const P: usize = B * B;

/// Kernel rows `[O][c_in·P]` of a 3×3, padding-1 convolution with weights `w[o][c][dy][dx]`:
/// tap `(dy, dx)` is offset `(dy − 1)·B + (dx − 1)` modulo `P`.
fn kernel_rows(o_n: usize, c_in: usize, seed: &mut u64) -> Vec<i8> {
    let mut rows = vec![0i8; o_n * c_in * P];
    for o in 0..o_n {
        for c in 0..c_in {
            for t in 0..K * K {
                let (dy, dx) = ((t / K) as i64 - 1, (t % K) as i64 - 1);
                let s = (dy * B as i64 + dx).rem_euclid(P as i64) as usize;
                rows[o * c_in * P + c * P + s] = (common::lcg(seed) % 121 - 60) as i8;
            }
        }
    }
    rows
}

fn patch(
    planes: usize,
    o_n: usize,
    multiplier: u32,
    order: Vec<Digit>,
    linear: bool,
    s: &mut u64,
) -> LayerDescriptor {
    LayerDescriptor {
        n_in: planes * P,
        n_out: o_n * P,
        multiplier: Some(multiplier),
        bias: (0..o_n * P).map(|_| common::lcg(s) % 4000 - 2000).collect(),
        groups: 1,
        conv: None,
        patch: Some(PatchShape {
            planes,
            plane: P,
            out_channels: o_n,
            out_order: order,
            pooled: false,
            linear,
        }),
        table: None,
    }
}

/// Pool-style order of `o_n` output planes: 2×2 windows consecutive.
fn pooled(o_n: usize) -> Vec<Digit> {
    common::window_order(B, o_n)
}

/// Two patch layers (2 → 4 planes, pooled order; 4 → 3 planes) and a dense layer to 10 outputs,
/// with the kernel `shift`ed by that many positions in the first layer.
fn model(shift: usize, linear: bool) -> Program {
    let mut s = 11u64;
    let mut first = kernel_rows(4, 2, &mut s);
    for row in first.chunks_mut(P) {
        row.rotate_right(shift);
    }
    let second = kernel_rows(3, 4, &mut s);
    let dense: Vec<i8> = (0..10 * 3 * P)
        .map(|_| (common::lcg(&mut s) % 200 - 100) as i8)
        .collect();
    let last = common::output_layer(3 * P, (0..10).map(|_| common::lcg(&mut s) % 100).collect());
    let descriptor = ModelDescriptor {
        trace_len: 1024,
        layers: vec![
            patch(2, 4, 700, pooled(4), linear, &mut s),
            patch(4, 3, 900, natural_order(256), linear, &mut s),
            last,
        ],
        input_scale: 1.0 / 127.0,
        output_scale: 1e-4,
        input_encoding: glassbox_air::InputEncoding::Symmetric,
    };
    Program::with_descriptor(descriptor, vec![first, second, dense]).unwrap()
}

/// `n` inputs: two `H × W` images in the top-left of their `B × B` boxes, zeros elsewhere.
fn inputs(n: usize) -> Vec<Vec<i64>> {
    let raw = common::inputs(n, 2 * P, 4);
    raw.into_iter()
        .map(|x| {
            x.iter()
                .enumerate()
                .map(|(j, &v)| {
                    let (y, c) = ((j % P) / B, j % B);
                    if y < H && c < W {
                        v
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_patch_layer_proves_what_the_integer_executor_computes() {
    for linear in [false, true] {
        let p = model(0, linear);
        let layout = p.layout(3).unwrap();
        assert_eq!(
            layout.layers[0].k,
            4usize.div_ceil(layout.layers[0].block_len)
        );
        // a linear layer keeps two more plane sums
        let back = layout.aux.patch_back.iter().flatten().count();
        assert_eq!(back, if linear { 2 } else { 0 });
        let xs = inputs(3);
        let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
        let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
        assert_eq!(claim.outputs, p.execute(&xs, 3).unwrap().outputs);
        // a shifted kernel is another model: its digest differs, its outputs too
        let shifted = model(1, linear);
        assert_ne!(shifted.digest(), p.digest());
        assert_ne!(shifted.execute(&xs, 3).unwrap().outputs, claim.outputs);
    }
}

/// The honest trace of `claimed` with every region cell (the inputs, and the activations after
/// each layer) taken from `computed`'s trace of the same inputs, and `computed`'s outputs: a
/// prover that runs another operator on the claimed model's committed weights.
fn run_as(claimed: &Program, computed: &Program, xs: &[Vec<i64>]) -> Trace {
    let honest = claimed.trace(xs).unwrap();
    let other = computed.trace(xs).unwrap();
    let mut forged = honest.clone();
    for c in honest.layout.regions[0].start..honest.layout.main_width {
        forged.columns[c] = other.columns[c].clone();
    }
    forged.public.outputs = other.public.outputs.clone();
    forged.recount_lookups();
    forged
}

#[test]
fn a_linear_layer_proven_with_wrapped_reads_is_rejected() {
    // full planes, so that the reads around the plane's ends see nonzero values
    let xs = common::inputs(2, 2 * P, 12);
    let (linear, cyclic) = (model(0, true), model(0, false));
    assert_ne!(linear.digest(), cyclic.digest());
    let (l_out, c_out) = (
        linear.execute(&xs, 2).unwrap().outputs,
        cyclic.execute(&xs, 2).unwrap().outputs,
    );
    assert_ne!(l_out, c_out, "the wrapped reads change the outputs");
    // the harness: a linear program run as itself verifies
    assert!(!rejected(run_as(&linear, &linear, &xs), &linear.digest()));
    // reads that wrap around the plane, claimed as the linear layer, and the other way round
    assert!(rejected(run_as(&linear, &cyclic, &xs), &linear.digest()));
    assert!(rejected(run_as(&cyclic, &linear, &xs), &cyclic.digest()));
}

/// One patch layer (one input plane, a kernel with a weight at every offset) and a dense layer:
/// no column repeats, so winterfell's exact-degree check applies (a position power over several
/// planes, or a kernel that is zero but at its taps, has a lower degree than the bound the AIR
/// declares, which that check flags though the trace is valid).
fn dense_kernel_model(linear: bool) -> Program {
    let mut s = 23u64;
    let kernel: Vec<i8> = (0..4 * P)
        .map(|_| (common::lcg(&mut s) % 121 - 60) as i8)
        .collect();
    let dense: Vec<i8> = (0..10 * 4 * P)
        .map(|_| (common::lcg(&mut s) % 200 - 100) as i8)
        .collect();
    let descriptor = ModelDescriptor {
        trace_len: 1024,
        layers: vec![
            patch(1, 4, 600, pooled(4), linear, &mut s),
            common::output_layer(4 * P, (0..10).map(|_| common::lcg(&mut s) % 100).collect()),
        ],
        input_scale: 1.0 / 127.0,
        output_scale: 1e-4,
        input_encoding: glassbox_air::InputEncoding::Symmetric,
    };
    Program::with_descriptor(descriptor, vec![kernel, dense]).unwrap()
}

/// Also run under `cargo test --profile validate` (`make validate`): winterfell checks the trace
/// row by row and every constraint's declared degree.
#[test]
fn a_patch_layer_passes_winterfells_debug_checks() {
    for linear in [false, true] {
        let p = dense_kernel_model(linear);
        let lanes = p.layout(1).unwrap().regions[0].block_len;
        let xs = common::inputs(lanes, P, 6);
        let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
        let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
        assert_eq!(claim.outputs, p.execute(&xs, lanes).unwrap().outputs);
    }
}

fn rejected(t: Trace, digest: &glassbox_air::ModelDigest) -> bool {
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), digest, 100).is_err()
}

#[test]
fn a_prover_that_reads_its_patches_one_position_off_is_rejected() {
    for linear in [false, true] {
        reads_one_position_off(linear);
    }
}

fn reads_one_position_off(linear: bool) {
    let honest_program = model(0, linear);
    let digest = honest_program.digest();
    let xs = inputs(2);
    let honest = honest_program.trace(&xs).unwrap();
    // the forger runs the shifted kernel but commits to (and shows the columns of) the honest one
    let mut forged = model(1, linear).trace(&xs).unwrap();
    assert_ne!(forged.public.outputs, honest.public.outputs);
    let weights = honest.layout.weight_range().start..honest.layout.regions[0].start;
    for c in weights {
        forged.columns[c] = honest.columns[c].clone();
    }
    let outputs = forged.public.outputs.clone();
    forged.public = honest.public.clone();
    forged.public.outputs = outputs;
    forged.commitment = honest.commitment.clone();
    forged.recount_lookups();
    assert!(rejected(forged, &digest));
}

#[test]
fn lies_about_a_patch_layer_are_rejected() {
    for linear in [false, true] {
        lies_about_a_patch_layer(linear);
    }
}

fn lies_about_a_patch_layer(linear: bool) {
    let p = model(0, linear);
    let digest = p.digest();
    let honest = p.trace(&inputs(2)).unwrap();
    let n = honest.layout.trace_len;
    for l in 0..2 {
        let lay = honest.layout.layers[l].clone();
        // a kernel cell changed in the product, committed as it was: the first nonzero one, and
        // the last nonzero one (the last block of the last plane holds offset P − 1, a tap)
        let cells: Vec<(usize, usize)> = (lay.w_start..lay.w_start + lay.k)
            .flat_map(|c| (0..n).map(move |r| (c, r)))
            .filter(|&(c, r)| felt_to_i64(honest.columns[c][r]) != 0)
            .collect();
        let last = *cells.iter().max_by_key(|&&(_, r)| r).unwrap();
        assert!(
            last.1 >= n - lay.block_len,
            "a tap in the trace's last block"
        );
        for (col, row) in [cells[0], last] {
            let mut t = honest.clone();
            let v = felt_to_i64(t.columns[col][row]);
            t.columns[col][row] = felt_from_i64(if v < 100 { v + 1 } else { v - 1 });
            t.recount_lookups();
            assert!(
                rejected(t.clone(), &digest),
                "layer {l}: weight ({col}, {row})"
            );
            // recommitted, it is another model, which the digest does not match
            t.recommit();
            assert!(rejected(t, &digest), "layer {l}: recommitted weight");
        }
        // the plane sums and the position power: at row 0, at a plane's start, on the last row
        let [d, e1, e2] = honest.layout.aux.patch[l].unwrap();
        let g = honest.layout.aux.g[l].unwrap();
        let span = lay.plane_span().unwrap();
        let mut cells = vec![
            (d, 0),
            (e1, 0),
            (d, span),
            (e2, span + lay.block_len),
            (e1, n - 1),
            (g, span),
        ];
        // a linear layer's back-reading sums: at row 0, in a plane's upper half, on the last row
        if let Some([dm, em]) = honest.layout.aux.patch_back[l] {
            cells.extend([(dm, 0), (em, 0), (dm, span + span / 2), (em, n - 1)]);
        }
        for (column, row) in cells {
            let tamper = AuxTamper {
                column,
                row,
                zero: false,
            };
            let env =
                prove_trace_tampered(honest.clone(), SecurityLevel::Bits100, Some(tamper)).unwrap();
            assert!(
                verify(&env.to_bytes(), &digest, 100).is_err(),
                "layer {l}: aux column {column}, row {row}"
            );
        }
    }
    // an output off by one
    let mut t = honest.clone();
    t.public.outputs[1][3] += 1;
    assert!(rejected(t, &digest));
    // an activation of the first patch layer changed (its output and the next layer's input)
    let region = &honest.layout.regions[1];
    let mut t = honest.clone();
    let cell = region.activation(0).x;
    let row = common::live_row(region, 5 * region.block_len + 1);
    let v = felt_to_i64(t.columns[cell][row]);
    t.columns[cell][row] = felt_from_i64(if v < 200 { v + 1 } else { v - 1 });
    t.recount_lookups();
    assert!(rejected(t, &digest));
}
