//! Tree ensembles behind preprocessing (scripts/make_pipeline_fixtures.py `trees`): scalers fold
//! into raw thresholds exactly, a PCA becomes a projected encoding, a `Normalizer` on the raw
//! features a committed normalized encoding; proven labels against onnxruntime's on the whole test
//! split and at every split's exact raw boundary.

mod support;

use glassbox_model::{compile_onnx, load_onnx, InputEncoding, Op, QuantizedModel, TreeEnsemble};
use serde_json::Value;
use support::{fixture, label_agreement, labels, samples};

/// (fixture, data split, projected: the preprocessing mixes features)
const TREES: [(&str, &str, bool); 3] = [
    ("pipe_scaler_forest_wine", "forest_wine", false),
    ("pipe_minmax_gbt_bc", "tree_breast_cancer", false),
    ("pipe_scaler_pca_tree_bc", "tree_breast_cancer", true),
];

fn compiled(name: &str, data: &str) -> QuantizedModel {
    let calib = samples(&format!("{data}.calib.json"), None);
    compile_onnx(&fixture(&format!("{name}.onnx")), Some(&calib))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .0
}

#[test]
fn preprocessed_trees_agree_with_onnxruntime_on_their_test_splits() {
    for (name, data, projected) in TREES {
        let q = compiled(name, data);
        let test = samples(&format!("{data}.test.json"), None);
        assert_eq!(q.raw_input_len(), test[0].len(), "{name}: raw features in");
        match (&q.input_encoding, projected) {
            (InputEncoding::Thresholds { cuts }, false) => {
                assert_eq!(cuts.len(), test[0].len(), "{name}: cuts on raw features")
            }
            (InputEncoding::Projected { map, cuts }, true) => {
                assert_eq!(map.inputs, test[0].len(), "{name}");
                assert_eq!(cuts.len(), q.input_len, "{name}: cuts on the projection");
            }
            (e, _) => panic!("{name}: unexpected encoding {e:?}"),
        }
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime; {} encoded inputs, {} cuts",
            test.len(),
            q.input_len,
            match &q.input_encoding {
                InputEncoding::Thresholds { cuts } | InputEncoding::Projected { cuts, .. } =>
                    cuts.iter().map(Vec::len).sum::<usize>(),
                _ => 0,
            }
        );
        assert!(
            agree as f64 >= 0.98 * test.len() as f64,
            "{name}: {agree}/{}",
            test.len()
        );
    }
}

/// The probes file: per split `[calib row, feature, threshold, exact raw boundary b]`, and
/// onnxruntime's labels and outputs at `b` and at the next `f32`.
struct Probes {
    splits: Vec<(usize, usize, f32, f32)>,
    samples: Vec<Vec<f32>>,
    labels: Vec<usize>,
    outputs: Vec<Vec<f64>>,
}

fn probes(name: &str, data: &str) -> Probes {
    let v: Value = serde_json::from_slice(&fixture(&format!("{name}.probes.json"))).expect("json");
    let calib = samples(&format!("{data}.calib.json"), None);
    let num = |x: &Value| x.as_f64().expect("number");
    let splits: Vec<(usize, usize, f32, f32)> = v["splits"]
        .as_array()
        .expect("splits")
        .iter()
        .map(|s| {
            let (row, j) = (num(&s[0]) as usize, num(&s[1]) as usize);
            (row, j, num(&s[2]) as f32, num(&s[3]) as f32)
        })
        .collect();
    let mut all = Vec::new();
    for &(row, j, _, b) in &splits {
        for x in [b, b.next_up()] {
            let mut s = calib[row].clone();
            s[j] = x;
            all.push(s);
        }
    }
    let outputs = v["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(num).collect())
        .collect();
    Probes {
        splits,
        samples: all,
        labels: labels(&format!("{name}.probes.json")),
        outputs,
    }
}

/// The per-feature map's real inverse at `t`, rounded to `f32`: the naive fold.
fn naive(graph: &glassbox_model::Graph, j: usize, t: f32) -> f32 {
    let c = |k: usize| f64::from(graph.constants[k].data[j]);
    for node in &graph.nodes {
        match (&node.op, node.inputs.get(1)) {
            (Op::Scaler { offset, scale }, _) => {
                return (f64::from(t) / f64::from(scale[j]) + f64::from(offset[j])) as f32
            }
            (Op::Add, Some(glassbox_model::Operand::Const(add))) => {
                let mul = graph
                    .nodes
                    .iter()
                    .find_map(|n| match (&n.op, n.inputs.get(1)) {
                        (Op::Mul, Some(glassbox_model::Operand::Const(k))) => Some(*k),
                        _ => None,
                    });
                return ((f64::from(t) - c(*add)) / c(mul.expect("Mul"))) as f32;
            }
            _ => {}
        }
    }
    panic!("no per-feature scaling")
}

/// At every split's exact raw boundary `b` (onnxruntime's own: its outputs change between `b`
/// and the next `f32` for most splits) the float import computes onnxruntime's outputs, `b` is
/// one of the committed raw cuts, and the proven label is onnxruntime's; the naive fold (the
/// real inverse of the scaling, rounded) puts some boundaries one or more `f32` off.
#[test]
fn scaled_trees_split_at_onnxruntimes_exact_raw_boundaries() {
    for (name, data) in [
        ("pipe_scaler_forest_wine", "forest_wine"),
        ("pipe_minmax_gbt_bc", "tree_breast_cancer"),
    ] {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let q = compiled(name, data);
        let p = probes(name, data);
        let InputEncoding::Thresholds { cuts } = &q.input_encoding else {
            panic!("{name}: raw thresholds expected");
        };
        let mut naive_off = 0;
        for &(_, j, t, b) in &p.splits {
            assert!(
                cuts[j].contains(&b),
                "{name}: boundary {b} of feature {j} is not a cut"
            );
            naive_off += usize::from(naive(&graph, j, t) != b);
        }
        for (i, (x, want)) in p.samples.iter().zip(&p.outputs).enumerate() {
            let got = graph.run_f32_output(x).expect("float run");
            let close = got
                .iter()
                .zip(want)
                .all(|(&g, &w)| (f64::from(g) - w).abs() <= 1e-6);
            assert!(close, "{name} probe {i}: {got:?} vs onnxruntime {want:?}");
        }
        // the proven outputs change across a boundary exactly where onnxruntime's do
        let runs = q.run_f32(&p.samples).expect("integer run");
        let mut moved = 0;
        for (i, pair) in runs.chunks(2).enumerate() {
            let ort = p.outputs[2 * i] != p.outputs[2 * i + 1];
            let proven = pair[0].outputs != pair[1].outputs;
            assert_eq!(proven, ort, "{name}: split {i} moves one and not the other");
            moved += usize::from(ort);
        }
        let agree = label_agreement(&q, &p.samples, &p.labels);
        println!(
            "{name}: {} splits, {moved} of them change both onnxruntime's and the proven \
             outputs between b and the next f32; proven labels agree with onnxruntime on \
             {agree}/{} boundary probes; the naive fold misplaces {naive_off} boundaries",
            p.splits.len(),
            p.samples.len()
        );
        assert_eq!(agree, p.samples.len(), "{name}");
        assert!(
            naive_off > 0,
            "{name}: the fixture no longer exercises f32 rounding"
        );
    }
}

/// A `Normalizer` in front of a tree, a linear model or an MLP is part of the committed input
/// encoding: the proven labels agree with onnxruntime's on the whole wine test split, the
/// encoding normalizes a raw sample before coding it, and a changed norm is another digest.
#[test]
fn a_normalizer_in_front_of_a_model_is_a_committed_encoding() {
    for name in [
        "pipe_normalizer_tree_wine",
        "pipe_normalizer_logreg_wine",
        "pipe_normalizer_mlp_wine",
    ] {
        let bytes = fixture(&format!("{name}.onnx"));
        let calib = samples("forest_wine.calib.json", None);
        let (q, _) = compile_onnx(&bytes, Some(&calib)).expect(name);
        let InputEncoding::Normalized { norm, inner } = &q.input_encoding else {
            panic!("{name}: {:?}", q.input_encoding);
        };
        assert_eq!(*norm, glassbox_air::Norm::L2, "{name}");
        // the encoding is the inner one applied to the normalized sample
        let x = &samples("forest_wine.test.json", None)[0];
        let direct = inner.encode(&norm.apply(x), q.input_scale).unwrap();
        assert_eq!(q.quantize_input(x).unwrap(), direct, "{name}");
        let test = samples("forest_wine.test.json", None);
        let expected = labels(&format!("{name}.expected.json"));
        let agree = label_agreement(&q, &test, &expected);
        println!(
            "{name}: {agree}/{} labels agree with onnxruntime",
            test.len()
        );
        assert!(agree as f64 >= 0.98 * test.len() as f64, "{name}: {agree}");
    }
}

/// The projected encoding's codes are the trees' own thresholds on `z = A·x + c`: the float
/// model and the projected codes take the same branch wherever `z` is not within a few ulps of a
/// threshold, which is every test sample here.
#[test]
fn the_projection_is_the_pca_read_off_the_graph() {
    let q = compiled("pipe_scaler_pca_tree_bc", "tree_breast_cancer");
    let InputEncoding::Projected { map, .. } = &q.input_encoding else {
        panic!("projected encoding expected");
    };
    let graph = load_onnx(&fixture("pipe_scaler_pca_tree_bc.onnx")).expect("import");
    let tree = graph
        .nodes
        .iter()
        .find_map(|n| match &n.op {
            Op::TreeEnsemble(t) => Some(t),
            _ => None,
        })
        .expect("a tree");
    let at = graph
        .nodes
        .iter()
        .position(|n| matches!(n.op, Op::TreeEnsemble(_)))
        .expect("tree node");
    let value = match graph.nodes[at].inputs[0] {
        glassbox_model::Operand::Value(v) => v,
        _ => panic!("the tree reads a value"),
    };
    let mut worst = 0f32;
    for x in samples("tree_breast_cancer.test.json", None) {
        let z = map.apply(&x);
        let reference = run_until(&graph, &x, value);
        for (a, b) in z.iter().zip(&reference) {
            worst = worst.max((a - b).abs() / b.abs().max(1.0));
        }
        assert_eq!(leaves(tree, &z), leaves(tree, &reference));
    }
    println!("projection vs onnxruntime-style f32 PCA: worst relative gap {worst:e}");
    assert!(worst < 1e-5, "{worst}");
}

fn leaves(t: &TreeEnsemble, z: &[f32]) -> Vec<usize> {
    (0..t.trees.len()).map(|i| t.leaf(i, z)).collect()
}

/// The float graph's value `value` for sample `x` (the graph truncated there).
fn run_until(graph: &glassbox_model::Graph, x: &[f32], value: usize) -> Vec<f32> {
    let mut g = graph.clone();
    g.nodes.truncate(value);
    g.output = value;
    g.logits = value;
    g.binary_head = false;
    g.run_f32_output(x).expect("float run")
}
