//! Unusual shapes (a one-wide input, widths that are not powers of two) compile and prove.
//! Not run under `--profile validate`: such tiny models leave trace columns constant, which
//! winterfell's debug degree check rejects although the trace is valid.

mod common;

use glassbox_air::SecurityLevel;
use glassbox_trace::Program;

#[test]
fn narrow_inputs_and_odd_widths_compile_and_prove() {
    for shape in [[1usize, 9, 9, 1], [1, 9, 10, 1], [3, 5, 7, 2]] {
        let program = Program::compile(&common::model(&shape, 5))
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        let xs = common::inputs(2, shape[0], 4);
        let env = glassbox_prover::prove(&program, &xs, SecurityLevel::Bits100).unwrap();
        glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    }
}

#[test]
fn the_largest_batch_one_proof_holds_verifies() {
    // the widest trace a model allows must also be one winterfell's proof reader accepts (this
    // model's widest layout had 255 columns, which winterfell proves but refuses to read)
    let program = Program::compile(&common::model(&[8, 32, 4], 3)).unwrap();
    let max = program.max_batch();
    let layout = program.layout(max).unwrap();
    assert!(layout.main_width + layout.aux.width > 200, "a wide trace");
    let xs = common::inputs(max, 8, 2);
    let env = glassbox_prover::prove(&program, &xs, SecurityLevel::Bits100).unwrap();
    let claim = glassbox_verifier::verify(&env.to_bytes(), &program.digest(), 100).unwrap();
    assert_eq!(
        claim.outputs,
        program.execute(&xs, max).unwrap().outputs[..max]
    );
}

#[test]
fn proof_batch_picks_the_shortest_trace_that_holds_it() {
    let mut model = common::model(&[16, 24, 4], 7);
    let default = Program::compile(&model).unwrap();
    for k in [default.max_batch() + 1, 500] {
        model.proof_batch = Some(k as u32);
        let program = Program::compile(&model).unwrap();
        let n = program.descriptor.trace_len;
        assert!(
            program.max_batch() >= k,
            "{k}: holds {}",
            program.max_batch()
        );
        assert!(n > default.descriptor.trace_len);
        // the next shorter trace would not hold it
        let mut shorter = program.descriptor.clone();
        shorter.trace_len = n / 2;
        assert!(glassbox_air::Layout::new(&shorter, k).is_err(), "{k}");
        assert_ne!(program.digest(), default.digest());
    }
    // a batch no trace holds is a clear error that says what does fit
    model.proof_batch = Some(1 << 20);
    match Program::compile(&model) {
        Err(glassbox_trace::CompileError::ProofBatch { wanted, max }) => {
            assert_eq!(wanted, 1 << 20);
            assert!(max > 500 && max < wanted);
        }
        other => panic!("{other:?}"),
    }
}
