//! What the verifier checks, step by step, and which code makes each check.
//!
//! A proof is only as sound as the least-checked step of its verifier, winterfell's steps
//! included. winterfell 0.13.1's verifier was read line by line for this list (`winter-verifier`
//! `lib.rs`, `channel.rs`, `composer.rs`, `evaluator.rs`; `winter-fri` `verifier/mod.rs` and
//! `verifier/channel.rs`). Where it leaves a step unchecked, glassbox checks it. Every step has
//! a negative test; the ones marked *forged* are proofs built by the malicious prover in
//! `adversary/` (`make adversary`), which runs the protocol step by step and lies at exactly
//! that step, and which must be accepted when it does not lie.
//!
//! | # | step | checked by | rejection | negative test |
//! |--:|---|---|---|---|
//! | 1 | proof file: at most 8 MiB, magic, version, every length before allocation, no trailing bytes | glassbox: `glassbox_air::ProofEnvelope::from_bytes` | [`VerifyError::Envelope`] | `tests/mutations.rs` (every truncation and byte flip), `fuzz/` |
//! | 2 | security preset reaches the caller's minimum | glassbox: [`verify`] | [`VerifyError::SecurityTooLow`] | `tests/mutations.rs` |
//! | 3 | statement well-formed (shapes, int8 inputs, output bounds, padding outputs only with a padding lane, bundle position) and hashing to the caller's digest | glassbox: `PublicInputs::validate`, `ModelDigest` | [`VerifyError::Statement`], [`VerifyError::DigestMismatch`] | `tests/mutations.rs`, `tests/bundle.rs` |
//! | 4 | STARK options are exactly the preset's (not merely "enough bits") | glassbox: the pre-scan requires the serialized context byte for byte, then `proof.options()`; winterfell: `AcceptableOptions::OptionSet` | [`VerifyError::OptionsMismatch`] | `tests/mutations.rs` |
//! | 5 | trace shape (widths, random elements, length) is the one the model implies | glassbox: the pre-scan and `proof.trace_info()` | [`VerifyError::TraceShape`] | `tests/mutations.rs` |
//! | 6 | every length prefix in winterfell's proof bytes fits the bytes that remain | glassbox: `prescan::scan` | [`VerifyError::ProofFormat`] | `tests/mutations.rs`, `fuzz/` |
//! | 7 | one FRI partition (winterfell never reads the field when there are no FRI layers) | glassbox: [`verify`] | [`VerifyError::ProofFormat`] | `tests/mutations.rs` |
//! | 8 | the transcript binds the statement: the public coin is seeded with the context and every public input (inputs, outputs, padding outputs, weight root and sketches, bundle position) | winterfell: `verify` (seed); glassbox: `PublicInputs::to_elements` | [`StarkRejection::OodConstraints`] | *forged*: `FalseOutput`, `FalseInput` |
//! | 9 | opened main and auxiliary trace rows are in the trace commitments, at the coin's positions | winterfell: `VerifierChannel::read_queried_trace_states` (batch Merkle proofs) | [`StarkRejection::TraceOpening`] | *forged*: `ShiftedQueries` |
//! | 10 | opened quotient rows are in the constraint commitment | winterfell: `VerifierChannel::read_constraint_evaluations` | [`StarkRejection::QuotientOpening`] | *forged*: `ShiftedQuotientQueries` |
//! | 11 | the constraints over the out-of-domain frame equal `Σ z^(i·n) H_i(z)` | winterfell: `evaluate_constraints` against the quotient frame | [`StarkRejection::OodConstraints`] | *forged*: `FalseOutput` |
//! | 12 | the DEEP composition of the opened rows and the sent out-of-domain values (at `z` and `z·g`) equals FRI layer 0 | winterfell: `DeepComposer`, then FRI's depth-0 comparison | [`StarkRejection::FriLayer`] `{ depth: 0 }` | *forged*: `DeepFromOtherOod` |
//! | 13 | every FRI layer opening is in that layer's commitment | winterfell FRI: `read_layer_queries` | [`StarkRejection::FriOpening`] | *forged*: `ShiftedFriQueries` |
//! | 14 | every FRI layer is the fold of the layer above, with the coin's challenge | winterfell FRI: `verify_generic` | [`StarkRejection::FriLayer`], [`StarkRejection::RemainderFolding`] | *forged*: `LayerNotFolded` (one and two layers), `OodFitted` |
//! | 15 | **the remainder is the polynomial committed before the query positions were drawn** | **glassbox** (winterfell 0.13.1 never compares them): `remainder::check` | [`VerifyError::RemainderMismatch`] | *forged*: `RemainderFitted` (which winterfell alone accepts: the test asserts both) |
//! | 16 | the remainder's degree is below the bound, and its values are the last layer's at the queried positions | winterfell FRI: `verify_generic` | [`StarkRejection::RemainderDegree`], [`StarkRejection::RemainderFolding`] | *forged*: `RemainderTooLong`, `OodFitted` |
//! | 17 | the grinding nonce meets the preset's proof-of-work before the positions are drawn | winterfell: `check_leading_zeros` | [`StarkRejection::ProofOfWork`] | *forged*: `WeakNonce` |
//! | 18 | the query count and positions are the coin's (the verifier draws them itself; openings at others fail steps 9, 10, 13) | winterfell: `draw_integers` with the preset's query count | [`StarkRejection::TraceOpening`] | *forged*: `ShiftedQueries` |
//! | 19 | the weight cells of every opened main-trace row hash to the committed weight tree, at the positions recomputed from the transcript | glassbox: `check_weights`, `glassbox_air::query_positions` | [`VerifyError::WeightMismatch`] | *forged*: `WeightOpeningOtherRows`, `WeightOpeningOtherTree`, `TraceWeightsEdited` (an edit the AIR cannot see, which winterfell alone accepts) |
//! | 20 | the weight sketches in the digest match the trace's weight columns | glassbox AIR: sketch columns and assertions | [`StarkRejection::OodConstraints`] | `crates/prover/tests/soundness.rs` |
//! | 21 | a bundle's proofs are its chunks, in order, none missing or foreign, over the inputs the bundle id names | glassbox: [`verify_bundle`] | [`BundleError`] | `tests/bundle.rs`, `crates/cli/tests/audit.rs` |
//!
//! The AIR's own constraints (products, requantization, lookups, edge rows) are tested on
//! tampered traces in `crates/prover/tests/soundness.rs`, `grouped.rs` and `stencil.rs`.
//!
//! Panics inside winterfell are caught and reported as [`VerifyError::ProofFormat`], a last line
//! of defence behind steps 1, 4, 5 and 6.

#[allow(unused_imports)] // the table's links
use crate::{verify, verify_bundle, BundleError, StarkRejection, VerifyError};
