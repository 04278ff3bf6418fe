//! Mutation tests of the verifier's one entry point: truncations, single-byte changes and
//! field-level edits of an honest proof file must all be rejected with an `Err`, never a panic or
//! an abort, and each field-level edit with the specific [`VerifyError`] it should cause.
//!
//! # Cost and coverage
//! The proof of the `[8, 16, 4]` model on two samples is about 39 KB (39 949 bytes when written:
//! the envelope header, winterfell's bytes, then the weight opening). Every truncation is tried
//! in-process (0.1 s). Every byte is flipped with `b ^ 0x01`; `b ^ 0xff` is tried on the whole
//! envelope, the first and last 4 KiB of the STARK bytes and every 31st byte between (about 9 700
//! positions). Flips run in worker processes, one per core, so an abort is recorded rather than
//! fatal (see `sweep_in_workers`). Measured on the shared 2-core machine (load 1.5–4 from other
//! jobs), default test profile: both sweeps together 12–42 s wall; `GLASSBOX_EXHAUSTIVE=1` (every
//! byte both ways, about 90 000 verifications) 23 s in the test profile and 33 s with `--release`
//! (no faster: the verifier's dependencies are already `opt-level = 3` in the test profile), about
//! 0.5 ms per verification per core.
//!
//! The file is longer than most (about 640 lines) because every family of edits shares one honest
//! proof and the worker-process sweep; splitting it would build and prove that proof per binary.
//!
//! Accepted mutations, escaped panics and process aborts (winterfell allocating terabytes for a
//! corrupted length prefix, which the verifier's pre-scan now refuses first) all fail the test.

mod common;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use glassbox_air::{
    BundlePosition, EnvelopeError, ModelDigest, ProofEnvelope, SecurityLevel, MAX_PROOF_BYTES,
};
use glassbox_verifier::{verify, StarkOptions, VerifyError};

use common::{envelope, honest};

/// What happened to one mutated file.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Rejected,
    Accepted,
    /// `verify` itself panicked (its own `catch_unwind` did not hold).
    Panicked,
    /// The process died (e.g. an allocation failure abort), with the last stderr line.
    Aborted(String),
}

fn run(bytes: &[u8], digest: &ModelDigest) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| verify(bytes, digest, 100))) {
        Ok(Ok(_)) => Outcome::Accepted,
        Ok(Err(_)) => Outcome::Rejected,
        Err(_) => Outcome::Panicked,
    }
}

fn exhaustive() -> bool {
    std::env::var("GLASSBOX_EXHAUSTIVE").is_ok_and(|v| v == "1")
}

/// Runs `mutate(i)` for each position in-process on all cores and returns every position not
/// rejected. Only for mutations that cannot abort the process (truncations).
fn sweep_in_process(
    positions: &[usize],
    mutate: impl Fn(usize) -> Vec<u8> + Sync,
) -> Vec<(usize, Outcome)> {
    let h = honest();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = positions.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = positions
            .chunks(chunk)
            .map(|part| {
                let mutate = &mutate;
                s.spawn(move || {
                    part.iter()
                        .filter_map(|&i| match run(&mutate(i), &h.digest) {
                            Outcome::Rejected => None,
                            other => Some((i, other)),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("sweep thread"))
            .collect()
    })
}

// ------------------------------------------------------------------------------------------------
// Byte flips in worker processes
//
// A flip can make winterfell's parser allocate terabytes and abort the whole process, which no
// `catch_unwind` stops. So flips run in child processes (this same test binary, test
// `flip_worker`), which log each position before verifying it; when a child dies, the parent
// records the position as `Aborted` and starts a new child after it.

const WORKER_ENV: &str = "GLASSBOX_FLIP_WORKER";

/// Child side: reads `job` (xor, digest hex, positions) and `proof` from the directory in
/// `GLASSBOX_FLIP_WORKER` and appends `start i` / `end i OUTCOME` lines to `log`.
#[test]
fn flip_worker() {
    let Ok(dir) = std::env::var(WORKER_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let bytes = std::fs::read(dir.join("proof")).expect("proof");
    let job = std::fs::read_to_string(dir.join("job")).expect("job");
    let mut lines = job.lines();
    let xor: u8 = lines.next().and_then(|l| l.parse().ok()).expect("xor");
    let digest = lines
        .next()
        .and_then(ModelDigest::from_hex)
        .expect("digest");
    let positions = lines.map(|l| l.parse::<usize>().expect("position"));
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("log"))
        .expect("log");
    std::panic::set_hook(Box::new(|_| {}));
    for i in positions {
        writeln!(log, "start {i}").expect("log");
        let mut b = bytes.clone();
        b[i] ^= xor;
        let outcome = run(&b, &digest);
        writeln!(log, "end {i} {outcome:?}").expect("log");
    }
}

/// Parent side: flips `positions` with `xor` in worker processes (one per core), restarting a
/// worker after the position it died on. Returns every position that was not rejected.
fn sweep_in_workers(xor: u8, positions: &[usize]) -> Vec<(usize, Outcome)> {
    let h = honest();
    let exe = std::env::current_exe().expect("test binary path");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = positions.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = positions
            .chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                let exe = &exe;
                s.spawn(move || {
                    let dir = std::env::temp_dir()
                        .join(format!("glassbox-flips-{}-{xor}-{k}", std::process::id()));
                    std::fs::create_dir_all(&dir).expect("temp dir");
                    std::fs::write(dir.join("proof"), &h.bytes).expect("write proof");
                    let mut bad = Vec::new();
                    let mut rest = part;
                    while !rest.is_empty() {
                        let mut job = format!("{xor}\n{}\n", h.digest.to_hex());
                        for i in rest {
                            job.push_str(&format!("{i}\n"));
                        }
                        std::fs::write(dir.join("job"), job).expect("write job");
                        let _ = std::fs::remove_file(dir.join("log"));
                        let out = std::process::Command::new(exe)
                            .args(["--exact", "flip_worker", "--test-threads", "1"])
                            .env(WORKER_ENV, &dir)
                            .env("RUST_BACKTRACE", "0")
                            .output()
                            .expect("spawn worker");
                        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                        let mut done = 0;
                        let mut started = None;
                        for line in log.lines() {
                            let mut w = line.splitn(3, ' ');
                            match (w.next(), w.next().and_then(|v| v.parse().ok()), w.next()) {
                                (Some("start"), Some(i), _) => started = Some(i),
                                (Some("end"), Some(i), Some(o)) => {
                                    done += 1;
                                    started = None;
                                    if o != "Rejected" {
                                        let o = if o == "Accepted" {
                                            Outcome::Accepted
                                        } else {
                                            Outcome::Panicked
                                        };
                                        bad.push((i, o));
                                    }
                                }
                                _ => {}
                            }
                        }
                        match started {
                            Some(i) => {
                                let err = String::from_utf8_lossy(&out.stderr);
                                let why = err
                                    .lines()
                                    .find(|l| l.contains("memory allocation"))
                                    .or_else(|| err.lines().last())
                                    .unwrap_or("no stderr")
                                    .to_string();
                                bad.push((i, Outcome::Aborted(why)));
                                rest = &rest[done + 1..];
                            }
                            None if done == rest.len() && out.status.success() => rest = &[],
                            None => panic!(
                                "flip worker failed without a position: {}",
                                String::from_utf8_lossy(&out.stderr)
                            ),
                        }
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("sweep thread"))
            .collect()
    })
}

/// Byte positions to flip: everything when exhaustive, else the whole envelope header and
/// statement, the first and last 4 KiB of the STARK bytes, and every `stride`-th byte between.
fn positions(stride: usize) -> Vec<usize> {
    let h = honest();
    let len = h.bytes.len();
    if exhaustive() || stride == 1 {
        return (0..len).collect();
    }
    let head_end = (h.stark_offset + 4096).min(len);
    let tail_start = len.saturating_sub(4096).max(head_end);
    (0..head_end)
        .chain((head_end..tail_start).step_by(stride))
        .chain(tail_start..len)
        .collect()
}

fn flip_sweep(xor: u8, stride: usize) {
    let h = honest();
    let pos = positions(stride);
    let t = Instant::now();
    let bad = sweep_in_workers(xor, &pos);
    println!(
        "flip ^{xor:#04x}: {} of {} bytes (STARK from byte {}) in {:.1} s",
        pos.len(),
        h.bytes.len(),
        h.stark_offset,
        t.elapsed().as_secs_f64()
    );
    for (i, o) in &bad {
        println!(
            "flip ^{xor:#04x} at byte {i} (STARK byte {}) was not cleanly rejected: {o:?}",
            i - h.stark_offset.min(*i)
        );
    }
    // accepted mutations, escaped panics and process aborts all fail
    assert!(
        bad.is_empty(),
        "byte flips ^{xor:#04x} not rejected (position, outcome): {bad:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Honest proof

#[test]
fn honest_proof_verifies_and_claims_the_model_outputs() {
    let h = honest();
    let claim = verify(&h.bytes, &h.digest, 100).expect("honest proof verifies");
    assert_eq!(claim.inputs, h.inputs);
    let expected: Vec<Vec<i64>> = h
        .model
        .run(&h.inputs)
        .expect("integer executor")
        .into_iter()
        .map(|e| e.outputs)
        .collect();
    assert_eq!(claim.outputs, expected);
    assert_eq!(claim.digest, h.digest);
    assert_eq!(claim.security_bits, 102);
    println!(
        "proof file {} bytes: {} envelope + {} STARK",
        h.bytes.len(),
        h.stark_offset,
        h.bytes.len() - h.stark_offset
    );
}

// ------------------------------------------------------------------------------------------------
// Truncations and byte flips

#[test]
fn every_truncation_is_rejected() {
    let h = honest();
    let all: Vec<usize> = (0..h.bytes.len()).collect();
    let t = Instant::now();
    let bad = sweep_in_process(&all, |n| h.bytes[..n].to_vec());
    println!(
        "{} truncations in {:.1} s",
        all.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(bad.is_empty(), "truncations not rejected: {bad:?}");
}

#[test]
fn single_bit_flips_are_rejected() {
    flip_sweep(0x01, 1);
}

#[test]
fn whole_byte_flips_are_rejected() {
    flip_sweep(0xff, 31);
}

// ------------------------------------------------------------------------------------------------
// Field-level edits, each with the error it must cause

fn verify_env(env: &ProofEnvelope) -> Result<(), VerifyError> {
    verify(&env.to_bytes(), &honest().digest, 100).map(|_| ())
}

#[test]
fn wrong_digest_is_a_digest_mismatch() {
    let h = honest();
    let wrong = ModelDigest([7; 32]);
    assert_eq!(
        verify(&h.bytes, &wrong, 100),
        Err(VerifyError::DigestMismatch {
            expected: wrong,
            got: h.digest
        })
    );
}

#[test]
fn weaker_than_asked_is_security_too_low() {
    let h = honest();
    assert_eq!(
        verify(&h.bytes, &h.digest, 128),
        Err(VerifyError::SecurityTooLow {
            required: 128,
            got: 102
        })
    );
    assert_eq!(
        verify(&h.bytes, &h.digest, 129),
        Err(VerifyError::UnreachableSecurity(129))
    );
    assert!(verify(&h.bytes, &h.digest, 0).is_ok());
}

#[test]
fn relabelled_preset_is_an_options_mismatch() {
    let mut env = envelope();
    env.security = SecurityLevel::Bits128;
    let preset = |l: SecurityLevel| StarkOptions::from(&l.options());
    assert_eq!(
        verify_env(&env),
        Err(VerifyError::OptionsMismatch {
            expected: preset(SecurityLevel::Bits128),
            got: preset(SecurityLevel::Bits100),
        })
    );
}

#[test]
fn a_stark_of_another_trace_shape_is_a_shape_mismatch() {
    // the STARK of a larger batch, whose trace is wider, under this statement
    let h = honest();
    let wide = glassbox_prover::prove(
        &h.program,
        &common::inputs(40, 8, 3),
        SecurityLevel::Bits100,
    )
    .expect("prove");
    let mut env = envelope();
    env.proof = wide.proof;
    match verify_env(&env) {
        Err(VerifyError::TraceShape { expected, got }) => {
            assert_ne!(expected, got);
            assert!(got.main_width > expected.main_width, "{got} vs {expected}");
        }
        other => panic!("expected a trace-shape mismatch, got {other:?}"),
    }
}

#[test]
fn changed_input_is_rejected_by_the_stark() {
    let mut env = envelope();
    env.public.inputs[1][3] = if env.public.inputs[1][3] == 5 { 6 } else { 5 };
    // a one-chunk bundle's id is the hash of its inputs: the statement is refused outright
    assert!(matches!(verify_env(&env), Err(VerifyError::Statement(_))));
    // with the id recomputed, the STARK (which bound the old inputs and id) rejects it
    env.public.bundle = BundlePosition::single(&env.public.inputs);
    assert!(matches!(verify_env(&env), Err(VerifyError::Rejected(_))));
}

#[test]
fn changed_bundle_position_is_rejected() {
    let honest_env = envelope();
    let b = honest_env.public.bundle;
    assert_eq!(b, BundlePosition::single(&honest_env.public.inputs));
    // inconsistent positions are refused before the STARK
    let inconsistent = [
        BundlePosition { chunk: 1, ..b },
        BundlePosition { chunks: 0, ..b },
        BundlePosition {
            first_sample: 1,
            ..b
        },
        BundlePosition { samples: 3, ..b },
        BundlePosition { id: [0; 32], ..b },
    ];
    for position in inconsistent {
        let mut env = honest_env.clone();
        env.public.bundle = position;
        assert!(
            matches!(verify_env(&env), Err(VerifyError::Statement(_))),
            "{position:?}"
        );
    }
    // a consistent position the proof was not made for: the transcript differs
    let relabelled = [
        BundlePosition {
            chunk: 0,
            chunks: 2,
            first_sample: 0,
            samples: 4,
            ..b
        },
        BundlePosition {
            id: [9; 32],
            chunk: 1,
            chunks: 2,
            first_sample: 2,
            samples: 4,
        },
    ];
    for position in relabelled {
        let mut env = honest_env.clone();
        env.public.bundle = position;
        assert!(
            matches!(verify_env(&env), Err(VerifyError::Rejected(_))),
            "{position:?}"
        );
    }
}

#[test]
fn changed_output_is_rejected_by_the_stark() {
    for delta in [1, -1, 1 << 20] {
        let mut env = envelope();
        env.public.outputs[0][2] += delta;
        assert!(
            matches!(verify_env(&env), Err(VerifyError::Rejected(_))),
            "delta {delta}"
        );
    }
    // the honest batch fills every lane: no padding outputs are stated, and stating any (even
    // the all-zero input's true outputs) is refused, since no lane would prove them
    let mut env = envelope();
    let layout = env.public.validate().expect("honest statement");
    assert_eq!(layout.batch_capacity, env.public.batch());
    assert!(env.public.padding_outputs.is_empty());
    let n_out = env.public.descriptor.output_len();
    for padding in [vec![0; n_out], vec![1; n_out]] {
        env.public.padding_outputs = padding;
        assert_eq!(
            verify_env(&env),
            Err(VerifyError::Statement(
                "padding outputs are stated but the batch fills every lane"
            ))
        );
    }
}

#[test]
fn swapped_samples_are_rejected_by_the_stark() {
    let mut env = envelope();
    env.public.outputs.swap(0, 1);
    assert!(matches!(verify_env(&env), Err(VerifyError::Rejected(_))));
}

#[test]
fn dropped_sample_is_rejected() {
    let mut env = envelope();
    env.public.inputs.pop();
    env.public.outputs.pop();
    assert!(verify_env(&env).is_err());
}

#[test]
fn changed_weight_commitment_is_a_digest_mismatch() {
    let mut env = envelope();
    env.public.weight_root[0] ^= 1;
    assert!(matches!(
        verify_env(&env),
        Err(VerifyError::DigestMismatch { .. })
    ));
    let mut env = envelope();
    env.public.weight_sketch[1] += glassbox_air::Felt::new(1);
    assert!(matches!(
        verify_env(&env),
        Err(VerifyError::DigestMismatch { .. })
    ));
    let mut env = envelope();
    env.public.descriptor.layers[0].bias[0] += 1;
    assert!(matches!(
        verify_env(&env),
        Err(VerifyError::DigestMismatch { .. })
    ));
}

#[test]
fn malformed_statement_is_a_statement_error() {
    let mut env = envelope();
    env.public.outputs[0][0] = i64::MAX;
    assert!(matches!(verify_env(&env), Err(VerifyError::Statement(_))));
}

#[test]
fn a_tampered_weight_opening_is_rejected() {
    let h = honest();
    let env = envelope();
    assert!(!env.weight_opening.nodes.is_empty());
    // every node byte, and the depth, matter
    type Edit = Box<dyn Fn(&mut glassbox_air::WeightOpening)>;
    let mut edits: Vec<Edit> = vec![
        Box::new(|o| o.depth += 1),
        Box::new(|o| o.depth -= 1),
        Box::new(|o| o.nodes.clear()),
        Box::new(|o| {
            o.nodes.pop();
        }),
        Box::new(|o| o.nodes[0].clear()),
        Box::new(|o| o.nodes.swap(0, 1)),
    ];
    for list in 0..env.weight_opening.nodes.len().min(3) {
        for node in 0..env.weight_opening.nodes[list].len().min(2) {
            edits.push(Box::new(move |o| o.nodes[list][node][31] ^= 1));
        }
    }
    for (i, edit) in edits.iter().enumerate() {
        let mut bad = env.clone();
        edit(&mut bad.weight_opening);
        assert!(
            matches!(
                verify(&bad.to_bytes(), &h.digest, 100),
                Err(VerifyError::WeightMismatch)
            ),
            "edit {i}"
        );
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let h = honest();
    for extra in [&[0u8][..], &[0, 0, 0, 0], &h.bytes[..16]] {
        let mut b = h.bytes.clone();
        b.extend_from_slice(extra);
        assert_eq!(
            verify(&b, &h.digest, 100),
            Err(VerifyError::Envelope(EnvelopeError::TrailingBytes {
                count: extra.len()
            }))
        );
    }
}

#[test]
fn oversize_file_is_rejected_before_parsing() {
    let h = honest();
    let mut b = h.bytes.clone();
    b.resize(MAX_PROOF_BYTES + 1, 0);
    assert_eq!(
        verify(&b, &h.digest, 100),
        Err(VerifyError::Envelope(EnvelopeError::TooLarge {
            got: MAX_PROOF_BYTES + 1
        }))
    );
}

#[test]
fn envelope_header_errors_are_named() {
    let h = honest();
    let at = |i: usize, v: u8| {
        let mut b = h.bytes.clone();
        b[i] = v;
        verify(&b, &h.digest, 100)
    };
    assert_eq!(
        at(0, b'X'),
        Err(VerifyError::Envelope(EnvelopeError::Magic))
    );
    assert_eq!(
        at(8, 1),
        Err(VerifyError::Envelope(EnvelopeError::Version { got: 1 }))
    );
    assert_eq!(
        at(10, 2),
        Err(VerifyError::Envelope(EnvelopeError::Invalid {
            field: "security preset"
        }))
    );
    // The STARK length prefix claims one byte more than the file holds.
    let mut b = h.bytes.clone();
    let len_at = h.stark_offset - 4;
    let n = (b.len() - h.stark_offset + 1) as u32;
    b[len_at..h.stark_offset].copy_from_slice(&n.to_le_bytes());
    assert_eq!(
        verify(&b, &h.digest, 100),
        Err(VerifyError::Envelope(EnvelopeError::Truncated {
            field: "proof"
        }))
    );
}

#[test]
fn garbage_stark_bytes_are_a_format_error() {
    let mut env = envelope();
    env.proof = vec![0xff; 64];
    assert!(matches!(verify_env(&env), Err(VerifyError::ProofFormat(_))));
    env.proof.clear();
    assert!(matches!(verify_env(&env), Err(VerifyError::ProofFormat(_))));
}

/// The FRI proof's partition count sits just before the 8-byte grinding nonce at the end of the
/// STARK bytes. On a trace this short FRI has no layers, so winterfell never reads it; the verifier
/// must still refuse every other value (found by the `verify_mutated` fuzz target).
#[test]
fn fri_partition_count_is_bound() {
    let h = honest();
    let at = h.stark_end - 9;
    assert_eq!(
        h.bytes[at], 0,
        "byte {at} is the partition count (log2, 0 = one partition)"
    );
    for bit in 0..8 {
        let mut b = h.bytes.clone();
        b[at] ^= 1 << bit;
        assert!(
            matches!(verify(&b, &h.digest, 100), Err(VerifyError::ProofFormat(_))),
            "partition byte ^ {:#04x} not rejected as a format error",
            1 << bit
        );
    }
}
