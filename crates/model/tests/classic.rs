//! Classic ONNX-ML models (regenerate with `python3 scripts/make_classic_fixtures.py`): the float
//! executor and labels must match onnxruntime on every test sample, and mutated tree attributes must
//! give errors, never panics.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use glassbox_model::onnx::{attribute_type, ModelProto};
use glassbox_model::{load_onnx, parse_input_json, Graph, ModelError, Op, TreeNode};
use prost::Message;
use support::fixture;

const CLASSIFIERS: [&str; 6] = [
    "tree_breast_cancer",
    "forest_wine",
    "gbt_wine",
    "linear_iris",
    "xgb_breast_cancer", // onnxmltools: BRANCH_LT, LOGISTIC binary head, base score
    "lgbm_wine",         // onnxmltools: NaN-routing flags, × 1 after the probabilities
];
const REGRESSORS: [&str; 2] = ["tree_diabetes_regressor", "linear_diabetes"];

fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).expect("json")
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        })
        .collect()
}

/// The classic model node the graph's logits come from: its float label for `x`.
fn label(graph: &Graph, x: &[f32]) -> usize {
    let node = &graph.nodes[graph.logits - 1];
    match &node.op {
        Op::TreeEnsemble(t) => t.label(x),
        Op::Linear(l) => l.label(x),
        other => panic!("logits come from {other:?}"),
    }
}

fn classes(graph: &Graph) -> Vec<i64> {
    match &graph.nodes[graph.logits - 1].op {
        Op::TreeEnsemble(t) => t.classes.clone().expect("classifier"),
        Op::Linear(l) => l.classes.clone().expect("classifier"),
        other => panic!("logits come from {other:?}"),
    }
}

fn check(name: &str, classifier: bool) {
    let graph = load_onnx(&fixture(&format!("{name}.onnx")))
        .unwrap_or_else(|e| panic!("{name}: import: {e}"));
    assert_eq!(graph.classifier, classifier, "{name}");
    let text = String::from_utf8(fixture(&format!("{name}.test.json"))).expect("utf-8");
    let samples = parse_input_json(&text, Some(graph.input_len)).expect("test json");
    let calib = String::from_utf8(fixture(&format!("{name}.calib.json"))).expect("utf-8");
    assert!(!parse_input_json(&calib, Some(graph.input_len))
        .expect("calib json")
        .is_empty());
    let expected = json(&format!("{name}.expected.json"));
    let outputs = rows(&expected["outputs"]);
    assert_eq!(outputs.len(), samples.len(), "{name}");
    let mut worst = 0f64;
    for (i, (x, want)) in samples.iter().zip(&outputs).enumerate() {
        let got = graph.run_f32_output(x).expect("run");
        assert_eq!(got.len(), want.len(), "{name} sample {i}");
        for (&g, &w) in got.iter().zip(want) {
            let err = (f64::from(g) - w).abs();
            worst = worst.max(err);
            assert!(
                err <= 1e-5 || err <= 1e-4 * w.abs(),
                "{name} sample {i}: got {got:?}, onnxruntime {want:?}"
            );
        }
        // The logits are the classic node's output; here the same as the main output except after
        // a Normalizer (linear_iris), where they differ only by the L1 normalization.
        assert_eq!(graph.run_f32(x).expect("logits").len(), want.len());
    }
    if classifier {
        let labels = classes(&graph);
        let ort: Vec<i64> = expected["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|v| v.as_i64().expect("label"))
            .collect();
        let sk = expected["sklearn_labels"].as_array().expect("sklearn");
        assert_eq!(ort.len(), samples.len());
        assert_eq!(sk.len(), samples.len());
        for (i, (x, &want)) in samples.iter().zip(&ort).enumerate() {
            assert_eq!(labels[label(&graph, x)], want, "{name} sample {i}");
        }
    }
    println!(
        "{name}: {} samples, worst abs error {worst:e}",
        samples.len()
    );
}

#[test]
fn classifiers_match_onnxruntime() {
    for name in CLASSIFIERS {
        check(name, true);
    }
}

#[test]
fn regressors_match_onnxruntime() {
    for name in REGRESSORS {
        check(name, false);
    }
}

#[test]
fn classic_graphs_are_not_dense_chains() {
    for name in CLASSIFIERS.iter().chain(&REGRESSORS) {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let err = glassbox_model::FloatMlp::from_graph(&graph).unwrap_err();
        assert!(
            matches!(&err, ModelError::Unsupported { reason, .. } if reason.contains("classic")),
            "{name}: {err:?}"
        );
    }
}

/// Prints per-fixture tree statistics (run with `--nocapture`).
#[test]
fn tree_fixture_statistics() {
    for name in CLASSIFIERS.iter().chain(&REGRESSORS) {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let Op::TreeEnsemble(t) = &graph.nodes[graph.logits - 1].op else {
            continue;
        };
        let (mut internal, mut leaves, mut depth) = (0, 0, 0);
        let mut thresholds = vec![std::collections::BTreeSet::new(); t.n_features];
        for tree in &t.trees {
            let mut stack = vec![(0usize, 0usize)];
            while let Some((i, d)) = stack.pop() {
                depth = depth.max(d);
                match &tree.nodes[i] {
                    TreeNode::Branch {
                        feature,
                        threshold,
                        true_child,
                        false_child,
                        ..
                    } => {
                        internal += 1;
                        thresholds[*feature].insert(threshold.to_bits());
                        stack.push((*true_child, d + 1));
                        stack.push((*false_child, d + 1));
                    }
                    TreeNode::Leaf { .. } => leaves += 1,
                }
            }
        }
        let distinct = thresholds.iter().map(|s| s.len()).max().unwrap_or(0);
        println!(
            "{name}: {} trees, {internal} internal nodes, {leaves} leaves, max depth {depth}, \
             at most {distinct} distinct thresholds per feature",
            t.trees.len()
        );
    }
}

fn mutate(name: &str, f: impl Fn(&mut ModelProto)) -> Result<Graph, ModelError> {
    let mut m = ModelProto::decode(fixture(&format!("{name}.onnx")).as_slice()).expect("decode");
    f(&mut m);
    load_onnx(&m.encode_to_vec())
}

fn tree_attr<'m>(
    m: &'m mut ModelProto,
    attr: &str,
) -> &'m mut glassbox_model::onnx::AttributeProto {
    m.graph
        .as_mut()
        .expect("graph")
        .node
        .iter_mut()
        .find(|n| n.op_type.starts_with("TreeEnsemble"))
        .expect("tree node")
        .attribute
        .iter_mut()
        .find(|a| a.name == attr)
        .unwrap_or_else(|| panic!("attribute {attr}"))
}

type Mutation = dyn Fn(&mut Vec<i64>);

#[test]
fn mutated_tree_attributes_are_errors() {
    let int_lists = [
        "nodes_treeids",
        "nodes_nodeids",
        "nodes_featureids",
        "nodes_truenodeids",
        "nodes_falsenodeids",
        "class_ids",
        "class_nodeids",
        "class_treeids",
        "classlabels_int64s",
    ];
    let name = "forest_wine";
    for attr in int_lists {
        // Truncated, emptied, and with one entry made huge or negative.
        let cases: [(&str, Box<Mutation>); 5] = [
            (
                "pop",
                Box::new(|v| {
                    v.pop();
                }),
            ),
            ("clear", Box::new(|v| v.clear())),
            (
                "huge",
                Box::new(|v| v.iter_mut().for_each(|x| *x = i64::MAX)),
            ),
            (
                "negative",
                Box::new(|v| v.iter_mut().take(3).for_each(|x| *x = -1)),
            ),
            (
                "first=5",
                Box::new(|v| v.iter_mut().take(1).for_each(|x| *x = 5)),
            ),
        ];
        for (what, f) in &cases {
            let r = catch_unwind(AssertUnwindSafe(|| {
                mutate(name, |m| f(&mut tree_attr(m, attr).ints))
            }));
            let r = r.unwrap_or_else(|_| panic!("{attr} {what}: panicked"));
            if let Ok(g) = &r {
                // Accepted mutations must still run without panicking.
                let _ = g.run_f32_output(&vec![0.0; g.input_len]);
            }
            // Length and range violations are refused (class labels may be any int64).
            let must_fail = match *what {
                "pop" => true,
                "huge" | "negative" => attr != "classlabels_int64s",
                _ => false,
            };
            if must_fail {
                assert!(r.is_err(), "{attr} {what} accepted");
            }
        }
    }
    for attr in ["nodes_values", "class_weights"] {
        let r = mutate(name, |m| {
            tree_attr(m, attr).floats.pop();
        });
        assert!(r.is_err(), "{attr} truncated accepted");
        let r = mutate(name, |m| tree_attr(m, attr).floats[0] = f32::NAN);
        assert!(
            matches!(r, Err(ModelError::NonFinite { .. })),
            "{attr} NaN: {r:?}"
        );
    }
    {
        let attr = "nodes_modes";
        let r = mutate(name, |m| {
            tree_attr(m, attr).strings.pop();
        });
        assert!(r.is_err(), "{attr} truncated accepted");
        let r = mutate(name, |m| {
            tree_attr(m, attr).strings[0] = b"BRANCH_XX".to_vec()
        });
        assert!(
            matches!(&r, Err(ModelError::Unsupported { op, node, .. })
                if op.contains("TreeEnsembleClassifier") && node == "TreeEnsembleClassifier"),
            "{r:?}"
        );
    }
    // A child pointing at the root makes a cycle; a wrongly typed attribute is refused.
    let r = mutate(name, |m| tree_attr(m, "nodes_truenodeids").ints[0] = 0);
    assert!(r.is_err(), "cycle accepted");
    let r = mutate(name, |m| {
        tree_attr(m, "nodes_falsenodeids").r#type = attribute_type::FLOATS
    });
    assert!(r.is_err(), "wrong attribute type accepted");
    // NaN routing flags are accepted: inputs are always finite, so they never apply.
    let r = mutate(name, |m| {
        tree_attr(m, "nodes_missing_value_tracks_true").ints[0] = 1
    });
    assert!(r.is_ok(), "{r:?}");
    // String labels are refused with a clear error.
    let r = mutate(name, |m| {
        let a = tree_attr(m, "classlabels_int64s");
        a.name = "classlabels_strings".into();
        a.r#type = 8;
        a.strings = a.ints.iter().map(|i| i.to_string().into_bytes()).collect();
        a.ints.clear();
    });
    assert!(
        matches!(&r, Err(ModelError::Unsupported { reason, .. }) if reason.contains("string")),
        "{r:?}"
    );
}

#[test]
fn truncated_classic_fixtures_never_panic() {
    for name in CLASSIFIERS.iter().chain(&REGRESSORS) {
        let bytes = fixture(&format!("{name}.onnx"));
        let step = (bytes.len() / 300).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let r = catch_unwind(AssertUnwindSafe(|| {
                if let Ok(g) = load_onnx(&bytes[..cut]) {
                    let _ = g.run_f32_output(&vec![0.5; g.input_len]);
                }
            }));
            assert!(r.is_ok(), "{name}: panic at cut {cut}");
        }
    }
}
