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
