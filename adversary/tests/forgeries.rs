//! Every forgery of the malicious prover, handed to the unmodified glassbox verifier.
//!
//! The model is the embedded demo model (the digits MLP 64→128→64→10 of `glassbox demo`, whose
//! digest `shared/attacks/` targets) on 8 digits; the two-layer FRI forgery also runs on the
//! 64→512→512→10 MLP, whose 4096-row trace folds twice before the remainder.

use std::sync::OnceLock;

use glassbox_adversary::{forge, Forgery};
use glassbox_air::{Felt, InferenceAir, ProofEnvelope, SecurityLevel};
use glassbox_trace::{Program, Trace};
use glassbox_verifier::{verify, StarkRejection, VerifyError};
use winter_verifier::crypto::{hashers::Blake3_256, DefaultRandomCoin, MerkleTree};
use winter_verifier::{AcceptableOptions, Proof};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn compile(onnx: &str) -> (glassbox_model::QuantizedModel, Program) {
    let read = |p: &str| std::fs::read(format!("{ROOT}/{p}")).expect("fixture");
    let calib = String::from_utf8(read("fixtures/digits_calib.json")).expect("utf-8");
    let calib = glassbox_model::parse_input_json(&calib, Some(64)).expect("calibration");
    let (model, _) = glassbox_model::compile_onnx(&read(onnx), Some(&calib)).expect("model");
    let program = Program::compile(&model).expect("compiles");
    (model, program)
}

/// The demo model's trace of 8 digits (pixel 0 of every digit is blank).
fn demo_trace() -> &'static Trace {
    static TRACE: OnceLock<Trace> = OnceLock::new();
    TRACE.get_or_init(|| {
        let (model, program) = compile("fixtures/mlp_64_128_64_10.onnx");
        let text = std::fs::read_to_string(format!("{ROOT}/crates/cli/assets/digits_16.json"))
            .expect("digits");
        let samples = glassbox_model::parse_input_json(&text, Some(64)).expect("inputs");
        let inputs: Vec<Vec<i64>> = samples[..8]
            .iter()
            .map(|s| model.quantize_input(s).expect("64 features"))
            .collect();
        assert!(inputs.iter().all(|x| x[0] == 0), "pixel 0 is blank");
        program.trace(&inputs).expect("traces")
    })
}

fn verdict(envelope: &ProofEnvelope, trace: &Trace) -> Result<(), VerifyError> {
    verify(&envelope.to_bytes(), &trace.public.digest(), 100).map(|_| ())
}

/// winterfell 0.13.1's own verifier, without glassbox's checks: what the proof would pass if
/// glassbox trusted it alone.
fn stock_winterfell(envelope: &ProofEnvelope) -> Result<(), String> {
    let proof = Proof::from_bytes(&envelope.proof).map_err(|e| e.to_string())?;
    winter_verifier::verify::<
        InferenceAir,
        Blake3_256<Felt>,
        DefaultRandomCoin<Blake3_256<Felt>>,
        MerkleTree<Blake3_256<Felt>>,
    >(
        proof,
        envelope.public.clone(),
        &AcceptableOptions::OptionSet(vec![envelope.security.options()]),
    )
    .map_err(|e| e.to_string())
}

fn rejected(step: StarkRejection) -> Result<(), VerifyError> {
    Err(VerifyError::Rejected(step))
}

#[test]
fn the_honest_path_of_the_harness_verifies_at_both_presets() {
    let trace = demo_trace();
    for level in SecurityLevel::ALL {
        let envelope = forge(trace, level, Forgery::Honest);
        assert_eq!(verdict(&envelope, trace), Ok(()), "{level:?}");
    }
}

#[test]
fn a_remainder_fitted_after_the_queries_passes_winterfell_and_fails_glassbox() {
    let trace = demo_trace();
    for level in SecurityLevel::ALL {
        let envelope = forge(trace, level, Forgery::RemainderFitted);
        assert_ne!(
            envelope.public.outputs, trace.public.outputs,
            "a false claim"
        );
        // the attack of shared/attacks/: winterfell alone accepts the false statement
        assert_eq!(stock_winterfell(&envelope), Ok(()), "{level:?}");
        // glassbox binds the remainder to its commitment (remainder.rs); removing that check
        // makes this assertion fail
        assert_eq!(
            verdict(&envelope, trace),
            Err(VerifyError::RemainderMismatch),
            "{level:?}"
        );
    }
}

/// The check that must reject each forgery (see `glassbox_verifier::checks`).
fn expected(forgery: Forgery) -> Result<(), VerifyError> {
    use StarkRejection::*;
    match forgery {
        Forgery::Honest => Ok(()),
        Forgery::FalseOutput | Forgery::FalseInput => rejected(OodConstraints),
        Forgery::OodFitted | Forgery::LayerNotFolded => rejected(RemainderFolding),
        Forgery::RemainderFitted => Err(VerifyError::RemainderMismatch),
        Forgery::WeakNonce => rejected(ProofOfWork),
        Forgery::ShiftedQueries => rejected(TraceOpening),
        Forgery::ShiftedQuotientQueries => rejected(QuotientOpening),
        Forgery::ShiftedFriQueries => rejected(FriOpening),
        Forgery::DeepFromOtherOod => rejected(FriLayer { depth: 0 }),
        Forgery::RemainderTooLong => rejected(RemainderDegree),
        Forgery::WeightOpeningOtherRows
        | Forgery::WeightOpeningOtherTree
        | Forgery::TraceWeightsEdited => Err(VerifyError::WeightMismatch),
    }
}

#[test]
fn each_forgery_is_rejected_by_the_check_for_its_step() {
    let trace = demo_trace();
    for forgery in Forgery::ALL {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert_eq!(verdict(&envelope, trace), expected(forgery), "{forgery:?}");
    }
}

#[test]
fn fri_layers_that_do_not_fold_are_rejected_at_the_layer_they_break() {
    // two FRI layers (4096 rows): layer 1 is not the fold of layer 0
    let (_, wide) = compile("fixtures/mlp_64_512_512_10.onnx");
    let trace = wide.trace(&[vec![3; 64]]).expect("traces");
    assert_eq!(trace.layout.trace_len, 4096);
    let envelope = forge(&trace, SecurityLevel::Bits100, Forgery::LayerNotFolded);
    assert_eq!(
        verdict(&envelope, &trace),
        rejected(StarkRejection::FriLayer { depth: 1 })
    );
}

#[test]
fn forgeries_only_glassbox_catches_pass_winterfell_alone() {
    // each is caught by a check glassbox adds to winterfell's: the remainder binding or the
    // weight opening; the AIR and winterfell's own steps accept them
    let trace = demo_trace();
    for forgery in [
        Forgery::WeightOpeningOtherRows,
        Forgery::WeightOpeningOtherTree,
        Forgery::TraceWeightsEdited,
    ] {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert_eq!(stock_winterfell(&envelope), Ok(()), "{forgery:?}");
    }
}
