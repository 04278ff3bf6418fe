//! Stencil (convolution) layers: the same integer model proven with its convolution stored as a
//! stencil and as a dense Toeplitz matrix gives the same outputs, and every way to lie about a
//! stencil layer is rejected.

mod common;

use glassbox_air::{
    conv::natural_index, ConvDims, ConvShape, Digit, LayerDescriptor, ModelDescriptor,
    SecurityLevel,
};
use glassbox_prover::{prove, prove_trace, prove_trace_tampered, AuxTamper};
use glassbox_trace::Program;
use glassbox_verifier::verify;

const C: usize = 2;
const H: usize = 4;
const W: usize = 8;
const O: usize = 4;
const K: usize = 3;

/// A 3×3, padding-1 convolution `C×H×W → O×H×W` then a dense layer to 10 outputs. `order` is the
/// physical order of the convolution's outputs (the dense layer reads them in that order).
fn model(stencil: bool, order: Vec<Digit>) -> Program {
    build(C, 400, true, stencil, order)
}

/// [`model`] with `channels` input channels, the convolution's requantization multiplier, and
/// its kernel `shared` by every position or (a stencil matrix all the same) drawn per weight.
fn build(
    channels: usize,
    multiplier: u32,
    shared: bool,
    stencil: bool,
    order: Vec<Digit>,
) -> Program {
    let c_in = channels;
    let mut s = 5u64;
    let kernel: Vec<i64> = (0..O * c_in * K * K)
        .map(|_| common::lcg(&mut s) % 121 - 60)
        .collect();
    let (n_in, n_out) = (c_in * H * W, O * H * W);
    let mut conv = vec![0i8; n_out * n_in];
    for b in 0..n_out {
        let i = natural_index(&order, b) as usize;
        let (o, y, x) = (i / (H * W), (i / W) % H, i % W);
        for j in 0..n_in {
            let (c, qy, qx) = (j / (H * W), (j / W) % H, j % W);
            let (dy, dx) = ((qy + 1).wrapping_sub(y), (qx + 1).wrapping_sub(x));
            if dy < K && dx < K {
                conv[b * n_in + j] = if shared {
                    kernel[((o * c_in + c) * K + dy) * K + dx] as i8
                } else {
                    (common::lcg(&mut s) % 121 - 60) as i8
                };
            }
        }
    }
    let dense: Vec<i8> = (0..10 * n_out)
        .map(|_| (common::lcg(&mut s) % 200 - 100) as i8)
        .collect();
    let shape = ConvShape {
        dims: ConvDims {
            channels: c_in,
            height: H,
            width: W,
            copies: 1,
            out_channels: O,
            out_height: H,
            out_width: W,
            kernel_h: K,
            kernel_w: K,
            pad_top: 1,
            pad_left: 1,
        },
        out_order: order,
    };
    let descriptor = ModelDescriptor {
        trace_len: 1024,
        layers: vec![
            LayerDescriptor {
                n_in,
                n_out,
                multiplier: Some(multiplier),
                bias: (0..n_out)
                    .map(|_| common::lcg(&mut s) % 4000 - 2000)
                    .collect(),
                groups: 1,
                conv: stencil.then_some(shape),
                patch: None,
                table: None,
            },
            common::output_layer(n_out, (0..10).map(|_| common::lcg(&mut s) % 100).collect()),
        ],
        input_scale: 1.0 / 127.0,
        output_scale: 1e-4,
        input_encoding: glassbox_air::InputEncoding::Symmetric,
    };
    Program::with_descriptor(descriptor, vec![conv, dense]).unwrap()
}

fn natural() -> Vec<Digit> {
    glassbox_air::conv::natural_order(O * H * W)
}

/// Pool-style order: 2×2 windows consecutive, bits `[dx, dy, px, py, o]` of the physical row.
fn pooled() -> Vec<Digit> {
    vec![
        Digit { bits: 1, coef: 1 },
        Digit {
            bits: 1,
            coef: W as u64,
        },
        Digit { bits: 2, coef: 2 },
        Digit {
            bits: 1,
            coef: 2 * W as u64,
        },
        Digit {
            bits: 2,
            coef: (H * W) as u64,
        },
    ]
}

fn inputs() -> Vec<Vec<i64>> {
    common::inputs(3, C * H * W, 8)
}

#[test]
fn a_stencil_layer_proves_what_its_dense_matrix_computes() {
    for order in [natural(), pooled()] {
        let stencil = model(true, order.clone());
        let dense = model(false, order);
        let layout = stencil.layout(3).unwrap();
        assert_eq!(layout.layers[0].k, K * K, "one weight column per tap");
        let env = prove(&stencil, &inputs(), SecurityLevel::Bits100).unwrap();
        let claim = verify(&env.to_bytes(), &stencil.digest(), 100).unwrap();
        let expected = dense.execute(&inputs(), 3).unwrap().outputs;
        assert_eq!(claim.outputs, expected);
        // the two layouts are different commitments
        assert_ne!(stencil.digest(), dense.digest());
        assert!(verify(&env.to_bytes(), &dense.digest(), 100).is_err());
    }
}

/// Also run under `cargo test --profile validate` (`make validate`): winterfell checks the trace
/// row by row and every constraint's exact degree, which columns with repeating structure fail
/// though the trace is valid (their degree is below the bound the AIR declares): so one input
/// channel (a factor column over several channels repeats), weights drawn per position rather
/// than a shared kernel, a full batch and activations spread over both clamps.
#[test]
fn a_stencil_layer_passes_winterfells_debug_checks() {
    let p = build(1, 3000, false, true, pooled());
    let lanes = p
        .layout(1)
        .unwrap()
        .regions
        .iter()
        .map(|r| r.block_len)
        .max()
        .unwrap();
    let xs = common::inputs(lanes, H * W, 2);
    let env = prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
    assert_eq!(claim.outputs, p.execute(&xs, lanes).unwrap().outputs);
}

#[test]
fn a_weight_off_the_stencil_is_refused() {
    let p = model(false, natural());
    let mut weights = p.weights.clone();
    // output (0, 0, 0) never reads input (0, 3, 7)
    weights[0][3 * W + 7] = 1;
    let mut d = p.descriptor.clone();
    d.layers[0].conv = model(true, natural()).descriptor.layers[0].conv.clone();
    assert!(Program::with_descriptor(d, weights).is_err());
}

#[test]
fn lies_about_a_stencil_layer_are_rejected() {
    for order in [natural(), pooled()] {
        let p = model(true, order);
        let digest = p.digest();
        let honest = p.trace(&inputs()).unwrap();
        let lay = honest.layout.layers[0].clone();
        // a stencil weight changed in the product, committed as it was
        for (t, row) in [(0usize, lay.block_len - 1), (4, 5 * lay.block_len - 2)] {
            let mut t1 = honest.clone();
            let col = lay.w_start + t;
            let v = glassbox_air::felt_to_i64(t1.columns[col][row]);
            t1.columns[col][row] = glassbox_air::felt_from_i64(if v < 100 { v + 1 } else { v - 1 });
            t1.recount_lookups();
            let env = prove_trace(t1.clone(), SecurityLevel::Bits100).unwrap();
            assert!(verify(&env.to_bytes(), &digest, 100).is_err());
            // and recommitted: a different model, which the digest does not match
            t1.recommit();
            let env = prove_trace(t1, SecurityLevel::Bits100).unwrap();
            assert!(verify(&env.to_bytes(), &digest, 100).is_err());
        }
        // a nonzero weight where a tap falls outside the output grid (input (0, 0), tap (2, 2)):
        // no output has its power of ρ, so even as the committed (recommitted) model it is refused
        let mut t3 = honest.clone();
        let (col, row) = (lay.w_start + K * K - 1, lay.block_len - 1);
        assert_eq!(glassbox_air::felt_to_i64(t3.columns[col][row]), 0);
        t3.columns[col][row] = glassbox_air::felt_from_i64(5);
        t3.recount_lookups();
        t3.recommit();
        let claimed = t3.public.digest();
        let env = prove_trace(t3, SecurityLevel::Bits100).unwrap();
        assert!(verify(&env.to_bytes(), &claimed, 100).is_err());
        // an output off by one
        let mut t2 = honest.clone();
        t2.public.outputs[1][3] += 1;
        let env = prove_trace(t2, SecurityLevel::Bits100).unwrap();
        assert!(verify(&env.to_bytes(), &digest, 100).is_err());
        // the per-block factor, and the permuted per-block powers of the next region
        let factor = honest.layout.aux.g[0].unwrap();
        let powers = honest.layout.aux.a[1];
        for (column, row) in [(factor, 0), (factor, 3 * lay.block_len), (powers, 40)] {
            let tamper = AuxTamper {
                column,
                row,
                zero: false,
            };
            let env =
                prove_trace_tampered(honest.clone(), SecurityLevel::Bits100, Some(tamper)).unwrap();
            assert!(verify(&env.to_bytes(), &digest, 100).is_err());
        }
    }
}
