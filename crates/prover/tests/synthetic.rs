//! End-to-end proofs of small synthetic models. This file also runs under
//! `cargo test --profile validate`, where winterfell checks the trace row by row and every
//! constraint's degree before proving.

mod common;

use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_trace::Program;

#[test]
fn synthetic_mlp_proves_and_verifies() {
    // Every lane real and activations spread widely, so no trace column is constant (winterfell's
    // debug degree check wants exact degrees).
    let mut m = common::model(&[16, 32, 8, 4], 7);
    m.layers[0].multiplier = Some(3000);
    m.layers[1].multiplier = Some(3000);
    let program = Program::compile(&m).unwrap();
    let lanes = full_batch(&program);
    let xs = common::inputs(lanes, 16, 9);
    let env = glassbox_prover::prove(&program, &xs, SecurityLevel::Bits100).unwrap();
    let bytes = env.to_bytes();
    let claim = glassbox_verifier::verify(&bytes, &program.digest(), 100).unwrap();
    assert_eq!(claim.inputs, xs);
    let expected = program.execute(&xs, lanes).unwrap().outputs;
    assert_eq!(claim.outputs, expected);
    let wrong = ModelDigest([7; 32]);
    assert!(glassbox_verifier::verify(&bytes, &wrong, 100).is_err());
}

/// The batch that fills every region's blocks (no dead rows).
fn full_batch(program: &Program) -> usize {
    let layout = program.layout(1).unwrap();
    let lanes = layout.regions.iter().map(|r| r.block_len).max().unwrap();
    assert!(program
        .layout(lanes)
        .unwrap()
        .regions
        .iter()
        .all(|r| r.dead_rows == 0));
    lanes
}

#[test]
fn one_sample_proves_with_dead_rows_in_every_region() {
    let mut m = common::model(&[16, 32, 8, 4], 7);
    m.layers[0].multiplier = Some(3000);
    m.layers[1].multiplier = Some(3000);
    let program = Program::compile(&m).unwrap();
    let layout = program.layout(1).unwrap();
    assert_eq!(layout.batch_capacity, 1);
    assert!(layout
        .regions
        .iter()
        .all(|r| r.dead_rows == r.block_len - 1));
    let xs = common::inputs(1, 16, 4);
    let env = glassbox_prover::prove(&program, &xs, SecurityLevel::Bits100).unwrap();
    let claim = glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    assert_eq!(claim.outputs, program.execute(&xs, 1).unwrap().outputs);
}

#[test]
fn the_128_bit_preset_proves_and_verifies() {
    let mut m = common::model(&[8, 16, 4], 3);
    m.layers[0].multiplier = Some(5000);
    let program = Program::compile(&m).unwrap();
    let lanes = full_batch(&program);
    let xs = common::inputs(lanes, 8, 1);
    let env = glassbox_prover::prove(&program, &xs, SecurityLevel::Bits128).unwrap();
    let claim = glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 128).unwrap();
    assert_eq!(claim.security_bits, 128);
}
