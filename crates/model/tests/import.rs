//! Loader tests: small models built in protobuf, end to end through the op registry.

mod support;

use glassbox_model::onnx::{
    attribute_type, AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
};
use glassbox_model::{load_onnx, ModelError, Op, Operand, Tensor, MAX_NODES};
use prost::Message;
use support::onnx::{encode, float_tensor, node, trans_b, two_input_graph, value_info};

/// `input [N, 2] → Gemm(W [3, 2], transB) → Relu → Gemm(W2 [2, 3]) → middle op → output`.
fn model(nodes: Vec<NodeProto>) -> Vec<u8> {
    let mut gemm0 = node("Gemm", "fc0", &["input", "w0", "b0"], "h0");
    gemm0.attribute.push(trans_b());
    let relu = node("Relu", "relu0", &["h0"], "h1");
    let mut gemm1 = node("Gemm", "fc1", &["h1", "w1", "b1"], "logits");
    gemm1.attribute.push(trans_b());
    let mut all = vec![gemm0, relu, gemm1];
    all.extend(nodes);
    let out_name = all
        .last()
        .and_then(|n| n.output.first().cloned())
        .unwrap_or_default();
    encode(two_input_graph(all, &out_name))
}

#[test]
fn imports_and_runs_small_mlp() {
    let g = load_onnx(&model(vec![node("Softmax", "sm", &["logits"], "probs")])).unwrap();
    assert!(g.classifier);
    assert_eq!(g.input_len, 2);
    // h = relu([x0, x1, -x0 - x1 + 0.5]) = [1, 2, 0] for x = [1, 2]; y = [1 + 4 + 0.25, -1 + 0] = [5.25, -1].
    assert_eq!(g.run_f32(&[1.0, 2.0]).unwrap(), vec![5.25, -1.0]);
    let p = g.run_f32_output(&[1.0, 2.0]).unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[0] > p[1]);
    assert!(matches!(
        g.run_f32(&[1.0]),
        Err(ModelError::InputLength {
            expected: 2,
            got: 1
        })
    ));
}

#[test]
fn garbage_and_truncation_are_errors() {
    let bytes = model(vec![]);
    for cut in [1, 7, bytes.len() / 2, bytes.len() - 1] {
        assert!(load_onnx(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    assert!(matches!(
        load_onnx(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
        Err(ModelError::BadProtobuf(_))
    ));
    assert!(matches!(
        load_onnx(b"definitely not onnx"),
        Err(ModelError::BadProtobuf(_))
    ));
    assert!(matches!(load_onnx(&[]), Err(ModelError::InvalidGraph(_))));
    // Deterministic pseudo-random garbage must never panic.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for len in 0..200 {
        let buf: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = load_onnx(&buf);
    }
}

#[test]
fn unsupported_op_names_op_and_node() {
    let err = load_onnx(&model(vec![node("Sin", "my_sin", &["logits"], "out")])).unwrap_err();
    match &err {
        ModelError::Unsupported { op, node, .. } => {
            assert_eq!((op.as_str(), node.as_str()), ("Sin", "my_sin"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("Sin") && msg.contains("my_sin"), "{msg}");
}

#[test]
fn cycles_are_refused() {
    let mut bytes_model = ModelProto::decode(model(vec![]).as_slice()).unwrap();
    let g = bytes_model.graph.as_mut().unwrap();
    // fc0 now reads the output of relu0, which reads fc0.
    g.node[0].input[0] = "h1".into();
    let err = load_onnx(&bytes_model.encode_to_vec()).unwrap_err();
    assert!(matches!(err, ModelError::Cyclic { .. }), "{err:?}");
}

#[test]
fn too_many_nodes_refused() {
    let nodes: Vec<NodeProto> = (0..MAX_NODES)
        .map(|i| {
            node(
                "Identity",
                &format!("id{i}"),
                &[&format!("v{i}")],
                &format!("v{}", i + 1),
            )
        })
        .collect();
    let err = load_onnx(&model(nodes)).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::TooLarge {
                what: "node count",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn nan_weights_and_bad_raw_data_refused() {
    let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
    m.graph.as_mut().unwrap().initializer[0].float_data[0] = f32::NAN;
    assert!(matches!(
        load_onnx(&m.encode_to_vec()),
        Err(ModelError::NonFinite { .. })
    ));
    let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.float_data.clear();
    t.raw_data = vec![0; 5];
    assert!(matches!(
        load_onnx(&m.encode_to_vec()),
        Err(ModelError::ShapeMismatch { .. })
    ));
}

#[test]
fn conv_same_pads_and_batch_norm_folding() {
    let mut conv = node("Conv", "conv", &["input", "w", "b"], "c");
    conv.attribute.push(AttributeProto {
        name: "strides".into(),
        r#type: attribute_type::INTS,
        ints: vec![2, 2],
        ..Default::default()
    });
    conv.attribute.push(AttributeProto {
        name: "auto_pad".into(),
        r#type: attribute_type::STRING,
        s: b"SAME_UPPER".to_vec(),
        ..Default::default()
    });
    let mut bn = node(
        "BatchNormalization",
        "bn",
        &["c", "g", "beta", "m", "v"],
        "y",
    );
    bn.attribute.push(AttributeProto {
        name: "epsilon".into(),
        r#type: attribute_type::FLOAT,
        f: 0.0,
        ..Default::default()
    });
    let g = GraphProto {
        node: vec![conv, bn],
        name: "cnn".into(),
        initializer: vec![
            float_tensor("w", &[1, 1, 2, 2], &[1.0; 4]),
            float_tensor("b", &[1], &[1.0]),
            float_tensor("g", &[1], &[4.0]),
            float_tensor("beta", &[1], &[1.0]),
            float_tensor("m", &[1], &[3.0]),
            float_tensor("v", &[1], &[4.0]),
        ],
        input: vec![value_info("input", &[None, Some(1), Some(3), Some(3)])],
        output: vec![value_info("y", &[None, Some(1), Some(2), Some(2)])],
        ..Default::default()
    };
    let m = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(g),
        ..Default::default()
    };
    let graph = load_onnx(&m.encode_to_vec()).unwrap();
    // 3 wide, kernel 2, stride 2: 2 outputs need 4 cells, so one pad at the end (SAME_UPPER).
    assert_eq!(graph.nodes.len(), 1);
    assert_eq!(
        graph.nodes[0].op,
        Op::Conv {
            strides: [2, 2],
            pads: [0, 0, 1, 1]
        }
    );
    // BN scale 4 / sqrt(4) = 2: W' = 2, b' = (1 - 3) * 2 + 1 = -3.
    let consts: Vec<&Tensor> = graph.nodes[0].inputs[1..]
        .iter()
        .map(|o| match o {
            Operand::Const(c) => &graph.constants[*c],
            Operand::Value(_) => panic!("weights are constants"),
        })
        .collect();
    assert_eq!(consts[0].data, vec![2.0; 4]);
    assert_eq!(consts[1].data, vec![-3.0]);
    // Windows {1,2,4,5}, {3,6}, {7,8}, {9} of 1..=9, plus bias 1, then 2x - 5.
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    assert_eq!(graph.run_f32(&x).unwrap(), vec![21.0, 15.0, 27.0, 15.0]);
}

#[test]
fn hidden_layer_without_relu_is_unsupported() {
    let mut m = ModelProto::decode(model(vec![]).as_slice()).unwrap();
    m.graph.as_mut().unwrap().node[1].op_type = "Identity".into();
    let g = load_onnx(&m.encode_to_vec()).unwrap();
    let err = glassbox_model::FloatMlp::from_graph(&g).unwrap_err();
    assert!(
        matches!(&err, ModelError::Unsupported { op, node, .. } if op == "Gemm" && node == "fc1"),
        "{err:?}"
    );
    let ok = glassbox_model::FloatMlp::from_graph(&load_onnx(&model(vec![])).unwrap()).unwrap();
    assert_eq!(
        ok.layers.iter().map(|l| l.relu).collect::<Vec<_>>(),
        vec![true, false]
    );
}
