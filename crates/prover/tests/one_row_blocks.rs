//! One-row blocks: a region whose blocks are single rows (the widest layer of a one-sample
//! proof, which halves its trace). The accumulator adds such a block's term on its own row, so
//! the trace's last block is never added; the descriptor allows this only where that block is a
//! padding input and output. Every real block, the first and the second-to-last rows included,
//! is still checked, and the unchecked last block cannot change what the proof states.

mod common;

use glassbox_air::{felt_from_i64, felt_to_i64, RegionKind, SecurityLevel, ACT_X};
use glassbox_prover::prove_trace;
use glassbox_trace::{Program, Trace};
use glassbox_verifier::verify;

/// A 8 → 200 → 2 network compiled for one sample per proof: its hidden region has 256 blocks
/// of one row in a 256-row trace (200 real activations, 56 padding ones).
fn program() -> Program {
    let mut q = common::model(&[8, 200, 2], 21);
    q.proof_batch = Some(1);
    Program::compile(&q).unwrap()
}

fn accepted(trace: Trace, program: &Program) -> bool {
    let env = prove_trace(trace, SecurityLevel::Bits100).unwrap();
    verify(&env.to_bytes(), &program.digest(), 100).is_ok()
}

#[test]
fn one_row_blocks_prove_and_every_real_block_is_checked() {
    let p = program();
    let honest = p.trace(&common::inputs(1, 8, 3)).unwrap();
    let region = honest.layout.regions[1].clone();
    assert_eq!((region.block_len, region.blocks), (1, 256));
    assert_eq!(honest.layout.trace_len, 256);
    assert!(accepted(honest.clone(), &p));
    let col = region.lane_col(0) + ACT_X;
    // the first row, a middle one, the last real activation (199) and the second-to-last row
    // (a padding activation, whose term is added: it must stay the zero a padding output is)
    for row in [0usize, 100, 199, 254] {
        let mut t = honest.clone();
        let v = felt_to_i64(t.columns[col][row]);
        t.columns[col][row] = felt_from_i64(if v < 200 { v + 1 } else { v - 1 });
        t.recount_lookups();
        assert!(!accepted(t, &p), "row {row}");
    }
    // an output off by one
    let mut t = honest.clone();
    t.public.outputs[0][1] += 1;
    assert!(!accepted(t, &p));
    // the last block is outside the statement: a padding input of the last layer (a zero
    // weight column) and no output of the first; changing it changes nothing the proof states
    let mut t = honest.clone();
    t.columns[col][255] = felt_from_i64(77);
    t.recount_lookups();
    let outputs = t.public.outputs.clone();
    let env = prove_trace(t, SecurityLevel::Bits100).unwrap();
    let claim = verify(&env.to_bytes(), &p.digest(), 100).unwrap();
    assert_eq!(claim.outputs, outputs);
    assert!(matches!(region.kind, RegionKind::Activation { .. }));
}

/// The layout `make validate` checks row by row: every lane real (no dead rows) and activations
/// spread widely, so that no constraint is degenerate (winterfell's debug checks want every
/// declared degree reached).
#[test]
fn a_one_row_layout_passes() {
    let mut q = common::model(&[64, 400, 2], 22);
    q.layers[0].multiplier = Some(3000);
    q.proof_batch = Some(8);
    let p = Program::compile(&q).unwrap();
    let t = p.trace(&common::inputs(8, 64, 4)).unwrap();
    assert_eq!(
        (t.layout.trace_len, t.layout.regions[1].block_len),
        (512, 1)
    );
    assert!(t.layout.regions.iter().all(|r| r.dead_rows == 0));
    assert!(accepted(t, &p));
}
