//! Patch-path tests: strided, unpooled and average-pooled chains on images whose sides are not
//! powers of two lower to patch layers that compute what the float graph computes.

use super::patch_stages;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::convnet::lower_graph;
use crate::lower::convnet::stages::{forward, Stage};

/// Seeded values in `[-0.5, 0.5)`.
fn tensor(shape: Vec<usize>, seed: u64) -> Tensor {
    let n = shape.iter().product();
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
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

/// A graph under construction: each node reads the previous value.
struct Net {
    nodes: Vec<Node>,
    consts: Vec<Tensor>,
}

impl Net {
    fn push(&mut self, op: Op, consts: Vec<Tensor>) -> &mut Self {
        let k = self.nodes.len();
        let mut inputs = vec![Operand::Value(k)];
        for t in consts {
            inputs.push(Operand::Const(self.consts.len()));
            self.consts.push(t);
        }
        self.nodes.push(Node {
            name: format!("n{k}"),
            op_type: op.name().into(),
            op,
            inputs,
        });
        self
    }

    /// `Conv(c → m, k×k, stride, pad)` and its Relu.
    fn conv(&mut self, c: usize, m: usize, k: usize, stride: usize, pads: [usize; 4]) -> &mut Self {
        let seed = self.consts.len() as u64;
        let op = Op::Conv {
            strides: [stride; 2],
            pads,
        };
        self.push(
            op,
            vec![tensor(vec![m, c, k, k], seed), tensor(vec![m], seed + 1)],
        )
        .push(Op::Relu, vec![])
    }

    /// A residual block over `c` channels: `Conv → Relu` `depth − 1` times, then `Conv → Add(s)
    /// → Relu` (3×3, pad 1), `s` the block's input.
    fn block(&mut self, c: usize, depth: usize) -> &mut Self {
        let source = self.nodes.len();
        for _ in 1..depth {
            self.conv(c, c, 3, 1, [1; 4]);
        }
        self.conv(c, c, 3, 1, [1; 4]);
        // the last convolution's Relu comes after the Add
        let relu = self.nodes.pop().unwrap();
        self.push(Op::Add, vec![]);
        let add = self.nodes.last_mut().unwrap();
        add.inputs.push(Operand::Value(source));
        self.nodes.push(Node {
            name: format!("n{}", self.nodes.len()),
            inputs: vec![Operand::Value(self.nodes.len())],
            ..relu
        });
        self
    }

    fn pool(&mut self, max: bool) -> &mut Self {
        let op = if max {
            Op::MaxPool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0; 4],
            }
        } else {
            Op::AveragePool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0; 4],
                count_include_pad: false,
            }
        };
        self.push(op, vec![])
    }

    /// Flatten and `Gemm(n → 3)`.
    fn head(&mut self, n: usize) -> &mut Self {
        let seed = self.consts.len() as u64;
        let gemm = Op::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
        };
        self.push(Op::Flatten { axis: 1 }, vec![]).push(
            gemm,
            vec![tensor(vec![3, n], seed), tensor(vec![3], seed + 1)],
        )
    }

    fn graph(&self, input_shape: Vec<usize>) -> Graph {
        let n = self.nodes.len();
        Graph {
            name: "t".into(),
            input_name: "x".into(),
            input_len: input_shape.iter().product(),
            input_shape,
            constants: self.consts.clone(),
            nodes: self.nodes.clone(),
            output_name: "y".into(),
            output: n,
            logits: n,
            classifier: false,
            binary_head: false,
        }
    }
}

fn net() -> Net {
    Net {
        nodes: Vec::new(),
        consts: Vec::new(),
    }
}

/// `n` seeded inputs of `len` values in `[0, 1)` (seeds from `seed` on).
fn samples(n: u64, len: usize, seed: u64) -> Vec<Vec<f32>> {
    (0..n)
        .map(|s| {
            tensor(vec![len], seed + s)
                .data
                .iter()
                .map(|v| v + 0.5)
                .collect()
        })
        .collect()
}

/// Lowers `g` to patch stages, checks them against the float graph on seeded inputs in
/// `[0, 1)`, and returns them.
fn assert_patch_path(g: &Graph) -> Vec<Stage> {
    let stages = patch_stages(g).unwrap().expect("a patch-path chain");
    for x in samples(4, g.input_len, 900) {
        let want = g.run_f32(&x).unwrap();
        let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let got = forward(&stages, &xs).pop().unwrap();
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert!((a - f64::from(*b)).abs() < 1e-4, "{a} vs {b}");
        }
    }
    stages
}

fn patches(stages: &[Stage]) -> usize {
    stages
        .iter()
        .filter(|s| matches!(s, Stage::Patch(_)))
        .count()
}

#[test]
fn stride_two_convolutions_and_a_global_average_pool_are_patch_layers() {
    // 13×13 → 7×7 → 4×4, then the mean of each of 4 channels
    let mut n = net();
    n.conv(1, 3, 3, 2, [1; 4])
        .conv(3, 4, 3, 2, [1; 4])
        .push(Op::GlobalAveragePool, vec![])
        .head(4);
    let stages = assert_patch_path(&n.graph(vec![1, 1, 13, 13]));
    assert_eq!(patches(&stages), 2);
    // a 7×7 kernel, stride 2, uneven padding, on two channels of 9×10
    let mut n = net();
    n.conv(2, 3, 7, 2, [3, 2, 1, 3]).head(3 * 4 * 5);
    assert_patch_path(&n.graph(vec![1, 2, 9, 10]));
}

#[test]
fn unpooled_and_average_pooled_convolutions_are_patch_layers() {
    // 14×14 → conv 5×5 pad 2 → avg pool → 7×7 → conv pad 1 → conv pad 0 (5×5) → max pool → 2×2
    let mut n = net();
    n.conv(1, 2, 5, 1, [2; 4])
        .pool(false)
        .conv(2, 3, 3, 1, [1; 4])
        .conv(3, 2, 3, 1, [0; 4])
        .pool(true)
        .head(2 * 2 * 2);
    let g = n.graph(vec![1, 1, 14, 14]);
    let stages = assert_patch_path(&g);
    assert_eq!(patches(&stages), 3);
    // the unpooled convolution's spare cells are not cleared: the next one has no padding, so
    // its outputs inside the image read only the image
    let masks = |stages: &[Stage]| {
        stages
            .iter()
            .filter(|s| matches!(s, Stage::AvgPool { size: 1, .. }))
            .count()
    };
    assert_eq!(masks(&stages), 0);
    // with padding they are cleared before it reads them, and after the pool unit's max pool
    // too, before a padded convolution
    let mut n = net();
    n.conv(1, 2, 5, 1, [2; 4])
        .pool(false)
        .conv(2, 3, 3, 1, [1; 4])
        .conv(3, 2, 3, 1, [1; 4])
        .pool(true)
        .conv(2, 2, 3, 1, [1; 4])
        .head(2 * 3 * 3);
    let padded_graph = n.graph(vec![1, 1, 14, 14]);
    let padded = assert_patch_path(&padded_graph);
    // by the convolutions themselves (their biases), not by mask layers
    assert_eq!(masks(&padded), 0);
    let cleared = padded
        .iter()
        .filter(|s| matches!(s, Stage::Patch(p) if p.clear.is_some()))
        .count();
    assert_eq!(cleared, 2);
    // and the quantized model keeps them as patch layers
    let calib = samples(4, 196, 40);
    let (q, _) = lower_graph(&g, Some(&calib)).unwrap().unwrap();
    assert_eq!(q.layers.iter().filter(|l| l.patch.is_some()).count(), 3);
    // the padded chain quantizes without mask layers (one input per group): four patch layers,
    // the average pool and the head, and the integer model's labels are the float model's on
    // the calibration samples
    let (q, report) = lower_graph(&padded_graph, Some(&calib)).unwrap().unwrap();
    assert_eq!(q.layers.len(), 6);
    assert_eq!(q.layers.iter().filter(|l| l.patch.is_some()).count(), 4);
    assert!(!q.layers.iter().any(|l| l.groups > 1 && l.groups == l.n_in));
    let report = report.unwrap();
    assert!(report.argmax_agreement >= 0.75, "{report:?}");
    // a convolution straight into the head, on a box grown for the second one's padding
    let mut n = net();
    n.conv(1, 2, 3, 1, [0; 4])
        .conv(2, 2, 3, 1, [5; 4])
        .head(2 * 12 * 12);
    assert_patch_path(&n.graph(vec![1, 1, 6, 6]));
}

#[test]
fn stride_two_convolutions_after_a_layer_read_its_phase_planes() {
    // conv → stride 2 (phases after a mask) → max pool → stride 2 (phases after the pool)
    let mut n = net();
    n.conv(1, 2, 3, 1, [1; 4])
        .conv(2, 3, 5, 2, [2, 1, 2, 2])
        .pool(true)
        .conv(3, 2, 3, 2, [1; 4])
        .head(2 * 2);
    let stages = assert_patch_path(&n.graph(vec![1, 1, 13, 11]));
    // no stride-1 correlation is subsampled: the phase layers write half boxes directly
    assert!(!stages
        .iter()
        .any(|s| matches!(s, Stage::AvgPool { mask, size: 4, .. } if mask[1] == 0.0)));
    let planes: Vec<usize> = stages
        .iter()
        .filter_map(|s| match s {
            Stage::Patch(p) => Some(p.planes),
            _ => None,
        })
        .collect();
    assert_eq!(planes, [1, 8, 12]);
}

#[test]
fn a_pool_after_a_stride_two_convolution_of_the_input_is_left_to_the_general_lowering() {
    let mut n = net();
    n.conv(1, 2, 3, 2, [1; 4]).pool(true).head(2 * 3 * 3);
    assert!(patch_stages(&n.graph(vec![1, 1, 13, 13]))
        .unwrap()
        .is_none());
}

#[test]
fn identity_skips_ride_along_as_carried_planes() {
    // 10×10: conv → [block of 1, 2 or 3 convolutions] → pool → [one-convolution block] → head
    for depth in [1, 2, 3] {
        let mut n = net();
        n.conv(1, 2, 3, 1, [1; 4])
            .block(2, depth)
            .pool(true)
            .block(2, 1)
            .head(2 * 5 * 5);
        let stages = assert_patch_path(&n.graph(vec![1, 1, 10, 10]));
        let out: Vec<usize> = stages
            .iter()
            .filter_map(|s| match s {
                Stage::Patch(p) => Some(p.out_channels),
                _ => None,
            })
            .collect();
        // the carrying convolutions write the skip's two planes beside their own two
        let mut want = vec![2];
        want.extend(std::iter::repeat_n(4, depth - 1));
        want.extend([2, 2]);
        assert_eq!(out, want, "depth {depth}");
    }
    // and the quantized model keeps the labels of the float one
    let mut n = net();
    n.conv(1, 3, 5, 1, [2; 4])
        .pool(true)
        .block(3, 2)
        .pool(true)
        .head(3 * 3 * 3);
    let g = n.graph(vec![1, 1, 13, 13]);
    assert_patch_path(&g);
    let calib = samples(8, 169, 70);
    let (q, report) = lower_graph(&g, Some(&calib)).unwrap().unwrap();
    assert_eq!(q.layers.iter().filter(|l| l.patch.is_some()).count(), 3);
    assert!(report.unwrap().argmax_agreement >= 0.75);
}

#[test]
fn skips_the_patch_path_cannot_carry_are_left_to_the_general_lowering() {
    // a pool inside the block
    let mut n = net();
    n.conv(1, 2, 3, 1, [1; 4]).block(2, 2);
    let relu = 4;
    n.nodes.insert(
        relu,
        Node {
            name: "pool".into(),
            op_type: "MaxPool".into(),
            op: Op::MaxPool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0; 4],
            },
            inputs: vec![Operand::Value(relu)],
        },
    );
    for (k, node) in n.nodes.iter_mut().enumerate().skip(relu + 1) {
        for o in &mut node.inputs {
            // values from the pool on move up by one
            match o {
                Operand::Value(v) if *v >= relu && *v < k => *v += 1,
                _ => {}
            }
        }
    }
    n.head(2 * 5 * 5);
    assert!(patch_stages(&n.graph(vec![1, 1, 10, 10]))
        .unwrap()
        .is_none());
    // a skip from the model's input (it may be negative)
    let mut n = net();
    n.block(1, 2).head(10 * 10);
    assert!(patch_stages(&n.graph(vec![1, 1, 10, 10]))
        .unwrap()
        .is_none());
}
