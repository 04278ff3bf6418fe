//! Lowering tests: skips, LeakyRelu and pools lower to the same function as the float graph.

use super::lower_graph;
use super::recognition::float_stages;
use super::stages::forward;
use crate::error::ModelError;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};

fn graph(input_shape: Vec<usize>, nodes: Vec<Node>, constants: Vec<Tensor>) -> Graph {
    let input_len = input_shape.iter().product();
    let n = nodes.len();
    Graph {
        name: "t".into(),
        input_name: "x".into(),
        input_shape,
        input_len,
        constants,
        nodes,
        output_name: "y".into(),
        output: n,
        logits: n,
        classifier: false,
        binary_head: false,
    }
}

fn conv(weight: usize) -> Node {
    Node {
        name: "c".into(),
        op_type: "Conv".into(),
        op: Op::Conv {
            strides: [1, 1],
            pads: [1, 1, 1, 1],
        },
        inputs: vec![Operand::Value(0), Operand::Const(weight)],
    }
}

#[test]
fn oversized_convolutions_are_refused_before_allocating() {
    let w = Tensor::new(vec![8, 1, 3, 3], vec![0.5; 72]).unwrap();
    // 512×512 input: 262,144 values, beyond the proof's layer width
    let g = graph(vec![1, 1, 512, 512], vec![conv(0)], vec![w.clone()]);
    assert!(matches!(
        lower_graph(&g, None),
        Err(ModelError::TooLarge { .. })
    ));
    // 128×128 input fits, but 8 output channels make 131,072 outputs
    let g = graph(vec![1, 1, 128, 128], vec![conv(0)], vec![w]);
    assert!(matches!(
        lower_graph(&g, None),
        Err(ModelError::Unsupported { .. })
    ));
}

fn node(op: Op, inputs: &[Operand]) -> Node {
    Node {
        name: op.name().into(),
        op_type: op.name().into(),
        op,
        inputs: inputs.to_vec(),
    }
}

/// `Conv(3×3, pad 1)` of value `x` with weight and bias constants `w` and `w + 1`.
fn conv_node(x: usize, w: usize) -> Node {
    let op = Op::Conv {
        strides: [1, 1],
        pads: [1, 1, 1, 1],
    };
    node(
        op,
        &[Operand::Value(x), Operand::Const(w), Operand::Const(w + 1)],
    )
}

/// `Gemm(x, W, b)` with `transB = 1`, `W` and `b` the constants `w` and `w + 1`.
fn gemm_node(x: usize, w: usize) -> Node {
    let op = Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b: true,
    };
    node(
        op,
        &[Operand::Value(x), Operand::Const(w), Operand::Const(w + 1)],
    )
}

/// Seeded weights in `[-0.5, 0.5)`.
fn tensor(shape: Vec<usize>, seed: u64) -> Tensor {
    let n = shape.iter().product();
    let mut x = seed;
    let data = (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    Tensor::new(shape, data).unwrap()
}

/// The lowered float stages must compute exactly what the graph computes.
fn assert_stages_match(g: &Graph) {
    let stages = float_stages(g).unwrap();
    for seed in 0..5 {
        let x: Vec<f32> = tensor(vec![g.input_len], 100 + seed).data;
        let want = g.run_f32(&x).unwrap();
        let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let got = forward(&stages, &xs).pop().unwrap();
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!((a - f64::from(*b)).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn skips_and_leaky_relu_lower_to_the_same_function() {
    use Operand::Value;
    let consts = vec![
        tensor(vec![2, 1, 3, 3], 1),
        tensor(vec![2], 2),
        tensor(vec![1, 2, 3, 3], 3),
        tensor(vec![1], 4),
        tensor(vec![3, 16], 5),
        tensor(vec![3], 6),
        tensor(vec![2, 3], 7),
        tensor(vec![2], 8),
    ];
    // x (signed) → Conv → Relu → Conv → Add(x) → Relu → [Add(v3)] → Flatten → Gemm →
    // LeakyRelu → Gemm: a skip carried through two layers as two ReLU halves, one folded
    // before an activation, one Add after an activation, and a LeakyRelu split.
    let nodes = vec![
        conv_node(0, 0),                      // v1
        node(Op::Relu, &[Value(1)]),          // v2
        conv_node(2, 2),                      // v3
        node(Op::Add, &[Value(0), Value(3)]), // v4 = x + v3
        node(Op::Relu, &[Value(4)]),          // v5
        node(Op::Add, &[Value(5), Value(5)]), // refused: x + x
    ];
    let g = graph(vec![1, 1, 4, 4], nodes.clone(), consts.clone());
    assert!(matches!(
        float_stages(&g),
        Err(ModelError::Unsupported { .. })
    ));
    let mut nodes = nodes;
    nodes.pop();
    nodes.extend([
        node(Op::Flatten { axis: 1 }, &[Value(5)]),      // v6
        gemm_node(6, 4),                                 // v7
        node(Op::LeakyRelu { alpha: 0.1 }, &[Value(7)]), // v8
        gemm_node(8, 6),                                 // v9
    ]);
    assert_stages_match(&graph(vec![1, 1, 4, 4], nodes, consts.clone()));

    // an Add after the activation: v2 + relu(conv(v2)), both non-negative
    let nodes = vec![
        conv_node(0, 0),                            // v1
        node(Op::Relu, &[Value(1)]),                // v2
        conv_node(2, 8),                            // v3
        node(Op::Relu, &[Value(3)]),                // v4
        node(Op::Add, &[Value(4), Value(2)]),       // v5
        node(Op::Flatten { axis: 1 }, &[Value(5)]), // v6
        gemm_node(6, 10),                           // v7
    ];
    let mut c2 = consts;
    c2.extend([
        tensor(vec![2, 2, 3, 3], 9),
        tensor(vec![2], 10),
        tensor(vec![2, 32], 11),
        tensor(vec![2], 12),
    ]);
    assert_stages_match(&graph(vec![1, 1, 4, 4], nodes, c2));
}

/// `x → Conv(2 channels, 3×3, pad 1) → Relu → pool → Flatten → Gemm(→ 3)` on a 5×5 input.
fn pooled_graph(pool_op: Op, pooled: usize) -> Graph {
    let nodes = vec![
        conv_node(0, 0),
        node(Op::Relu, &[Operand::Value(1)]),
        node(pool_op, &[Operand::Value(2)]),
        node(Op::Flatten { axis: 1 }, &[Operand::Value(3)]),
        gemm_node(4, 2),
    ];
    let consts = vec![
        tensor(vec![2, 1, 3, 3], 21),
        tensor(vec![2], 22),
        tensor(vec![3, pooled], 23),
        tensor(vec![3], 24),
    ];
    graph(vec![1, 1, 5, 5], nodes, consts)
}

#[test]
fn overlapping_padded_and_odd_pools_lower_to_the_same_function() {
    let max = Op::MaxPool {
        kernel: [3, 3],
        strides: [2, 2],
        pads: [1, 1, 1, 1],
    };
    let avg = |count_include_pad| Op::AveragePool {
        kernel: [3, 3],
        strides: [1, 1],
        pads: [1, 1, 1, 1],
        count_include_pad,
    };
    // 3×3 windows every 2 with padding: 3×3 outputs per channel
    assert_stages_match(&pooled_graph(max, 18));
    assert_stages_match(&pooled_graph(avg(true), 50));
    assert_stages_match(&pooled_graph(Op::GlobalAveragePool, 2));
    // a divisor per window cannot be one multiplier
    assert!(matches!(
        float_stages(&pooled_graph(avg(false), 50)),
        Err(ModelError::Unsupported { .. })
    ));
}

#[test]
fn an_overlapping_max_pool_is_exact_in_integers() {
    let g = pooled_graph(
        Op::MaxPool {
            kernel: [3, 3],
            strides: [2, 2],
            pads: [1, 1, 1, 1],
        },
        18,
    );
    let calib: Vec<Vec<f32>> = (0..8).map(|s| tensor(vec![25], 50 + s).data).collect();
    let (q, _) = lower_graph(&g, Some(&calib)).unwrap().unwrap();
    // conv, the pair layer, three halvings (16 → 8 → 4 → 2 per window), Gemm
    assert_eq!(q.layers.len(), 6);
    let xs: Vec<Vec<i64>> = calib.iter().map(|x| q.quantize_input(x).unwrap()).collect();
    for exec in q.run(&xs).unwrap() {
        let windows = &exec.layers[1].input; // ReLU'd conv outputs, 16 per window
        let pooled = &exec.layers[5].input; // one pair per window, summing to its maximum
        assert_eq!(windows.len(), 18 * 16);
        for (w, win) in windows.chunks(16).enumerate() {
            let max = win.iter().copied().max().unwrap();
            assert_eq!(pooled[2 * w] + pooled[2 * w + 1], max, "window {w}");
        }
    }
}
