//! Integration tests against the committed fixtures (regenerate with `python3 scripts/make_fixtures.py`).

mod support;

use glassbox_model::{compile_onnx, fidelity, load_onnx, quantize, FloatMlp, QuantizedModel};
use support::{fixture, labels, onnxruntime_outputs, samples};

const MODELS: [&str; 4] = [
    "mlp_64_32_10",
    "sklearn_mlp_64_32_10",
    "mlp_64_128_64_10",
    "mlp_64_512_512_10",
];

#[test]
fn float_executor_matches_onnxruntime() {
    let test = samples("digits_test.json", Some(64));
    for name in MODELS {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let (kind, outputs) = onnxruntime_outputs(&format!("{name}.expected.json"));
        assert_eq!(outputs.len(), 20);
        let mlp = FloatMlp::from_graph(&graph).expect("lower");
        let mut worst = 0f64;
        for (sample, want) in test.iter().zip(outputs) {
            let got = match kind.as_str() {
                "logits" => graph.run_f32(sample).expect("run"),
                "probabilities" => graph.run_f32_output(sample).expect("run"),
                other => panic!("unknown kind {other}"),
            };
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                let err = (f64::from(*g) - w).abs() / w.abs().max(1.0);
                worst = worst.max(err);
                assert!(err <= 1e-4, "{name}: got {g}, onnxruntime {w}");
            }
            // The lowered MLP computes the same logits as the graph.
            let logits = graph.run_f32(sample).expect("run");
            for (a, b) in mlp.forward(sample).expect("forward").iter().zip(&logits) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{name}: mlp {a} vs graph {b}"
                );
            }
        }
        println!("{name}: {kind} match onnxruntime, worst relative error {worst:.2e}");
    }
}

#[test]
fn sklearn_graph_strips_label_plumbing() {
    let graph = load_onnx(&fixture("sklearn_mlp_64_32_10.onnx")).expect("import");
    assert!(graph.classifier);
    assert_eq!(graph.output_name, "probabilities");
    assert_ne!(graph.logits, graph.output);
    let mlp = FloatMlp::from_graph(&graph).expect("lower");
    assert_eq!(mlp.layers.len(), 2);
    assert!(mlp.classifier);
}

#[test]
fn quantized_argmax_agreement_on_digits() {
    let calib = samples("digits_calib.json", Some(64));
    let test = samples("digits_test.json", Some(64));
    let truth = labels("digits_labels.json");
    assert_eq!(truth.len(), test.len());
    for name in MODELS {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let mlp = FloatMlp::from_graph(&graph).expect("lower");
        let model = quantize(&mlp, Some(&calib)).expect("quantize");
        let report = fidelity(&mlp, &model, &test).expect("fidelity");
        let execs = model.run_f32(&test).expect("run");
        let correct = execs
            .iter()
            .zip(&truth)
            .filter(|(e, t)| e.label == **t)
            .count();
        println!(
            "{name}: argmax agreement {}/{} = {:.4}, quantized accuracy {:.4}, max abs err {:.4}, mean abs err {:.4}",
            (report.argmax_agreement * test.len() as f64).round(),
            test.len(),
            report.argmax_agreement,
            correct as f64 / test.len() as f64,
            report.max_abs_error,
            report.mean_abs_error
        );
        println!("{report}");
        if name != "mlp_64_512_512_10" {
            assert!(report.argmax_agreement >= 0.98, "{name}: {report}");
        }
        let uncal = quantize(&mlp, None).expect("quantize without calibration");
        let r = fidelity(&mlp, &uncal, &test).expect("fidelity");
        println!(
            "{name} (no calibration, default scales): argmax agreement {:.4}",
            r.argmax_agreement
        );
    }
}

#[test]
fn compile_is_deterministic_and_round_trips() {
    let calib = samples("digits_calib.json", Some(64));
    for name in MODELS {
        let onnx = fixture(&format!("{name}.onnx"));
        let (a, report) = compile_onnx(&onnx, Some(&calib)).expect("compile");
        let (b, _) = compile_onnx(&onnx, Some(&calib)).expect("compile");
        let bytes = a.to_bytes().expect("encode");
        assert_eq!(bytes, b.to_bytes().expect("encode"), "{name}");
        assert_eq!(QuantizedModel::from_bytes(&bytes).expect("decode"), a);
        assert!(report.expect("report").samples == calib.len());
        let q: Vec<Vec<i64>> = calib
            .iter()
            .map(|s| a.quantize_input(s).expect("quantize"))
            .collect();
        assert_eq!(a.run(&q).expect("run"), b.run(&q).expect("run"));
        println!("{name}: artifact {} bytes", bytes.len());
    }
}
