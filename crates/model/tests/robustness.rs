//! The model front end on hostile input: truncated and bit-flipped fixtures, hand-built cyclic,
//! deep and oversized graphs, and input-JSON edge cases must all end in a `ModelError`, never a
//! panic, a stack overflow or a huge allocation.
//!
//! Hand-built protobufs use the crate's own prost structs; a few of them are committed in
//! `fixtures/bad/` as fuzzing seeds (`GLASSBOX_REGEN_SEEDS=1` rewrites them; otherwise the test
//! checks the committed files are what this code builds).

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use glassbox_model::onnx::{GraphProto, ModelProto, NodeProto, TensorProto};
use glassbox_model::{
    load_onnx, parse_input_json, quantize, FloatMlp, ModelError, QuantizedModel, MAX_NODES,
};
use prost::Message;
use support::fixture;
use support::onnx::{encode, float_tensor, node, trans_b, two_input_graph, value_info};

// ------------------------------------------------------------------------------------------------
// Helpers

/// xorshift64: deterministic sampling without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Import, lower, quantize (default calibration) and run one zero sample; `Err` at any stage is
/// fine.
fn front_end(bytes: &[u8]) -> Result<QuantizedModel, ModelError> {
    let graph = load_onnx(bytes)?;
    let mlp = FloatMlp::from_graph(&graph)?;
    let model = quantize(&mlp, None)?;
    model.run_f32(&[vec![0.0; model.input_len]])?;
    Ok(model)
}

/// Runs `front_end` on each mutated buffer and returns the labels of those that panicked.
fn panics<'a>(cases: impl Iterator<Item = (String, Vec<u8>)> + 'a) -> Vec<String> {
    cases
        .filter(|(_, bytes)| catch_unwind(AssertUnwindSafe(|| front_end(bytes))).is_err())
        .map(|(label, _)| label)
        .collect()
}

/// `input [N, 2] → Gemm(W0, b0, transB) → Relu → <middle> → Gemm(W1, b1, transB) → logits`.
fn graph(middle: Vec<NodeProto>, last_input: &str) -> GraphProto {
    let mut fc0 = node("Gemm", "fc0", &["input", "w0", "b0"], "h0");
    fc0.attribute.push(trans_b());
    let relu = node("Relu", "relu0", &["h0"], "h1");
    let mut fc1 = node("Gemm", "fc1", &[last_input, "w1", "b1"], "logits");
    fc1.attribute.push(trans_b());
    let mut nodes = vec![fc0, relu];
    nodes.extend(middle);
    nodes.push(fc1);
    two_input_graph(nodes, "logits")
}

/// A chain of `n` `Identity` nodes between the ReLU and the last Gemm.
fn identity_chain(n: usize) -> Vec<u8> {
    let middle = (0..n)
        .map(|i| {
            let src = if i == 0 { "h1".into() } else { format!("c{i}") };
            node(
                "Identity",
                &format!("id{i}"),
                &[&src],
                &format!("c{}", i + 1),
            )
        })
        .collect();
    encode(graph(middle, &format!("c{n}")))
}

// ------------------------------------------------------------------------------------------------
// Fixtures: truncations and byte flips

const SMALL: [&str; 2] = ["mlp_64_32_10.onnx", "sklearn_mlp_64_32_10.onnx"];

#[test]
fn the_small_fixtures_compile() {
    for name in SMALL {
        front_end(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    front_end(&encode(graph(Vec::new(), "h1"))).expect("hand-built MLP");
}

#[test]
fn truncated_fixtures_never_panic() {
    for name in SMALL.iter().chain(&["mlp_64_128_64_10.onnx"]) {
        let bytes = fixture(name);
        // Every cut of the first and last 512 bytes, ~1000 evenly spread cuts between.
        let step = (bytes.len() / 1000).max(1);
        let cuts: Vec<usize> = (0..512.min(bytes.len()))
            .chain((512..bytes.len().saturating_sub(512)).step_by(step))
            .chain(bytes.len().saturating_sub(512)..bytes.len())
            .collect();
        let n = cuts.len();
        let bad = panics(
            cuts.into_iter()
                .map(|c| (format!("{name} cut at {c}"), bytes[..c].to_vec())),
        );
        assert!(bad.is_empty(), "{name}: panics on {bad:?}");
        let accepted = (0..bytes.len())
            .step_by(step)
            .filter(|&c| front_end(&bytes[..c]).is_ok())
            .count();
        println!("{name}: {n} truncations, no panic ({accepted} sampled cuts still compile)");
    }
}

#[test]
fn bit_flipped_fixtures_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for name in SMALL {
        let bytes = fixture(name);
        let cases: Vec<(String, Vec<u8>)> = (0..3000)
            .map(|k| {
                let mut b = bytes.clone();
                // one to three random byte edits, most of them single-bit flips
                for _ in 0..=(k % 3) {
                    let i = rng.below(b.len());
                    let x = if k % 2 == 0 {
                        1 << rng.below(8)
                    } else {
                        (rng.next() as u8).max(1)
                    };
                    b[i] ^= x;
                }
                (format!("{name} case {k}"), b)
            })
            .collect();
        let bad = panics(cases.into_iter());
        assert!(bad.is_empty(), "{name}: panics on {bad:?}");
    }
}

#[test]
fn every_flip_of_the_hand_built_model_never_panics() {
    let bytes = encode(graph(Vec::new(), "h1"));
    let cases = (0..bytes.len()).flat_map(|i| {
        let bytes = bytes.clone();
        [0x01u8, 0x80, 0xff].into_iter().map(move |x| {
            let mut b = bytes.clone();
            b[i] ^= x;
            (format!("byte {i} ^ {x:#04x}"), b)
        })
    });
    let bad = panics(cases);
    assert!(bad.is_empty(), "panics on {bad:?}");
}

// ------------------------------------------------------------------------------------------------
// Hand-built hostile graphs

#[test]
fn cycles_are_refused() {
    // Self-loop: the ReLU reads its own output.
    let mut g = graph(Vec::new(), "h1");
    g.node[1].input[0] = "h1".into();
    assert!(matches!(
        load_onnx(&encode(g)),
        Err(ModelError::Cyclic { .. })
    ));
    // Two-node cycle outside the path to the output: still refused.
    let a = node("Identity", "a", &["b_out"], "a_out");
    let b = node("Identity", "b", &["a_out"], "b_out");
    assert!(matches!(
        load_onnx(&encode(graph(vec![a, b], "h1"))),
        Err(ModelError::Cyclic { .. })
    ));
    // Long cycle through the main chain: the first Gemm reads the chain's end.
    let mut bytes = ModelProto::decode(identity_chain(500).as_slice()).expect("decode");
    if let Some(g) = bytes.graph.as_mut() {
        g.node[0].input[0] = "c500".into();
    }
    assert!(matches!(
        load_onnx(&bytes.encode_to_vec()),
        Err(ModelError::Cyclic { .. })
    ));
}

#[test]
fn deep_graphs_import_without_overflowing_the_stack() {
    // Just under the node limit: a long but legal chain must not recurse per node.
    let deep = identity_chain(MAX_NODES - 4);
    let model = front_end(&deep).expect("a long identity chain is still an MLP");
    assert_eq!(model.layers.len(), 2);
    // Over the limit: refused by count.
    assert!(matches!(
        load_onnx(&identity_chain(MAX_NODES)),
        Err(ModelError::TooLarge {
            what: "node count",
            ..
        })
    ));
}

#[test]
fn deeply_nested_protobuf_is_a_decode_error() {
    // 100 000 nested start-group tags (field 15, wire type 3) inside an unknown field, and
    // 100 000 nested length-delimited messages: prost's recursion limit must stop both.
    let groups = vec![0x7bu8; 100_000];
    assert!(matches!(
        load_onnx(&groups),
        Err(ModelError::BadProtobuf(_))
    ));
    let mut nested = Vec::new();
    for _ in 0..100_000 {
        // graph (7) → graph... built inside-out: tag 0x3a, then the varint length.
        let mut outer = vec![0x3a];
        let mut n = nested.len();
        while n >= 0x80 {
            outer.push((n as u8) | 0x80);
            n >>= 7;
        }
        outer.push(n as u8);
        outer.extend_from_slice(&nested);
        nested = outer;
        if nested.len() > 1 << 20 {
            break;
        }
    }
    assert!(load_onnx(&nested).is_err());
}

#[test]
fn oversized_and_inconsistent_tensors_are_refused() {
    let with_w0 = |t: TensorProto| {
        let mut g = graph(Vec::new(), "h1");
        g.initializer[0] = t;
        front_end(&encode(g))
    };
    // Claims 2^40 × 2^40 elements with no data: no allocation of that size.
    let huge = float_tensor("w0", &[1 << 40, 1 << 40], &[]);
    assert!(with_w0(huge).is_err());
    // Element count overflowing usize.
    let overflow = float_tensor("w0", &[i64::MAX, i64::MAX, 4], &[]);
    assert!(with_w0(overflow).is_err());
    // Negative and zero dims.
    assert!(with_w0(float_tensor("w0", &[-3, -2], &[1.0; 6])).is_err());
    assert!(with_w0(float_tensor("w0", &[0, 2], &[])).is_err());
    // Data length disagreeing with dims, both ways.
    assert!(with_w0(float_tensor("w0", &[3, 2], &[1.0; 5])).is_err());
    assert!(with_w0(float_tensor("w0", &[3, 2], &[1.0; 7])).is_err());
    // raw_data not a multiple of the element size, and an unknown element type.
    let mut raw = float_tensor("w0", &[3, 2], &[]);
    raw.raw_data = vec![0; 23];
    assert!(with_w0(raw).is_err());
    let mut odd = float_tensor("w0", &[3, 2], &[1.0; 6]);
    odd.data_type = 99;
    assert!(with_w0(odd).is_err());
    // Infinite weight.
    let mut inf = float_tensor("w0", &[3, 2], &[1.0; 6]);
    inf.float_data[3] = f32::INFINITY;
    assert!(matches!(with_w0(inf), Err(ModelError::NonFinite { .. })));
}

#[test]
fn malformed_structure_is_refused() {
    // Duplicate output name.
    let dup = node("Identity", "dup", &["h0"], "h1");
    assert!(load_onnx(&encode(graph(vec![dup], "h1"))).is_err());
    // A node reading a value nobody defines.
    let dangling = node("Identity", "d", &["nowhere"], "c1");
    assert!(front_end(&encode(graph(vec![dangling], "c1"))).is_err());
    // No graph inputs, no outputs, empty op type.
    let mut g = graph(Vec::new(), "h1");
    g.input.clear();
    assert!(front_end(&encode(g)).is_err());
    let mut g = graph(Vec::new(), "h1");
    g.output.clear();
    assert!(front_end(&encode(g)).is_err());
    let mut g = graph(Vec::new(), "h1");
    g.node[1].op_type.clear();
    assert!(front_end(&encode(g)).is_err());
    // Input declared with a huge or negative width.
    for width in [1 << 40, -1, 0] {
        let mut g = graph(Vec::new(), "h1");
        g.input[0] = value_info("input", &[None, Some(width)]);
        assert!(front_end(&encode(g)).is_err(), "input width {width}");
    }
    // Absurd opset numbers still import or fail cleanly.
    for version in [i64::MIN, -1, 0, 1, i64::MAX] {
        let mut m = ModelProto::decode(encode(graph(Vec::new(), "h1")).as_slice()).expect("ok");
        m.opset_import[0].version = version;
        let _ = front_end(&m.encode_to_vec());
    }
}

#[test]
fn committed_bad_fixtures_fail_as_expected() {
    let load = |name: &str| front_end(&fixture(&format!("bad/{name}")));
    assert!(matches!(
        load("self_loop.onnx"),
        Err(ModelError::Cyclic { .. })
    ));
    assert!(matches!(
        load("infinite_weight.onnx"),
        Err(ModelError::NonFinite { .. })
    ));
    assert!(load("huge_dims.onnx").is_err());
    assert!(load("identity_chain_100.onnx").is_ok());
    assert!(load("tiny_mlp.onnx").is_ok());
}

/// A few of the hostile models above, committed in `fixtures/bad/` (seeds for `fuzz/run.sh`).
#[test]
fn bad_fixtures_are_current() {
    let dir = format!("{}/../../fixtures/bad", env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut g = graph(Vec::new(), "h1");
    g.node[1].input[0] = "h1".into();
    let mut inf = graph(Vec::new(), "h1");
    inf.initializer[0].float_data[3] = f32::INFINITY;
    let mut huge = graph(Vec::new(), "h1");
    huge.initializer[0] = float_tensor("w0", &[1 << 40, 1 << 40], &[]);
    let files = [
        ("self_loop.onnx", encode(g)),
        ("infinite_weight.onnx", encode(inf)),
        ("huge_dims.onnx", encode(huge)),
        ("identity_chain_100.onnx", identity_chain(100)),
        ("tiny_mlp.onnx", encode(graph(Vec::new(), "h1"))),
    ];
    let regen = std::env::var_os("GLASSBOX_REGEN_SEEDS").is_some();
    for (name, bytes) in files {
        let path = format!("{dir}/{name}");
        if regen {
            std::fs::write(&path, bytes).expect("write");
        } else {
            let committed = std::fs::read(&path).expect("committed fixture");
            assert_eq!(
                committed, bytes,
                "{name} is stale; rerun with GLASSBOX_REGEN_SEEDS=1"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Input JSON

#[test]
fn input_json_edge_cases() {
    let json_err = |t: &str| matches!(parse_input_json(t, None), Err(ModelError::InputJson(_)));
    // Deep nesting hits serde_json's recursion limit, not the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(json_err(&deep));
    let deep_obj = format!(
        r#"{{"input_data": {}1{}}}"#,
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    assert!(json_err(&deep_obj));
    // Out-of-range and non-finite numbers.
    assert!(json_err(r#"{"input_data": [[1e39]]}"#));
    assert!(json_err(r#"{"input_data": [[-1e39]]}"#));
    assert!(json_err(r#"{"input_data": [[1e400]]}"#));
    assert!(json_err(r#"{"input_data": [[NaN]]}"#));
    assert!(json_err(r#"{"input_data": [[Infinity]]}"#));
    // Largest f32, integers beyond f64 precision, negative zero, subnormal underflow: accepted.
    let ok = parse_input_json(
        r#"{"input_data": [[3.4028234e38, 18446744073709551615, -0.0, 1e-50]]}"#,
        Some(4),
    )
    .expect("finite values");
    assert_eq!(ok[0][0], f32::MAX);
    assert_eq!(ok[0][3], 0.0);
    // A nested sample (numpy's `X.tolist()` of an N×C×H×W batch) is read in row-major order.
    assert_eq!(
        parse_input_json(r#"{"input_data": [[[1]]]}"#, Some(1)).expect("nested"),
        vec![vec![1.0]]
    );
    // Wrong shapes.
    assert!(json_err(r#"{"input_data": {"0": [1]}}"#));
    assert!(json_err(r#"{"input_data": null}"#));
    assert!(json_err(r#"{"input_data": [[1]], }"#));
    assert!(json_err(""));
    assert!(json_err("\u{feff}{\"input_data\": [[1]]}"));
    assert!(matches!(
        parse_input_json(r#"{"input_data": [[]]}"#, Some(64)),
        Err(ModelError::InputLength {
            expected: 64,
            got: 0
        })
    ));
    // Duplicate keys: serde_json keeps the last one.
    let dup = parse_input_json(r#"{"input_data": [[1]], "input_data": [[2, 3]]}"#, None)
        .expect("duplicate keys");
    assert_eq!(dup, vec![vec![2.0, 3.0]]);
    // Extra keys are ignored.
    assert!(parse_input_json(r#"{"input_data": [[1]], "output_data": [[0]]}"#, Some(1)).is_ok());
}

#[test]
fn random_json_never_panics() {
    let mut rng = Rng(7);
    let alphabet = br#"{}[]",:0123456789.eE+- input_datatrufalsn\"#;
    for _ in 0..20_000 {
        let len = rng.below(64);
        let mut s: Vec<u8> = b"{\"input_data\": [[".to_vec();
        s.extend((0..len).map(|_| alphabet[rng.below(alphabet.len())]));
        let text = String::from_utf8_lossy(&s);
        let _ = parse_input_json(&text, None);
        let _ = parse_input_json(&text, Some(3));
    }
}
