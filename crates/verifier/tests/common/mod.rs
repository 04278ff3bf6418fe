//! A tiny synthetic model and one honest proof of it, shared by the verifier's integration tests.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::OnceLock;

use glassbox_air::{ModelDigest, ProofEnvelope, SecurityLevel};
use glassbox_model::{QuantizedDense, QuantizedModel};
use glassbox_trace::Program;

/// Small deterministic PRNG (64-bit LCG, high bits).
pub struct Lcg(pub u64);

impl Lcg {
    /// Next pseudo-random 31-bit value.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// Next value in `lo..hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }
}

/// A dense int8 MLP of the given widths, as in `crates/prover/tests/synthetic.rs`.
pub fn model(shape: &[usize], seed: u64) -> QuantizedModel {
    let mut rng = Lcg(seed);
    let layers = shape
        .windows(2)
        .enumerate()
        .map(|(l, w)| QuantizedDense {
            n_in: w[0],
            n_out: w[1],
            weights: (0..w[0] * w[1])
                .map(|_| rng.range(-128, 128) as i8)
                .collect(),
            bias: (0..w[1]).map(|_| rng.range(-1000, 1000)).collect(),
            multiplier: (l + 2 < shape.len()).then_some(300),
            groups: 1,
            conv: None,
        })
        .collect();
    QuantizedModel {
        name: "synthetic".into(),
        input_len: shape[0],
        input_scale: 1.0 / 127.0,
        input_encoding: glassbox_model::InputEncoding::Symmetric,
        layers,
        output_scale: 1e-4,
        classifier: true,
        proof_batch: None,
    }
}

/// `n` int8 input vectors of length `len`.
pub fn inputs(n: usize, len: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|_| (0..len).map(|_| rng.range(-128, 128)).collect())
        .collect()
}

/// One honest proof of a `[8, 16, 4]` model on two samples.
pub struct Honest {
    /// The model the proof is about.
    pub model: QuantizedModel,
    /// Its compiled program.
    pub program: Program,
    /// The proven inputs.
    pub inputs: Vec<Vec<i64>>,
    /// The proof file.
    pub bytes: Vec<u8>,
    /// The published digest.
    pub digest: ModelDigest,
    /// Where the winterfell proof bytes start inside `bytes`.
    pub stark_offset: usize,
    /// Where they end (the weight opening follows).
    pub stark_end: usize,
}

/// The honest proof, generated once per test binary (about 50 ms).
pub fn honest() -> &'static Honest {
    static HONEST: OnceLock<Honest> = OnceLock::new();
    HONEST.get_or_init(|| {
        let model = model(&[8, 16, 4], 7);
        let program = Program::compile(&model).expect("compile");
        let inputs = inputs(2, 8, 9);
        let env = glassbox_prover::prove(&program, &inputs, SecurityLevel::Bits100).expect("prove");
        let bytes = env.to_bytes();
        let stark_end = bytes.len() - env.weight_opening.encoded_len();
        let stark_offset = stark_end - env.proof.len();
        assert_eq!(&bytes[stark_offset..stark_end], &env.proof[..]);
        Honest {
            digest: program.digest(),
            model,
            program,
            inputs,
            bytes,
            stark_offset,
            stark_end,
        }
    })
}

/// The honest envelope, decoded.
pub fn envelope() -> ProofEnvelope {
    ProofEnvelope::from_bytes(&honest().bytes).expect("honest envelope decodes")
}
