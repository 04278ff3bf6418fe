//! A proof of a model with a stencil (convolution) layer: the envelope carries the layer's shape
//! and output order, which strangers can edit. Every single-byte change of the envelope (both
//! `^0x01` and `^0xff`) and every truncation must be rejected with an error, never accepted and
//! never a panic.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use glassbox_air::{
    conv::natural_index, ConvDims, ConvShape, Digit, LayerDescriptor, ModelDescriptor,
    ProofEnvelope, SecurityLevel,
};
use glassbox_trace::Program;
use glassbox_verifier::verify;

/// A 3×3 padding-1 convolution `1×4×8 → 2×4×8` with pool-ordered outputs, then 64 → 3.
fn program() -> Program {
    let order = vec![
        Digit { bits: 1, coef: 1 },
        Digit { bits: 1, coef: 8 },
        Digit { bits: 2, coef: 2 },
        Digit { bits: 1, coef: 16 },
        Digit { bits: 1, coef: 32 },
    ];
    let (n_in, n_out) = (32, 64);
    let mut rng = common::Lcg(9);
    let mut next = move || rng.next_value() as i64;
    let mut conv = vec![0i8; n_out * n_in];
    for b in 0..n_out {
        let i = natural_index(&order, b) as usize;
        let (y, x) = ((i / 8) % 4, i % 8);
        for j in 0..n_in {
            let (qy, qx) = (j / 8, j % 8);
            if qy.abs_diff(y) <= 1 && qx.abs_diff(x) <= 1 {
                conv[b * n_in + j] = (next() % 101 - 50) as i8;
            }
        }
    }
    let dense: Vec<i8> = (0..3 * n_out).map(|_| (next() % 101 - 50) as i8).collect();
    let shape = ConvShape {
        dims: ConvDims {
            channels: 1,
            height: 4,
            width: 8,
            copies: 1,
            out_channels: 2,
            out_height: 4,
            out_width: 8,
            kernel_h: 3,
            kernel_w: 3,
            pad_top: 1,
            pad_left: 1,
        },
        out_order: order,
    };
    let descriptor = ModelDescriptor {
        trace_len: 256,
        layers: vec![
            LayerDescriptor {
                n_in,
                n_out,
                multiplier: Some(500),
                bias: (0..n_out).map(|_| next() % 2000 - 1000).collect(),
                groups: 1,
                conv: Some(shape),
                patch: None,
                table: None,
            },
            LayerDescriptor {
                n_in: n_out,
                n_out: 3,
                multiplier: None,
                bias: vec![1, 2, 3],
                groups: 1,
                conv: None,
                patch: None,
                table: None,
            },
        ],
        input_scale: 1.0 / 127.0,
        output_scale: 1e-4,
        input_encoding: glassbox_air::InputEncoding::Symmetric,
    };
    Program::with_descriptor(descriptor, vec![conv, dense]).unwrap()
}

#[test]
fn every_envelope_edit_of_a_stencil_proof_is_rejected() {
    let p = program();
    let xs: Vec<Vec<i64>> = (0..2)
        .map(|k| (0..32).map(|i| (i * 7 + k * 13) % 255 - 127).collect())
        .collect();
    let env = glassbox_prover::prove(&p, &xs, SecurityLevel::Bits100).unwrap();
    let bytes = env.to_bytes();
    let digest = p.digest();
    assert!(verify(&bytes, &digest, 100).is_ok());
    let decoded = ProofEnvelope::from_bytes(&bytes).unwrap();
    assert!(decoded.public.descriptor.layers[0].conv.is_some());
    // the envelope: everything but winterfell's bytes (the header, then the weight opening)
    let opening_start = bytes.len() - decoded.weight_opening.encoded_len();
    let header_end = opening_start - decoded.proof.len();
    let mut bad = Vec::new();
    std::panic::set_hook(Box::new(|_| {}));
    for i in (0..header_end).chain(opening_start..bytes.len()) {
        for xor in [0x01u8, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= xor;
            match catch_unwind(AssertUnwindSafe(|| verify(&b, &digest, 100))) {
                Ok(Err(_)) => {}
                other => bad.push((i, xor, other.map(|r| r.is_ok()).ok())),
            }
        }
        let cut = &bytes[..i];
        if !matches!(
            catch_unwind(AssertUnwindSafe(|| verify(cut, &digest, 100))),
            Ok(Err(_))
        ) {
            bad.push((i, 0, None));
        }
    }
    let _ = std::panic::take_hook();
    assert!(
        bad.is_empty(),
        "envelope edits not rejected (byte, xor or 0 for a cut, accepted?): {bad:?}"
    );
}
