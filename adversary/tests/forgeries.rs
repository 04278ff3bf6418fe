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

#[test]
fn out_of_domain_values_fitted_to_the_constraints_fail_fri() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::OodFitted);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::RemainderFolding)
    );
}

#[test]
fn a_false_output_or_input_proven_honestly_fails_the_out_of_domain_check() {
    let trace = demo_trace();
    for forgery in [Forgery::FalseOutput, Forgery::FalseInput] {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert_eq!(
            verdict(&envelope, trace),
            rejected(StarkRejection::OodConstraints),
            "{forgery:?}"
        );
    }
}

#[test]
fn fri_layers_that_do_not_fold_are_rejected() {
    // one FRI layer (512 rows): the remainder is not the fold of layer 0
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::LayerNotFolded);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::RemainderFolding)
    );
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
fn a_nonce_that_misses_the_proof_of_work_is_rejected() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::WeakNonce);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::ProofOfWork)
    );
}

#[test]
fn openings_at_positions_the_coin_did_not_draw_are_rejected() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::ShiftedQueries);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::TraceOpening)
    );
}

#[test]
fn quotient_and_fri_openings_at_other_positions_are_rejected() {
    let trace = demo_trace();
    for (forgery, step) in [
        (
            Forgery::ShiftedQuotientQueries,
            StarkRejection::QuotientOpening,
        ),
        (Forgery::ShiftedFriQueries, StarkRejection::FriOpening),
    ] {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert_eq!(verdict(&envelope, trace), rejected(step), "{forgery:?}");
    }
}

#[test]
fn out_of_domain_values_that_are_not_the_deep_compositions_are_rejected() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::DeepFromOtherOod);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::FriLayer { depth: 0 })
    );
}

#[test]
fn a_remainder_above_the_degree_bound_is_rejected() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::RemainderTooLong);
    assert_eq!(
        verdict(&envelope, trace),
        rejected(StarkRejection::RemainderDegree)
    );
}

#[test]
fn weight_openings_of_other_rows_or_another_tree_are_rejected() {
    let trace = demo_trace();
    for forgery in [
        Forgery::WeightOpeningOtherRows,
        Forgery::WeightOpeningOtherTree,
    ] {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert_eq!(stock_winterfell(&envelope), Ok(()), "{forgery:?}");
        assert_eq!(
            verdict(&envelope, trace),
            Err(VerifyError::WeightMismatch),
            "{forgery:?}"
        );
    }
}

#[test]
fn trace_weights_other_than_the_committed_ones_are_caught_by_the_opening_alone() {
    let trace = demo_trace();
    let envelope = forge(trace, SecurityLevel::Bits100, Forgery::TraceWeightsEdited);
    // the AIR cannot see the edit: winterfell accepts the proof
    assert_eq!(stock_winterfell(&envelope), Ok(()));
    assert_eq!(verdict(&envelope, trace), Err(VerifyError::WeightMismatch));
}

#[test]
fn every_forgery_is_rejected() {
    let trace = demo_trace();
    for forgery in Forgery::ALL.into_iter().skip(1) {
        let envelope = forge(trace, SecurityLevel::Bits100, forgery);
        assert!(verdict(&envelope, trace).is_err(), "{forgery:?} verified");
    }
}
