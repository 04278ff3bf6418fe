//! Preprocessing pipelines and SVMs (scripts/make_pipeline_fixtures.py): the proven (integer)
//! label against onnxruntime's label on the whole test split, the float import against
//! onnxruntime exactly, and the folded preprocessing in the committed encoding.

mod support;

use glassbox_model::{compile_onnx, InputEncoding};
use support::{fixture, label_agreement, labels, samples};

/// (fixture, data split, least label agreement with onnxruntime on the test split)
const PIPELINES: [(&str, &str, f64); 12] = [
    ("pipe_scaler_mlp_logistic_bc", "tree_breast_cancer", 0.98),
    ("pipe_scaler_svc_rbf_wine", "forest_wine", 0.97),
    ("pipe_scaler_mlp_wine", "forest_wine", 0.98),
    ("pipe_scaler_pca_mlp_tanh_wine", "forest_wine", 0.98),
    ("pipe_minmax_pca_svc_rbf_bc", "tree_breast_cancer", 0.97),
    ("pipe_scaler_pca_svc_poly_bc", "tree_breast_cancer", 0.97),
    ("pipe_scaler_svc_sigmoid_bc", "tree_breast_cancer", 0.97),
    ("pipe_scaler_logreg_bc", "tree_breast_cancer", 0.98),
    ("pipe_scaler_pca_logreg_bc", "tree_breast_cancer", 0.98),
    ("pipe_scaler_svc_linear_bc", "tree_breast_cancer", 0.98),
    ("pipe_scaler_svc_linear_wine", "forest_wine", 0.98),
    ("svm_linearsvc_wine", "forest_wine", 0.98),
];

#[test]
fn pipelines_agree_with_onnxruntime_on_their_test_splits() {
    for (name, data, least) in PIPELINES {
        let onnx = fixture(&format!("{name}.onnx"));
        let calib = samples(&format!("{data}.calib.json"), None);
        let (q, report) = compile_onnx(&onnx, Some(&calib)).unwrap();
        assert!(q.classifier, "{name}");
        assert!(
            matches!(q.input_encoding, InputEncoding::Affine { .. }),
            "{name}: raw features are encoded"
        );
        let test = samples(&format!("{data}.test.json"), None);
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        let rate = agree as f64 / test.len() as f64;
        let report = report.unwrap();
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime; {} layers ({} weights); calibration agreement {}",
            test.len(),
            q.layers.len(),
            q.layers.iter().map(|l| l.weights.len()).sum::<usize>(),
            report.argmax_agreement
        );
        for a in &report.activations {
            println!(
                "  {} x{} on [{:.2}, {:.2}]: fit error max {:.4}",
                a.function, a.segments, a.range.0, a.range.1, a.error.max
            );
        }
        assert!(rate >= least, "{name}: {agree}/{}", test.len());
    }
}

/// An RBF `SVMRegressor` behind a scaler: the proven score against onnxruntime's on the whole
/// diabetes test split.
#[test]
fn an_rbf_regressor_follows_onnxruntime() {
    let onnx = fixture("pipe_scaler_svr_rbf_diabetes.onnx");
    let calib = samples("tree_diabetes_regressor.calib.json", None);
    let (q, _) = compile_onnx(&onnx, Some(&calib)).unwrap();
    assert!(!q.classifier);
    let test = samples("tree_diabetes_regressor.test.json", None);
    let expected: Vec<f64> =
        support::onnxruntime_outputs("pipe_scaler_svr_rbf_diabetes.expected.json")
            .1
            .iter()
            .map(|o| o[0])
            .collect();
    let execs = q.run_f32(&test).unwrap();
    let got: Vec<f64> = execs.iter().map(|e| q.dequantize_outputs(e)[0]).collect();
    let mean = expected.iter().sum::<f64>() / expected.len() as f64;
    let spread = expected.iter().map(|y| (y - mean).abs()).sum::<f64>() / expected.len() as f64;
    let error = got
        .iter()
        .zip(&expected)
        .map(|(g, y)| (g - y).abs())
        .sum::<f64>()
        / got.len() as f64;
    println!("SVR: mean |error| {error:.3} against a mean deviation of {spread:.3}");
    assert!(error < 0.12 * spread, "{error} vs {spread}");
}
