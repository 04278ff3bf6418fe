//! glassbox: STARK proofs that a committed, quantized ML model produced given outputs from given
//! inputs. Transparent (no trusted setup), hash-based, with batch proving built in.
//!
//! This facade re-exports the pieces of the pipeline:
//! `ONNX → glassbox_model (import, quantize) → Program (compile, digest) → prove → verify`,
//! and owns the files a bundle is stored in, which the `glassbox` command and the Python package
//! share: [`files`] (atomic writes, proof file names), [`manifest`] (`PROOF.bundle.json`) and
//! [`shard`] (one bundle proven by several machines, then merged).
//!
//! # Usage
//! ```
//! use glassbox::{model, Program, SecurityLevel};
//! let onnx = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mlp_64_32_10.onnx")).unwrap();
//! let (quantized, _report) = model::compile_onnx(&onnx, None).unwrap();
//! let program = Program::compile(&quantized).unwrap();
//! let input = quantized.quantize_input(&[0.5; 64]).unwrap();
//! let proof = glassbox::prove(&program, &[input], SecurityLevel::Bits100).unwrap();
//! let claim = glassbox::verify(&proof.to_bytes(), &program.digest(), 100).unwrap();
//! assert_eq!(claim.outputs, proof.public.outputs);
//! ```

mod compile;
pub mod files;
pub mod manifest;
pub mod shard;

pub use compile::{compile, CompileModelError, Compiled};
pub use glassbox_air::{ModelDescriptor, ModelDigest, ProofEnvelope, PublicInputs, SecurityLevel};
pub use glassbox_model as model;
pub use glassbox_prover::{prove, prove_bundle, BundlePlan, ProveError, Shard};
pub use glassbox_trace::{CompileError, Program};
pub use glassbox_verifier::{verify, verify_bundle, BundleClaim, BundleError, Claim, VerifyError};
