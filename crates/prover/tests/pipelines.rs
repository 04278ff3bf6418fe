//! Preprocessing pipelines, SVMs and smooth activations end to end: a batch of up to 64 proves
//! in one proof whose outputs are the reference executor's, and the committed encoding binds:
//! the same proof does not verify for a model whose folded preprocessing differs by one step.

use glassbox_air::{ProofEnvelope, SecurityLevel};
use glassbox_model::{compile_onnx, parse_input_json, InputEncoding, QuantizedModel};
use glassbox_prover::prove;
use glassbox_trace::Program;
use glassbox_verifier::{verify, VerifyError};

fn fixture(name: &str) -> String {
    format!("{}/../../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn samples(file: &str) -> Vec<Vec<f32>> {
    parse_input_json(&std::fs::read_to_string(fixture(file)).unwrap(), None).unwrap()
}

/// The compiled fixture and the encoded inputs of its first `n` test samples.
fn load(name: &str, calib: &str, test: &str, n: usize) -> (QuantizedModel, Vec<Vec<i64>>) {
    let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
    let (q, _) = compile_onnx(&onnx, Some(&samples(calib))).unwrap();
    let xs = samples(test)
        .iter()
        .take(n)
        .map(|x| q.quantize_input(x).unwrap())
        .collect();
    (q, xs)
}

#[test]
fn pipelines_and_smooth_activations_prove_a_batch_in_one_proof() {
    for (name, calib, test) in [
        (
            "pipe_minmax_pca_svc_rbf_bc",
            "tree_breast_cancer.calib.json",
            "tree_breast_cancer.test.json",
        ),
        (
            "pipe_scaler_pca_logreg_bc",
            "tree_breast_cancer.calib.json",
            "tree_breast_cancer.test.json",
        ),
        (
            "pipe_scaler_svc_linear_wine",
            "forest_wine.calib.json",
            "forest_wine.test.json",
        ),
        (
            "pipe_scaler_logreg_bc",
            "tree_breast_cancer.calib.json",
            "tree_breast_cancer.test.json",
        ),
        (
            "pipe_scaler_svc_linear_bc",
            "tree_breast_cancer.calib.json",
            "tree_breast_cancer.test.json",
        ),
        ("mlp_tanh_digits", "digits_calib.json", "digits_test.json"),
        (
            "mlp_logistic_digits",
            "digits_calib.json",
            "digits_test.json",
        ),
        ("act_gelu_digits", "digits_calib.json", "digits_test.json"),
    ] {
        let (q, xs) = load(name, calib, test, 64);
        let program = Program::compile(&q).unwrap();
        let claim = verify(
            &prove(&program, &xs, SecurityLevel::Bits100)
                .unwrap()
                .to_bytes(),
            &program.digest(),
            100,
        )
        .unwrap();
        let reference: Vec<Vec<i64>> = q.run(&xs).unwrap().into_iter().map(|e| e.outputs).collect();
        assert_eq!(claim.outputs, reference, "{name}");
        assert_eq!(claim.inputs, xs, "{name}");
        assert_eq!(claim.input_encoding, q.input_encoding, "{name}");
    }
}

#[test]
fn the_folded_preprocessing_is_bound_by_the_digest() {
    let (q, xs) = load(
        "pipe_scaler_svc_linear_wine",
        "forest_wine.calib.json",
        "forest_wine.test.json",
        4,
    );
    let program = Program::compile(&q).unwrap();
    let proof = prove(&program, &xs, SecurityLevel::Bits100)
        .unwrap()
        .to_bytes();
    // the same weights and codes, one feature's step 1 % wider: another statement
    let mut other = q.clone();
    if let InputEncoding::Affine { step, .. } = &mut other.input_encoding {
        step[3] *= 1.01;
    }
    let other_digest = Program::compile(&other).unwrap().digest();
    assert_ne!(other_digest, program.digest());
    assert!(matches!(
        verify(&proof, &other_digest, 100),
        Err(VerifyError::DigestMismatch { .. })
    ));
    // and a proof made under the other encoding does not verify as the committed model's
    let forged = prove(
        &Program::compile(&other).unwrap(),
        &xs,
        SecurityLevel::Bits100,
    )
    .unwrap()
    .to_bytes();
    assert!(verify(&forged, &program.digest(), 100).is_err());
    assert!(verify(&proof, &program.digest(), 100).is_ok());
    // the honest proof with only its stated encoding edited: the descriptor no longer hashes
    // to the digest it is checked against
    let mut edited = ProofEnvelope::from_bytes(&proof).unwrap();
    edited.public.descriptor.input_encoding = other.input_encoding.clone();
    assert!(matches!(
        verify(&edited.to_bytes(), &program.digest(), 100),
        Err(VerifyError::DigestMismatch { .. })
    ));
}

/// Tree ensembles behind a scaler (raw thresholds) and behind a PCA (a projected encoding): 64
/// samples prove in one proof, and the statement binds the encoding: the honest proof with one
/// raw cut or one projection coefficient edited in its envelope fails the digest check.
#[test]
fn preprocessed_trees_prove_64_samples_and_bind_their_encoding() {
    for (name, data) in [
        ("pipe_scaler_forest_wine", "forest_wine"),
        ("pipe_minmax_gbt_bc", "tree_breast_cancer"),
        ("pipe_scaler_pca_tree_bc", "tree_breast_cancer"),
    ] {
        let calib = samples(&format!("{data}.calib.json"));
        let onnx = std::fs::read(fixture(&format!("{name}.onnx"))).unwrap();
        let (q, _) = compile_onnx(&onnx, Some(&calib)).unwrap();
        // the wine test split has 54 samples: the calibration split fills the batch
        let raw: Vec<Vec<f32>> = samples(&format!("{data}.test.json"))
            .into_iter()
            .chain(calib)
            .take(64)
            .collect();
        let xs: Vec<Vec<i64>> = raw.iter().map(|x| q.quantize_input(x).unwrap()).collect();
        let program = Program::compile(&q).unwrap();
        let proof = prove(&program, &xs, SecurityLevel::Bits100)
            .unwrap()
            .to_bytes();
        let claim = verify(&proof, &program.digest(), 100).unwrap();
        let reference: Vec<Vec<i64>> = q.run(&xs).unwrap().into_iter().map(|e| e.outputs).collect();
        assert_eq!(claim.inputs.len(), 64, "{name}");
        assert_eq!(claim.outputs, reference, "{name}");
        assert_eq!(claim.input_encoding, q.input_encoding, "{name}");
        let mut edited = ProofEnvelope::from_bytes(&proof).unwrap();
        match &mut edited.public.descriptor.input_encoding {
            InputEncoding::Thresholds { cuts } => {
                let c = cuts.iter_mut().find(|c| !c.is_empty()).unwrap();
                c[0] = c[0].next_down();
            }
            InputEncoding::Projected { map, .. } => map.matrix[7] *= 1.0 + 1e-12,
            other => panic!("{name}: unexpected encoding {other:?}"),
        }
        assert!(
            matches!(
                verify(&edited.to_bytes(), &program.digest(), 100),
                Err(VerifyError::DigestMismatch { .. })
            ),
            "{name}: an edited encoding verified"
        );
        println!("{name}: 64 samples, {} proof bytes", proof.len());
    }
}
