//! A tiny synthetic model and one honest proof of it, shared by the verifier's integration tests.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::OnceLock;

use glassbox_air::{ModelDigest, ProofEnvelope, SecurityLevel};
use glassbox_model::QuantizedModel;
use glassbox_trace::Program;

#[allow(unused_imports)] // each test binary uses a different part
pub use glassbox_testkit::{inputs, model, Lcg};

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
