//! Verifies glassbox proofs offline, holding only the model digest.
//!
//! Depends on `glassbox-air` and `winter-verifier` only: no model import, no ndarray, no rayon,
//! no prover.
//!
//! # Usage
//! ```no_run
//! use glassbox_air::ModelDigest;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let published_hex = "67c095d35a5d2bf7d3f931f03aa4b6e9a28d1223015b84692718b4d8245138f9";
//! let digest = ModelDigest::from_hex(published_hex).ok_or("malformed digest")?;
//! let proof_bytes = std::fs::read("proof.gbp")?;
//! let claim = glassbox_verifier::verify(&proof_bytes, &digest, 100)?;
//! println!("{} samples, labels {:?}", claim.inputs.len(), claim.labels());
//! # Ok(())
//! # }
//! ```
//!
//! # What is checked, in order
//! 1. The file is at most 8 MiB and is a well-formed envelope (every length checked before
//!    allocation, no trailing bytes).
//! 2. The claimed preset reaches `min_security_bits`.
//! 3. The statement is well-formed (shapes, int8 inputs, output bounds) and fits the model's
//!    layout, and the descriptor and weight root hash to the caller's digest.
//! 4. The winterfell proof has exactly the preset's options and the trace shape the model implies.
//! 5. The STARK verifies (winterfell's verifier), and its FRI remainder is the polynomial the
//!    prover committed to, which winterfell 0.13.1 does not check. With the `std` feature (the
//!    default), panics inside winterfell are caught and reported as rejections.
//! 6. The weight cells of every main-trace row the STARK opened hash to leaves of the committed
//!    weight tree (the opening in the envelope, against the root the digest commits to).
//!
//! Every proof states its place in a bundle (step 3 checks it is consistent, and a one-chunk
//! bundle's id is its own inputs' hash). A proof that is one chunk of a larger bundle proves
//! only its own samples; [`verify_bundle`] checks a whole bundle as one statement.
//!
//! [`checks`] lists every step of the STARK protocol, the code that checks it (glassbox's or
//! winterfell's, read line by line) and the negative test behind it, most of them proofs forged
//! by the malicious prover in `adversary/`.
//!
//! # Performance
//! Verification does not grow with the model: it hashes the ~29 (38 at 128 bits) opened rows of
//! each commitment, walks their Merkle paths, evaluates the constraints at one point and checks
//! the public inputs and outputs. Measured on a 2-core AMD EPYC, rustc 1.95, 102-bit preset
//! (`glassbox bench`, median of 5): 0.7 ms for one inference of the 64-128-64-10 MLP, 1.4 ms for
//! 64 of them in one 113 KB proof, 2–3.4 ms for the 64-512-512-10 MLP and 2.1–2.8 ms for the
//! digits CNN. The remainder binding adds one hash of at most 64 field elements.
//!
//! # `no_std`
//! Without the default `std` feature the crate is `no_std` + `alloc` (it builds for
//! `wasm32-unknown-unknown`; `crates/wasm` binds it for the browser) and checks exactly the same
//! things. The one difference: there is no `catch_unwind`, so a panic inside winterfell (none is
//! known to be reachable past the pre-scan) aborts instead of becoming a rejection. On wasm that
//! abort is a trap the caller sees (a `WebAssembly.RuntimeError`); `web/glassbox.js` reports it
//! as a rejection and verifies the next proof in a fresh instance.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

extern crate alloc;

pub mod audit;
mod bundle;
pub mod checks;
mod claim;
mod error;
mod prescan;
mod rejection;
mod remainder;
mod shape;
mod verify;

pub use bundle::{check_bundle, verify_bundle, BundleClaim, BundleError};
pub use claim::Claim;
pub use error::VerifyError;
pub use glassbox_air::{BundlePosition, Felt, MAX_PROOF_BYTES};
pub use rejection::StarkRejection;
pub use shape::{StarkOptions, TraceDims};
pub use verify::verify;
