//! Convolutional models: import, Conv+BatchNormalization folding, the float executor against
//! onnxruntime (fixtures from `python3 scripts/make_cnn_fixtures.py`), and malformed models.
//! About 600 lines: the malformed-model cases edit the committed fixtures' protobufs with the
//! helpers at the bottom, which the import cases share.

mod support;

use glassbox_model::onnx::{
    attribute_type, data_type, AttributeProto, ModelProto, NodeProto, TensorProto,
};
use glassbox_model::{compile_onnx, load_onnx, FloatMlp, Graph, ModelError, Op};
use prost::Message;
use support::{fixture, labels, onnxruntime_outputs, samples, upsampled};

fn count_ops(g: &Graph, name: &str) -> usize {
    g.nodes.iter().filter(|n| n.op.name() == name).count()
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The node called `name`.
fn node<'a>(g: &'a Graph, name: &str) -> &'a glassbox_model::Node {
    g.nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

/// Within 1e-4, absolute for small values and relative for large ones.
fn close(got: f32, want: f64) -> bool {
    (f64::from(got) - want).abs() <= 1e-4 * want.abs().max(1.0)
}

#[test]
fn fixtures_match_onnxruntime() {
    let samples = samples("digits_test.json", Some(64));
    for name in ["cnn_digits", "cnn_ops", "cnn_residual"] {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        assert_eq!(graph.input_shape, vec![1, 1, 8, 8]);
        let (_, outputs) = onnxruntime_outputs(&format!("{name}.expected.json"));
        assert_eq!(outputs.len(), 40);
        let mut worst = 0f64;
        for (sample, want) in samples.iter().zip(outputs) {
            let got = graph.run_f32_output(sample).expect("run");
            assert_eq!(got.len(), want.len(), "{name}");
            for (g, w) in got.iter().zip(&want) {
                worst = worst.max((f64::from(*g) - w).abs() / w.abs().max(1.0));
                assert!(close(*g, *w), "{name}: got {g}, onnxruntime {w}");
            }
            assert_eq!(graph.run_f32(sample).expect("logits"), got);
        }
        println!("{name}: worst error {worst:.2e}");
    }
}

#[test]
fn the_16x16_fixture_matches_onnxruntime() {
    let graph = load_onnx(&fixture("cnn_digits16.onnx")).expect("import");
    assert_eq!(graph.input_shape, vec![1, 1, 16, 16]);
    let (_, outputs) = onnxruntime_outputs("cnn_digits16.expected.json");
    let samples = upsampled(&samples("digits_test.json", Some(64)));
    for (sample, want) in samples.iter().zip(outputs) {
        let got = graph.run_f32_output(sample).expect("run");
        for (g, w) in got.iter().zip(&want) {
            assert!(close(*g, *w), "got {g}, onnxruntime {w}");
        }
    }
}

#[test]
fn digits_batch_norm_is_folded_into_the_conv() {
    let graph = load_onnx(&fixture("cnn_digits.onnx")).expect("import");
    assert_eq!(count_ops(&graph, "BatchNormalization"), 0);
    let ops: Vec<&str> = graph.nodes.iter().map(|n| n.op.name()).collect();
    assert_eq!(ops, ["Conv", "Relu", "MaxPool", "Flatten", "Gemm"]);
    assert_eq!(
        graph.nodes[0].op,
        Op::Conv {
            strides: [1, 1],
            pads: [1, 1, 1, 1]
        }
    );
    // The float model is a good classifier on the whole test split.
    let samples = samples("digits_test.json", Some(64));
    let labels = labels("digits_labels.json");
    let correct = samples
        .iter()
        .zip(&labels)
        .filter(|(s, &l)| argmax(&graph.run_f32(s).expect("run")) == l)
        .count();
    let acc = correct as f64 / samples.len() as f64;
    assert!(acc >= 0.95, "accuracy {acc}");
}

#[test]
fn ops_fixture_keeps_only_unfoldable_batch_norms() {
    let graph = load_onnx(&fixture("cnn_ops.onnx")).expect("import");
    // bn2 follows conv2 (its only reader) and is folded; bn3 follows an Add and bn4 reads a conv
    // output that the residual Add also reads.
    let kept: Vec<&str> = graph
        .nodes
        .iter()
        .filter(|n| matches!(n.op, Op::BatchNorm { .. }))
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(kept, ["bn3", "bn4"]);
    let conv0 = node(&graph, "conv0");
    // SAME_UPPER, 8 wide, kernel 3, stride 2: one pad at the end.
    assert_eq!(
        conv0.op,
        Op::Conv {
            strides: [2, 2],
            pads: [0, 0, 1, 1]
        }
    );
    let conv3 = node(&graph, "conv3");
    // SAME_LOWER, 3 wide, kernel 2, stride 1: one pad at the beginning.
    assert_eq!(
        conv3.op,
        Op::Conv {
            strides: [1, 1],
            pads: [1, 1, 0, 0]
        }
    );
    let clip = node(&graph, "clip0");
    assert_eq!(
        clip.op,
        Op::Clip {
            min: Some(0.0),
            max: Some(6.0)
        }
    );
    assert!(graph.nodes.iter().any(|n| matches!(
        n.op,
        Op::AveragePool {
            count_include_pad: false,
            ..
        }
    )));
    assert_eq!(count_ops(&graph, "LeakyRelu"), 1);
    assert_eq!(count_ops(&graph, "GlobalAveragePool"), 1);
}

#[test]
fn the_mlp_lowering_refuses_convolutions_and_the_cnn_lowering_takes_the_chain() {
    for name in ["cnn_digits", "cnn_ops", "cnn_residual"] {
        let graph = load_onnx(&fixture(&format!("{name}.onnx"))).expect("import");
        let err = FloatMlp::from_graph(&graph).unwrap_err();
        assert!(matches!(err, ModelError::Unsupported { .. }), "{err:?}");
    }
    // the chains compile (crates/model/src/convnet.rs); cnn_ops (unfoldable batch norms) is refused
    assert!(compile_onnx(&fixture("cnn_digits.onnx"), None).is_ok());
    assert!(compile_onnx(&fixture("cnn_residual.onnx"), None).is_ok());
    assert!(matches!(
        compile_onnx(&fixture("cnn_ops.onnx"), None),
        Err(ModelError::Unsupported { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Model surgery helpers.

fn decode(name: &str) -> ModelProto {
    ModelProto::decode(fixture(name).as_slice()).expect("decode")
}

fn node_mut<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
    m.graph
        .as_mut()
        .expect("graph")
        .node
        .iter_mut()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

fn set_ints(n: &mut NodeProto, name: &str, ints: &[i64]) {
    n.attribute.retain(|a| a.name != name);
    n.attribute.push(AttributeProto {
        name: name.into(),
        r#type: attribute_type::INTS,
        ints: ints.to_vec(),
        ..Default::default()
    });
}

fn set_int(n: &mut NodeProto, name: &str, i: i64) {
    n.attribute.retain(|a| a.name != name);
    n.attribute.push(AttributeProto {
        name: name.into(),
        r#type: attribute_type::INT,
        i,
        ..Default::default()
    });
}

fn set_string(n: &mut NodeProto, name: &str, s: &str) {
    n.attribute.retain(|a| a.name != name);
    n.attribute.push(AttributeProto {
        name: name.into(),
        r#type: attribute_type::STRING,
        s: s.as_bytes().to_vec(),
        ..Default::default()
    });
}

fn float_init(name: &str, dims: &[i64], data: Vec<f32>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: data,
        name: name.into(),
        ..Default::default()
    }
}

fn replace_init(m: &mut ModelProto, t: TensorProto) {
    let g = m.graph.as_mut().expect("graph");
    g.initializer.retain(|i| i.name != t.name);
    g.initializer.push(t);
}

/// Inserts `Identity(value) -> value_id` and makes `reader` read `value_id` instead, which keeps a
/// `BatchNormalization` reader from being folded.
fn insert_identity(m: &mut ModelProto, value: &str, reader: &str) {
    let id_out = format!("{value}_id");
    for i in &mut node_mut(m, reader).input {
        if i == value {
            *i = id_out.clone();
        }
    }
    m.graph.as_mut().expect("graph").node.push(NodeProto {
        input: vec![value.into()],
        output: vec![id_out],
        name: format!("{value}_identity"),
        op_type: "Identity".into(),
        ..Default::default()
    });
}

fn assert_same_outputs(a: &Graph, b: &Graph) {
    for sample in samples("digits_test.json", Some(64)).iter().take(40) {
        let (x, y) = (
            a.run_f32(sample).expect("run"),
            b.run_f32(sample).expect("run"),
        );
        for (p, q) in x.iter().zip(&y) {
            assert!((p - q).abs() <= 1e-5 * q.abs().max(1.0), "{p} vs {q}");
        }
    }
}

#[test]
fn conv_batch_norm_folding_preserves_outputs() {
    let folded = load_onnx(&fixture("cnn_digits.onnx")).expect("import");
    let mut m = decode("cnn_digits.onnx");
    insert_identity(&mut m, "conv_out", "/bn/BatchNormalization");
    let unfolded = load_onnx(&m.encode_to_vec()).expect("import");
    assert_eq!(count_ops(&unfolded, "BatchNormalization"), 1);
    assert_eq!(count_ops(&folded, "BatchNormalization"), 0);
    assert_same_outputs(&folded, &unfolded);

    // Without a conv bias.
    let mut m = decode("cnn_digits.onnx");
    node_mut(&mut m, "/conv/Conv").input.truncate(2);
    let folded = load_onnx(&m.encode_to_vec()).expect("import");
    assert_eq!(count_ops(&folded, "BatchNormalization"), 0);
    insert_identity(&mut m, "conv_out", "/bn/BatchNormalization");
    let unfolded = load_onnx(&m.encode_to_vec()).expect("import");
    assert_same_outputs(&folded, &unfolded);
}

/// cnn_digits with a `BatchNormalization` (10 channels) appended after the final `Gemm`.
fn gemm_bn_model(trans_b: bool, bias: bool, beta: f32) -> ModelProto {
    let mut m = decode("cnn_digits.onnx");
    let c: Vec<f32> = (0..10).map(|i| i as f32 * 0.1 - 0.3).collect();
    for (name, data) in [
        ("bn2.scale", c.iter().map(|v| 1.5 + v).collect::<Vec<_>>()),
        ("bn2.bias", c.iter().map(|v| -v).collect()),
        ("bn2.mean", c.iter().map(|v| 2.0 * v).collect()),
        ("bn2.var", c.iter().map(|v| 0.5 + v * v).collect()),
    ] {
        replace_init(&mut m, float_init(name, &[10], data));
    }
    if !trans_b {
        // Store the weight as [128, 10] instead of [10, 128].
        let g = m.graph.as_mut().expect("graph");
        let w = g
            .initializer
            .iter_mut()
            .find(|t| t.name == "fc.weight")
            .expect("fc.weight");
        let data: Vec<f32> = if w.float_data.is_empty() {
            w.raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        } else {
            w.float_data.clone()
        };
        let t: Vec<f32> = (0..128 * 10)
            .map(|i| data[(i % 10) * 128 + i / 10])
            .collect();
        *w = float_init("fc.weight", &[128, 10], t);
    }
    let fc = node_mut(&mut m, "/fc/Gemm");
    set_int(fc, "transB", i64::from(trans_b));
    fc.attribute.retain(|a| a.name != "beta");
    fc.attribute.push(AttributeProto {
        name: "beta".into(),
        r#type: attribute_type::FLOAT,
        f: beta,
        ..Default::default()
    });
    if !bias {
        fc.input.truncate(2);
    }
    fc.output = vec!["fc_out".into()];
    m.graph.as_mut().expect("graph").node.push(NodeProto {
        input: ["fc_out", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var"]
            .map(String::from)
            .to_vec(),
        output: vec!["output".into()],
        name: "bn_after_gemm".into(),
        op_type: "BatchNormalization".into(),
        attribute: vec![AttributeProto {
            name: "epsilon".into(),
            r#type: attribute_type::FLOAT,
            f: 1e-3,
            ..Default::default()
        }],
        ..Default::default()
    });
    m
}

#[test]
fn gemm_batch_norm_folding_preserves_outputs() {
    for (trans_b, bias, beta) in [(true, true, 1.0), (false, true, 0.5), (true, false, 1.0)] {
        let mut m = gemm_bn_model(trans_b, bias, beta);
        let folded = load_onnx(&m.encode_to_vec()).expect("import");
        assert_eq!(count_ops(&folded, "BatchNormalization"), 0);
        insert_identity(&mut m, "fc_out", "bn_after_gemm");
        let unfolded = load_onnx(&m.encode_to_vec()).expect("import");
        assert_eq!(count_ops(&unfolded, "BatchNormalization"), 1);
        assert_same_outputs(&folded, &unfolded);
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness: malformed models are errors naming the node, never panics.

/// Imports and (if that succeeds) runs one sample; returns the first error.
fn import_and_run(m: &ModelProto) -> Result<Vec<f32>, ModelError> {
    let g = load_onnx(&m.encode_to_vec())?;
    g.run_f32_output(&[0.5; 64])
}

fn expect_error(m: &ModelProto, node: &str, what: &str) -> ModelError {
    let err = import_and_run(m).expect_err(what);
    let msg = err.to_string();
    assert!(msg.contains(node), "{what}: `{msg}` does not name `{node}`");
    err
}

#[test]
fn malformed_conv_attributes_are_errors() {
    let conv = "/conv/Conv";
    type Edit = fn(&mut NodeProto);
    let cases: [(&str, Edit); 12] = [
        ("pads of wrong length", |n| set_ints(n, "pads", &[1, 1])),
        ("negative pads", |n| set_ints(n, "pads", &[-1, 0, 0, 0])),
        ("zero stride", |n| set_ints(n, "strides", &[0, 1])),
        ("three strides", |n| set_ints(n, "strides", &[1, 1, 1])),
        ("group 2", |n| set_int(n, "group", 2)),
        ("dilation 2", |n| set_ints(n, "dilations", &[2, 2])),
        ("kernel_shape mismatch", |n| {
            set_ints(n, "kernel_shape", &[5, 5])
        }),
        ("huge pads", |n| {
            set_ints(n, "pads", &[1 << 40, 1 << 40, 1 << 40, 1 << 40])
        }),
        ("pads past the element limit", |n| {
            set_ints(n, "pads", &[0, 0, 1 << 14, 1 << 14])
        }),
        ("huge stride", |n| set_ints(n, "strides", &[i64::MAX, 1])),
        ("bogus auto_pad", |n| {
            set_string(n, "auto_pad", "SAME_MIDDLE")
        }),
        ("auto_pad with explicit pads", |n| {
            set_string(n, "auto_pad", "SAME_UPPER")
        }),
    ];
    for (what, edit) in cases {
        let mut m = decode("cnn_digits.onnx");
        edit(node_mut(&mut m, conv));
        expect_error(&m, conv, what);
    }
    // Group and dilation are reported as unsupported with a reason.
    let mut m = decode("cnn_digits.onnx");
    set_int(node_mut(&mut m, conv), "group", 2);
    let err = expect_error(&m, conv, "group");
    assert!(
        matches!(&err, ModelError::Unsupported { op, reason, .. } if op == "Conv" && reason.contains("group")),
        "{err:?}"
    );
    let mut m = decode("cnn_digits.onnx");
    set_ints(node_mut(&mut m, conv), "dilations", &[1, 2]);
    let err = expect_error(&m, conv, "dilation");
    assert!(
        matches!(&err, ModelError::Unsupported { reason, .. } if reason.contains("dilations")),
        "{err:?}"
    );
}

#[test]
fn malformed_conv_weights_are_errors() {
    let conv = "/conv/Conv";
    // Kernel larger than the padded input (9x9 over 8x8 with pads 0).
    let mut m = decode("cnn_digits.onnx");
    replace_init(
        &mut m,
        float_init("conv.weight", &[8, 1, 9, 9], vec![0.1; 8 * 81]),
    );
    let n = node_mut(&mut m, conv);
    n.attribute.retain(|a| a.name != "kernel_shape");
    set_ints(n, "pads", &[0, 0, 0, 0]);
    expect_error(&m, conv, "kernel larger than the padded input");
    // 1-D and 3-D kernels, wrong input channels, wrong bias length, runtime weight.
    for (dims, what) in [
        (vec![8, 1, 3], "1-D kernel"),
        (vec![8, 1, 3, 3, 3], "3-D kernel"),
        (vec![8, 2, 3, 3], "two input channels"),
    ] {
        let mut m = decode("cnn_digits.onnx");
        let len = dims.iter().product::<i64>() as usize;
        replace_init(&mut m, float_init("conv.weight", &dims, vec![0.1; len]));
        node_mut(&mut m, conv)
            .attribute
            .retain(|a| a.name != "kernel_shape");
        expect_error(&m, conv, what);
    }
    let mut m = decode("cnn_digits.onnx");
    replace_init(&mut m, float_init("conv.bias", &[3], vec![0.0; 3]));
    // The BN folding sees the bad bias and leaves the BN; the conv itself then fails.
    expect_error(&m, conv, "bias length");
    let mut m = decode("cnn_digits.onnx");
    node_mut(&mut m, conv).input[1] = "input".into();
    let err = expect_error(&m, conv, "runtime weight");
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err:?}");
}

#[test]
fn malformed_pool_and_batch_norm_are_errors() {
    let pool = "/pool/MaxPool";
    type Edit = fn(&mut NodeProto);
    let cases: [(&str, Edit); 7] = [
        ("ceil_mode", |n| set_int(n, "ceil_mode", 1)),
        ("storage_order", |n| set_int(n, "storage_order", 1)),
        ("dilations", |n| set_ints(n, "dilations", &[2, 2])),
        ("pad as large as the kernel", |n| {
            set_ints(n, "pads", &[2, 0, 0, 0])
        }),
        ("kernel larger than the input", |n| {
            set_ints(n, "kernel_shape", &[9, 9])
        }),
        ("missing kernel_shape", |n| {
            n.attribute.retain(|a| a.name != "kernel_shape")
        }),
        ("zero kernel", |n| set_ints(n, "kernel_shape", &[0, 2])),
    ];
    for (what, edit) in cases {
        let mut m = decode("cnn_digits.onnx");
        edit(node_mut(&mut m, pool));
        expect_error(&m, pool, what);
    }
    let bn = "/bn/BatchNormalization";
    let mut m = decode("cnn_digits.onnx");
    replace_init(&mut m, float_init("bn.running_var", &[8], vec![-1.0; 8]));
    expect_error(&m, bn, "negative variance");
    let mut m = decode("cnn_digits.onnx");
    replace_init(&mut m, float_init("bn.weight", &[3], vec![1.0; 3]));
    expect_error(&m, bn, "wrong channel count");
    let mut m = decode("cnn_digits.onnx");
    set_int(node_mut(&mut m, bn), "training_mode", 1);
    expect_error(&m, bn, "training mode");
    // Non-foldable (behind an Identity) with a bad channel count: caught by the shape check.
    let mut m = decode("cnn_digits.onnx");
    insert_identity(&mut m, "conv_out", bn);
    replace_init(&mut m, float_init("bn.running_mean", &[4], vec![0.0; 4]));
    expect_error(&m, bn, "unfolded wrong channel count");
}

#[test]
fn huge_input_shapes_are_refused() {
    let mut m = decode("cnn_digits.onnx");
    let input = &mut m.graph.as_mut().expect("graph").input[0];
    let dims = &mut input
        .r#type
        .as_mut()
        .and_then(|t| t.tensor_type.as_mut())
        .and_then(|t| t.shape.as_mut())
        .expect("shape")
        .dim;
    dims[2].dim_value = Some(1 << 31);
    dims[3].dim_value = Some(1 << 31);
    assert!(load_onnx(&m.encode_to_vec()).is_err());
}

#[test]
fn clip_bounds_from_attributes_and_inputs() {
    // opset 13: only `max` given (min is an empty input name).
    let mut m = decode("cnn_ops.onnx");
    node_mut(&mut m, "clip0").input = vec!["c0".into(), String::new(), "six".into()];
    let g = load_onnx(&m.encode_to_vec()).expect("import");
    let clip = node(&g, "clip0");
    assert_eq!(
        clip.op,
        Op::Clip {
            min: None,
            max: Some(6.0)
        }
    );
    // A runtime bound is unsupported.
    let mut m = decode("cnn_ops.onnx");
    node_mut(&mut m, "clip0").input = vec!["c0".into(), "c0".into()];
    let err = expect_error(&m, "clip0", "runtime min");
    assert!(matches!(err, ModelError::Unsupported { .. }), "{err:?}");
    // opset 10: attributes.
    let mut m = decode("cnn_ops.onnx");
    m.opset_import[0].version = 10;
    let clip = node_mut(&mut m, "clip0");
    clip.input.truncate(1);
    clip.attribute.push(AttributeProto {
        name: "min".into(),
        r#type: attribute_type::FLOAT,
        f: -1.0,
        ..Default::default()
    });
    let g = load_onnx(&m.encode_to_vec()).expect("import");
    let clip = node(&g, "clip0");
    assert_eq!(
        clip.op,
        Op::Clip {
            min: Some(-1.0),
            max: None
        }
    );
    assert_eq!(
        g.run_f32(&[0.5; 64]).expect("run").len(),
        10,
        "opset-10 graph runs"
    );
}

#[test]
fn random_mutations_never_panic() {
    let base = fixture("cnn_ops.onnx");
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..300 {
        let mut bytes = base.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] = next() as u8;
        }
        if let Ok(g) = load_onnx(&bytes) {
            let _ = g.run_f32_output(&vec![0.25; g.input_len]);
        }
    }
    // Attribute-level mutations of every spatial node.
    let m = decode("cnn_ops.onnx");
    let names: Vec<String> = m
        .graph
        .as_ref()
        .expect("graph")
        .node
        .iter()
        .map(|n| n.name.clone())
        .collect();
    for name in &names {
        for attr in ["pads", "strides", "kernel_shape", "dilations"] {
            for ints in [
                &[][..],
                &[0, 0][..],
                &[-3, 7][..],
                &[1 << 40, 1, 1, 1][..],
                &[5, 5, 5, 5][..],
            ] {
                let mut m = m.clone();
                set_ints(node_mut(&mut m, name), attr, ints);
                let _ = import_and_run(&m);
            }
        }
    }
}
