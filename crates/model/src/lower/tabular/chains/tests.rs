//! The folded conditions against the chains they fold, at every cut and around it; the trace of
//! a small graph against the float executor.

use super::*;
use crate::ir::graph::{Graph, Node, Op, Operand, Tensor};
use crate::lower::tabular::per_feature::trace;

const MODES: [BranchMode; 6] = [
    BranchMode::Leq,
    BranchMode::Lt,
    BranchMode::Gte,
    BranchMode::Gt,
    BranchMode::Eq,
    BranchMode::Neq,
];

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A finite `f32` of any magnitude (half the time a modest one).
    fn value(&mut self) -> f32 {
        let r = self.next();
        let v = match r % 2 {
            0 => f32::from_bits((r >> 32) as u32),
            _ => ((r >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 20.0,
        };
        if v.is_finite() {
            v
        } else {
            1.0
        }
    }
}

/// Every cut of `c`, one and two ulps either side, the extremes and both zeros.
fn probes(c: &Condition) -> Vec<f32> {
    let mut out = vec![-f32::MAX, f32::MAX, 0.0, -0.0, 1.0, -1.0];
    for (_, v) in c.cuts() {
        for d in -2..=2 {
            let k = key(v) + d;
            if (key(-f32::MAX)..=key(f32::MAX)).contains(&k) {
                out.push(from_key(k));
            }
        }
    }
    out
}

/// The condition of `steps` agrees with the chain at every probe and at `extra`.
fn check(steps: &[Step], t: f32, extra: &[f32]) {
    let f = Feature::Chain {
        input: 0,
        steps: steps.to_vec(),
    };
    for mode in MODES {
        let c = f.condition(mode, t);
        for x in probes(&c).into_iter().chain(extra.iter().copied()) {
            assert_eq!(
                c.holds(x),
                mode.goes_true(run(steps, x), t),
                "{steps:?} {mode:?} {t} at x = {x:e} ({c:?})"
            );
        }
    }
}

#[test]
fn the_order_of_finite_floats_has_no_gaps() {
    for x in [
        -f32::MAX,
        -1.0,
        -f32::MIN_POSITIVE,
        -0.0,
        0.0,
        1e-45,
        1.0,
        f32::MAX,
    ] {
        assert_eq!(from_key(key(x)).to_bits(), x.to_bits());
    }
    assert_eq!(key(0.0) - key(-0.0), 1);
    assert_eq!(from_key(key(0.0) + 1), 1e-45);
    assert_eq!(from_key(key(-0.0) - 1), -1e-45);
    assert_eq!(first(|x| x >= 2.5), Some(2.5));
    assert_eq!(last(|x| x < 2.5), Some(2.4999998));
    assert_eq!(first(|_| false), None);
    assert_eq!(last(|_| true), Some(f32::MAX));
}

#[test]
fn scalers_fold_exactly_at_every_boundary() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..400 {
        let (o, s, t) = (rng.value(), rng.value(), rng.value());
        let extra: Vec<f32> = (0..8).map(|_| rng.value()).collect();
        check(&[Step::Sub(o), Step::Mul(s)], t, &extra);
        check(&[Step::SubFrom(o), Step::Div(s)], t, &extra);
        check(&[Step::Mul(s), Step::Add(o), Step::Mul(-0.5)], t, &extra);
    }
}

#[test]
fn a_negative_scale_flips_the_comparison() {
    // z = (x − 1)·(−2) <= 4 is x >= −1 over the reals, but in f32 x = −1 − 2^-23 also holds:
    // x − 1 = −2 − 2^-23 is a tie between −2 and the next f32 and rounds to the even −2, so the
    // raw cut is one ulp below the naive −1
    let f = Feature::Chain {
        input: 2,
        steps: vec![Step::Sub(1.0), Step::Mul(-2.0)],
    };
    let below = from_key(key(-1.0) - 1);
    assert_eq!(below, -1.0 - f32::EPSILON);
    assert_eq!((below - 1.0) * -2.0, 4.0);
    assert_eq!(
        f.condition(BranchMode::Leq, 4.0),
        Condition::at_least(2, Some(below))
    );
    // z = (x − 1)·0.1 <= 0.3 holds up to the f32 x whose product rounds to at most 0.3f32
    let g = Feature::Chain {
        input: 0,
        steps: vec![Step::Sub(1.0), Step::Mul(0.1)],
    };
    let Condition::Range { hi: Some(hi), .. } = g.condition(BranchMode::Leq, 0.3) else {
        panic!("a range");
    };
    assert!((hi.value - 1.0) * 0.1 <= 0.3);
    assert!((from_key(key(hi.value) + 1) - 1.0) * 0.1 > 0.3);
}

#[test]
fn a_zero_scale_decides_the_branch_or_leaves_the_overflow_band() {
    // (x − 5)·0 = 0 for every finite x: decided once, both ways
    let z = Feature::Chain {
        input: 0,
        steps: vec![Step::Sub(5.0), Step::Mul(0.0)],
    };
    assert_eq!(z.condition(BranchMode::Leq, 0.5), Condition::Always(true));
    assert_eq!(z.condition(BranchMode::Gt, 0.5), Condition::Always(false));
    // (x + 3e38)·0 is NaN where x + 3e38 overflows: a band of raw values, either way
    let band = [Step::Add(3e38), Step::Mul(0.0), Step::Add(1.0)];
    check(&band, 2.0, &[1e38, 3e38, f32::MAX]);
    let c = Feature::Chain {
        input: 0,
        steps: band.to_vec(),
    };
    assert!(matches!(
        c.condition(BranchMode::Leq, 2.0),
        Condition::Range {
            lo: None,
            hi: Some(_),
            outside: false,
            ..
        }
    ));
    assert!(matches!(
        c.condition(BranchMode::Neq, 2.0),
        Condition::Always(true)
    ));
}

#[test]
fn the_trace_follows_the_float_graph() {
    // z = [(x2 − 1)·2, 7, 3 − x0, (3 − x1) / 4] through Scaler, Select, Sub, Concat and Div
    let g = Graph {
        name: "t".into(),
        input_name: "x".into(),
        input_shape: vec![1, 3],
        input_len: 3,
        constants: vec![
            Tensor::new(vec![1], vec![3.0]).unwrap_or_else(|_| unreachable!()),
            Tensor::new(vec![1, 1], vec![7.0]).unwrap_or_else(|_| unreachable!()),
            Tensor::new(vec![1, 4], vec![1.0, 1.0, 1.0, 4.0]).unwrap_or_else(|_| unreachable!()),
        ],
        nodes: vec![
            node(
                Op::Scaler {
                    offset: vec![0.0, 0.0, 1.0],
                    scale: vec![1.0, 1.0, 2.0],
                },
                vec![Operand::Value(0)],
            ),
            node(
                Op::SelectFeatures { indices: vec![2] },
                vec![Operand::Value(1)],
            ),
            node(Op::Sub, vec![Operand::Const(0), Operand::Value(0)]),
            node(
                Op::SelectFeatures {
                    indices: vec![0, 1],
                },
                vec![Operand::Value(3)],
            ),
            node(
                Op::Concat { axis: -1 },
                vec![Operand::Value(2), Operand::Const(1), Operand::Value(4)],
            ),
            node(Op::Div, vec![Operand::Value(5), Operand::Const(2)]),
        ],
        output_name: "y".into(),
        output: 6,
        logits: 6,
        classifier: false,
        binary_head: false,
    };
    let features = trace(&g, 6).ok().flatten().unwrap_or_default();
    assert_eq!(features.len(), 4);
    assert_eq!(features[1], Feature::Const(7.0));
    for x in [[0.5f32, -2.0, 3.25], [1e6, 0.1, -7.0]] {
        let want = g.run_value(&x, 6).unwrap_or_default();
        let got: Vec<f32> = features.iter().map(|f| f.eval(&x)).collect();
        assert_eq!(got, want);
    }
    // a feature minus another mixes them: not per feature
    let mut mixed = g.clone();
    mixed.nodes[2].inputs = vec![Operand::Value(1), Operand::Value(0)];
    assert_eq!(trace(&mixed, 6).ok(), Some(None));
}

fn node(op: Op, inputs: Vec<Operand>) -> Node {
    Node {
        name: format!("{op:?}"),
        op_type: op.name().into(),
        op,
        inputs,
    }
}
