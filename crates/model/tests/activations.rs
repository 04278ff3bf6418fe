//! Smooth activations (scripts/make_activation_fixtures.py): proven through activation tables, the integer labels
//! agree with onnxruntime's float labels on the whole digits test split, and each activation's
//! fit is reported.

mod support;

use glassbox_model::compile_onnx;
use support::{fixture, label_agreement, labels, samples};

/// (fixture, the activation's ops as reported)
const MODELS: [(&str, &str); 6] = [
    ("mlp_tanh_digits", "Tanh"),
    ("mlp_logistic_digits", "Sigmoid"),
    ("act_gelu_digits", "Div → Erf → Add → Mul → Mul"),
    ("act_silu_digits", "Sigmoid → Mul"),
    ("act_hardswish_digits", "HardSwish"),
    ("act_softplus_digits", "Softplus"),
];

#[test]
fn smooth_activations_agree_with_onnxruntime() {
    let calib = samples("digits_calib.json", None);
    let test = samples("digits_test.json", None);
    for (name, function) in MODELS {
        let (q, report) = compile_onnx(&fixture(&format!("{name}.onnx")), Some(&calib)).unwrap();
        let report = report.unwrap();
        let [act] = report.activations.as_slice() else {
            panic!(
                "{name}: one activation expected, got {:?}",
                report.activations
            );
        };
        assert_eq!(act.function, function, "{name}");
        // one neuron per neuron: the activation is the hidden layer's table
        assert_eq!(q.layers[0].n_out, 32, "{name}");
        assert_eq!(act.segments, 256, "{name}");
        let table = q.layers[0].table.as_ref().expect("a tabled hidden layer");
        assert_eq!(table.len(), 256, "{name}");
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime; fit on [{:.2}, {:.2}] max error {:.4}, mean {:.4}",
            test.len(),
            act.range.0,
            act.range.1,
            act.error.max,
            act.error.mean
        );
        assert!(agree as f64 >= 0.98 * test.len() as f64, "{name}: {agree}");
    }
}

/// Smooth activations in convolutional networks (scripts/make_patch_fixtures.py): after
/// convolutions (`Conv → Tanh → Conv → Sigmoid`, the stencil path), before pools (`Conv → Tanh →
/// MaxPool`, `Conv → Tanh → AveragePool`: the table shifted to be non-negative, the shift taken
/// off by the next layer's bias) and in LeNet-5 as drawn in 1998 (the patch path: Tanh before
/// both average pools and in the head), each a table on its layer.
#[test]
fn smooth_activations_in_cnns_agree_with_onnxruntime() {
    for (name, tables) in [
        ("cnn_tanh_digits", 2),
        ("cnn_tanh_pool_digits", 2),
        ("lenet5_classic_digits28", 4),
    ] {
        let calib = samples(&format!("{name}.calib.json"), None);
        let test = samples(&format!("{name}.test.json"), None);
        let (q, report) = compile_onnx(&fixture(&format!("{name}.onnx")), Some(&calib)).unwrap();
        let report = report.unwrap();
        assert_eq!(report.activations.len(), tables, "{name}");
        assert_eq!(
            q.layers.iter().filter(|l| l.table.is_some()).count(),
            tables,
            "{name}"
        );
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        for a in &report.activations {
            println!(
                "{name}: layer {} {} on [{:.2}, {:.2}], table error max {:.4}",
                a.layer, a.function, a.range.0, a.range.1, a.error.max
            );
        }
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime",
            test.len()
        );
        assert!(agree as f64 >= 0.98 * test.len() as f64, "{name}: {agree}");
    }
}
