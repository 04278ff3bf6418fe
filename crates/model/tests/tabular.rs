//! Classic-model fixtures through the lowering: the proven (integer) label against onnxruntime's
//! label on every test sample, and the reference executor's structure (bits and leaf indicators).

mod support;

use glassbox_model::tabular::{lower_trees_with, ClassicModel, PathShape, STEP_MULTIPLIER};
use glassbox_model::{compile_onnx, load_onnx, InputEncoding};
use support::{fixture, label_agreement, labels, samples};

/// (fixture, least label agreement with onnxruntime on the test split)
const CLASSIFIERS: [(&str, f64); 6] = [
    ("tree_breast_cancer", 1.0),
    ("forest_wine", 0.99),
    ("gbt_wine", 0.99),
    ("linear_iris", 0.99),
    ("xgb_breast_cancer", 0.99),
    ("lgbm_wine", 0.99),
];

#[test]
fn proven_labels_agree_with_onnxruntime_on_every_test_split() {
    for (name, least) in CLASSIFIERS {
        let onnx = fixture(&format!("{name}.onnx"));
        let calib = samples(&format!("{name}.calib.json"), None);
        let (q, report) = compile_onnx(&onnx, Some(&calib)).unwrap();
        assert!(q.classifier, "{name}");
        let test = samples(&format!("{name}.test.json"), None);
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        let rate = agree as f64 / test.len() as f64;
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime; calibration {}",
            test.len(),
            report.unwrap().argmax_agreement
        );
        assert!(rate >= least, "{name}: {agree}/{}", test.len());
        // the float model (our import) agrees with onnxruntime exactly
        let graph = load_onnx(&onnx).unwrap();
        let model = ClassicModel::find(&graph).unwrap().unwrap();
        for (x, l) in test.iter().zip(&expected) {
            assert_eq!(model.label(x).unwrap(), *l, "{name}");
        }
    }
}

#[test]
fn trees_are_exact_and_lower_to_bits_paths_and_scores() {
    let onnx = fixture("tree_breast_cancer.onnx");
    let (q, _) = compile_onnx(&onnx, None).unwrap();
    assert!(matches!(q.input_encoding, InputEncoding::Thresholds { .. }));
    assert_eq!(q.layers.len(), 3);
    assert_eq!(q.layers[0].multiplier, Some(STEP_MULTIPLIER));
    let test = samples("tree_breast_cancer.test.json", None);
    for exec in q.run_f32(&test).unwrap() {
        // every comparison is a bit, exactly one leaf is reached
        let bits = exec.layers[1].input.iter();
        assert!(bits.clone().all(|&b| b == 0 || b == 255));
        let reached = exec.layers[2].input.iter().filter(|&&x| x == 255).count();
        assert_eq!(reached, 1);
        assert!(exec.layers[2].input.iter().all(|&x| x == 0 || x == 255));
    }
}

#[test]
fn regressors_follow_the_float_model() {
    for name in ["tree_diabetes_regressor", "linear_diabetes"] {
        let onnx = fixture(&format!("{name}.onnx"));
        let calib = samples(&format!("{name}.calib.json"), None);
        let (q, _) = compile_onnx(&onnx, Some(&calib)).unwrap();
        assert!(!q.classifier);
        let graph = load_onnx(&onnx).unwrap();
        let test = samples(&format!("{name}.test.json"), None);
        let mut worst = 0f64;
        let mut span = 0f64;
        for (x, exec) in test.iter().zip(q.run_f32(&test).unwrap()) {
            let float = f64::from(graph.run_f32(x).unwrap()[0]);
            let ours = q.dequantize_outputs(&exec)[0];
            worst = worst.max((float - ours).abs());
            span = span.max(float.abs());
        }
        println!("{name}: worst |error| {worst:.4} of scores up to {span:.1}");
        // trees: only the leaf values are rounded (int8); linear: 8-bit features and int8
        // weights, so a few percent at worst
        let bound = if name.starts_with("tree") {
            0.005
        } else {
            0.03
        };
        assert!(worst <= bound * span, "{name}: {worst} vs {span}");
    }
}

#[test]
fn both_path_shapes_compute_the_same_scores_and_the_cheaper_is_chosen() {
    for name in ["gbt_wine", "forest_wine", "tree_breast_cancer"] {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).unwrap();
        let Some(ClassicModel::Trees(t)) = ClassicModel::find(&graph).unwrap() else {
            panic!("{name} is a tree ensemble");
        };
        let per_tree = lower_trees_with(t, PathShape::PerTree).unwrap();
        let dense = lower_trees_with(t, PathShape::Dense).unwrap();
        assert_eq!(dense.layers[1].groups, 1);
        if name == "gbt_wine" {
            assert_eq!(per_tree.layers[1].groups, 30); // 30 trees of depth 3
        }
        let test = samples(&format!("{name}.test.json"), None);
        let scores = |q: &glassbox_model::QuantizedModel| -> Vec<Vec<f64>> {
            let execs = q.run_f32(&test).unwrap();
            execs.iter().map(|e| q.dequantize_outputs(e)).collect()
        };
        assert_eq!(scores(&per_tree), scores(&dense), "{name}");
        // one main cell per weight and a degree-4 AIR make the dense layer the cheaper one for
        // these ensembles (gbt_wine, one inference: 34 ms dense, 58 ms per tree)
        let (chosen, _) = compile_onnx(&fixture(&format!("{name}.onnx")), None).unwrap();
        assert_eq!(chosen.layers[1].groups, 1, "{name}");
    }
}
