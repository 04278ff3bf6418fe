//! What the page shows, as JSON values: the checks of `glassbox verify` (crates/cli/src/cmd/
//! verify.rs) on bytes the page holds instead of files, in plain Rust so they are tested natively.
//!
//! Every result is an object with `valid` (bool), `kind` (`"valid"`, `"invalid"`: a rejected
//! proof, bundle, manifest or inputs, the CLI's exit 1; `"error"`: nothing could be checked, a
//! malformed digest, manifest or inputs file, the CLI's exit 2) and `error` (the reason, or null).

use glassbox_air::bundle::id_hex;
use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_verifier::{audit, BundlePosition, Claim};
use serde::Deserialize;
use serde_json::{json, Value};

/// A run that does not end valid: `Invalid` (exit 1 in the CLI) or `Error` (exit 2).
enum Stop {
    Invalid(String),
    Error(String),
}

fn stop(s: Stop) -> Value {
    let (kind, why) = match s {
        Stop::Invalid(why) => ("invalid", why),
        Stop::Error(why) => ("error", why),
    };
    json!({"valid": false, "kind": kind, "error": why})
}

fn parse_digest(hex: &str) -> Result<ModelDigest, Stop> {
    ModelDigest::from_hex(hex.trim()).ok_or_else(|| {
        Stop::Error(format!(
            "malformed digest `{}`: expected 64 hex characters",
            hex.trim()
        ))
    })
}

fn check_level(min_bits: u32) -> Result<(), Stop> {
    if SecurityLevel::at_least(min_bits).is_none() {
        return Err(Stop::Error(format!(
            "minimum security {min_bits}: no preset reaches it (the strongest is {} bits)",
            SecurityLevel::Bits128.conjectured_bits()
        )));
    }
    Ok(())
}

/// First 16 hex characters of blake3 over int8 inputs, one byte each, samples concatenated (the
/// CLI's `inputs_hash`).
pub fn inputs_hash<'a>(inputs: impl IntoIterator<Item = &'a Vec<i64>>) -> String {
    let mut h = blake3::Hasher::new();
    for x in inputs {
        let bytes: Vec<u8> = x.iter().map(|&v| v as i8 as u8).collect();
        h.update(&bytes);
    }
    h.finalize().to_hex()[..16].to_string()
}

fn position_json(b: &BundlePosition) -> Value {
    json!({
        "id": id_hex(&b.id), "chunk": b.chunk, "chunks": b.chunks,
        "first_sample": b.first_sample, "samples": b.samples,
    })
}

/// The claim of one verified proof, as `glassbox verify --json` prints it.
fn claim_json(claim: &Claim) -> Value {
    let hashes: Vec<String> = claim
        .inputs
        .iter()
        .map(|x| inputs_hash(core::iter::once(x)))
        .collect();
    json!({
        "digest": claim.digest.to_hex(),
        "samples": claim.inputs.len(),
        "first_sample": claim.bundle.first_sample,
        "whole_bundle": claim.is_whole_bundle(),
        "bundle": position_json(&claim.bundle),
        "inputs_hash": inputs_hash(&claim.inputs),
        "inputs_hashes": hashes,
        "inputs": claim.inputs,
        "input_scale": claim.input_scale,
        "input_encoding": claim.encoding_text(),
        "outputs": claim.dequantized_outputs(),
        "labels": claim.labels(),
        "security_bits": claim.security_bits,
    })
}

/// The auditor's raw inputs (EZKL-style `{"input_data": [[...], ...]}`), read as the CLI's
/// `parse_input_json` reads them: each number as f64, then f32, finite; a nested sample (numpy's
/// `X.tolist()` of an `N×C×H×W` batch) in row-major order.
pub fn parse_inputs(text: &str) -> Result<Vec<Vec<f32>>, String> {
    let bad = |m: String| format!("bad inputs file: {m}");
    let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let data = value
        .as_object()
        .ok_or_else(|| bad("top level must be an object".into()))?
        .get("input_data")
        .ok_or_else(|| bad("missing `input_data`".into()))?
        .as_array()
        .ok_or_else(|| bad("`input_data` must be an array of samples".into()))?;
    if data.is_empty() {
        return Err(bad("`input_data` has no samples".into()));
    }
    data.iter()
        .enumerate()
        .map(|(s, sample)| {
            if !sample.is_array() {
                return Err(bad(format!("sample {s} is not an array of numbers")));
            }
            let mut row = Vec::new();
            flatten(sample, &mut row)
                .map_err(|i| bad(format!("sample {s}, value {i} is not a finite number")))?;
            Ok(row)
        })
        .collect()
}

/// Appends the numbers of `v` (a number or nested arrays of them) to `row`; on failure, the index
/// of the offending value.
fn flatten(v: &Value, row: &mut Vec<f32>) -> Result<(), usize> {
    match v {
        Value::Array(items) => items.iter().try_for_each(|item| flatten(item, row)),
        _ => {
            let f = v.as_f64().ok_or(row.len())? as f32;
            if !f.is_finite() {
                return Err(row.len());
            }
            row.push(f);
            Ok(())
        }
    }
}

/// `--inputs` against one proof (the verifier's rule), as a page result.
fn check_single(raw: &[Vec<f32>], claim: &Claim) -> Result<String, Stop> {
    audit::check_inputs(claim, raw)
        .map(|m| m.to_string())
        .map_err(audit_stop)
}

/// An audit failure: a usage error (nothing could be checked) or an invalid result.
fn audit_stop(e: audit::AuditError) -> Stop {
    if e.is_usage() {
        Stop::Error(e.to_string())
    } else {
        Stop::Invalid(e.to_string())
    }
}

/// The auditor's raw inputs: one vector of features per sample.
type RawInputs = Vec<Vec<f32>>;

/// The caller's digest, level and optional raw inputs, checked before anything is verified.
fn prepare(
    digest_hex: &str,
    min_bits: u32,
    inputs_json: Option<&str>,
) -> Result<(ModelDigest, Option<RawInputs>), Stop> {
    let digest = parse_digest(digest_hex)?;
    check_level(min_bits)?;
    let raw = inputs_json
        .map(parse_inputs)
        .transpose()
        .map_err(Stop::Error)?;
    Ok((digest, raw))
}

/// Verifies one proof file against a digest, optionally against the auditor's raw inputs.
/// `clock` reads milliseconds (the browser's `performance.now()`).
pub fn verify_proof(
    proof: &[u8],
    digest_hex: &str,
    min_bits: u32,
    inputs_json: Option<&str>,
    clock: &dyn Fn() -> f64,
) -> Value {
    let run = || -> Result<Value, Stop> {
        let (digest, raw) = prepare(digest_hex, min_bits, inputs_json)?;
        let start = clock();
        let outcome = glassbox_verifier::verify(proof, &digest, min_bits);
        let ms = clock() - start;
        let claim = outcome.map_err(|e| Stop::Invalid(e.to_string()))?;
        let inputs_checked = raw.map(|r| check_single(&r, &claim)).transpose()?;
        let mut out = claim_json(&claim);
        out["valid"] = json!(true);
        out["kind"] = json!("valid");
        out["error"] = Value::Null;
        out["verify_ms"] = json!(ms);
        out["inputs_match"] = json!(inputs_checked.as_ref().map(|_| true));
        out["inputs_checked"] = json!(inputs_checked);
        Ok(out)
    };
    run().unwrap_or_else(stop)
}

/// A bundle manifest as `glassbox prove` writes it.
#[derive(Deserialize)]
struct Manifest {
    digest: String,
    samples: usize,
    security_bits: u32,
    proofs: Vec<Entry>,
}

/// One proof of a manifest.
#[derive(Deserialize)]
struct Entry {
    file: String,
    samples: usize,
}

/// The digest a manifest names (for a page that takes the digest from it), or why it has none.
pub fn manifest_digest(manifest_json: &str) -> Result<String, String> {
    let m: Manifest = serde_json::from_str(manifest_json)
        .map_err(|e| format!("malformed bundle manifest: {e}"))?;
    Ok(m.digest)
}

/// Verifies a bundle: its manifest's JSON and the bytes of the files the user gave, by name.
/// The same checks, in the same order, with the same reasons as `glassbox verify
/// PROOF.bundle.json`.
pub fn verify_bundle(
    manifest_json: &str,
    files: &[(String, Vec<u8>)],
    digest_hex: &str,
    min_bits: u32,
    inputs_json: Option<&str>,
    clock: &dyn Fn() -> f64,
) -> Value {
    let prepared = || -> Result<_, Stop> {
        let (digest, raw) = prepare(digest_hex, min_bits, inputs_json)?;
        let manifest: Manifest = serde_json::from_str(manifest_json)
            .map_err(|e| Stop::Error(format!("malformed bundle manifest: {e}")))?;
        let listed = ModelDigest::from_hex(&manifest.digest).ok_or_else(|| {
            Stop::Error(format!(
                "malformed bundle manifest: digest `{}` is not 64 hex characters",
                manifest.digest
            ))
        })?;
        Ok((digest, raw, manifest, listed))
    };
    let (digest, raw, manifest, listed) = match prepared() {
        Ok(p) => p,
        Err(s) => return stop(s),
    };
    let start = clock();
    let outcomes: Vec<(&Entry, Result<Claim, String>)> = manifest
        .proofs
        .iter()
        .map(|entry| (entry, verify_entry(entry, files, &digest, min_bits)))
        .collect();
    let first_error = outcomes.iter().find_map(|(_, o)| o.as_ref().err().cloned());
    let (bundle, verdict) = match first_error {
        Some(e) => (None, Err(e)),
        None => {
            let stated = audit::StatedBundle {
                digest: listed,
                samples: manifest.samples,
                security_bits: manifest.security_bits,
                files: manifest.proofs.iter().map(|e| e.file.as_str()).collect(),
            };
            let proven = outcomes
                .iter()
                .filter_map(|(_, o)| o.as_ref().ok().cloned())
                .collect();
            match audit::check_stated_bundle(&stated, &digest, proven, raw.as_deref()) {
                (_, Err(e)) if e.is_usage() => return stop(Stop::Error(e.to_string())),
                (b, verdict) => (b, verdict.map_err(|e| e.to_string())),
            }
        }
    };
    let inputs_match = (verdict.is_ok() && raw.is_some()).then_some(true);
    let ms = clock() - start;
    let proofs: Vec<Value> = outcomes
        .iter()
        .map(|(entry, outcome)| match outcome {
            Ok(claim) => {
                let mut c = claim_json(claim);
                c["file"] = json!(entry.file);
                c["valid"] = json!(true);
                c["error"] = Value::Null;
                c
            }
            Err(e) => json!({"file": entry.file, "valid": false, "error": e}),
        })
        .collect();
    let samples: usize = outcomes
        .iter()
        .filter_map(|(_, o)| o.as_ref().ok())
        .map(|c| c.inputs.len())
        .sum();
    json!({
        "valid": verdict.is_ok(),
        "kind": if verdict.is_ok() { "valid" } else { "invalid" },
        "digest": digest.to_hex(),
        "manifest_digest": listed.to_hex(),
        "samples": samples,
        "bundle_id": bundle.as_ref().map(|b| id_hex(&b.id)),
        "security_bits": bundle.as_ref().map(|b| b.security_bits),
        "inputs_match": inputs_match,
        "verify_ms": ms,
        "proofs": proofs,
        "error": verdict.err(),
    })
}

/// Looks up and verifies one listed proof, and checks its sample count against the manifest.
fn verify_entry(
    entry: &Entry,
    files: &[(String, Vec<u8>)],
    digest: &ModelDigest,
    min_bits: u32,
) -> Result<Claim, String> {
    if !audit::is_plain_file_name(&entry.file) {
        return Err(format!(
            "manifest entry `{}` is not a file name beside the manifest",
            entry.file
        ));
    }
    let bytes = files
        .iter()
        .find(|(name, _)| *name == entry.file)
        .map(|(_, b)| b)
        .ok_or_else(|| format!("cannot read {}: not among the chosen files", entry.file))?;
    let claim = glassbox_verifier::verify(bytes, digest, min_bits).map_err(|e| e.to_string())?;
    audit::check_listed_samples(&entry.file, entry.samples, &claim).map_err(|e| e.to_string())?;
    Ok(claim)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    const DIGEST: &str = "fd2e6481b440c9474f1567718fc1b47aec34699a1aad5fa883e32fdd5e62a86e";

    fn clock() -> f64 {
        0.0
    }

    #[test]
    fn garbage_is_invalid_with_a_reason() {
        let out = verify_proof(b"not a proof", DIGEST, 100, None, &clock);
        assert_eq!(out["valid"], json!(false));
        assert_eq!(out["kind"], json!("invalid"));
        assert!(out["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    #[test]
    fn a_malformed_digest_or_level_is_an_error_not_a_verdict() {
        let out = verify_proof(b"", "abc", 100, None, &clock);
        assert_eq!(out["kind"], json!("error"));
        let out = verify_proof(b"", DIGEST, 129, None, &clock);
        assert_eq!(out["kind"], json!("error"));
    }

    #[test]
    fn the_attack_files_are_invalid() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../cli/tests/attacks/");
        for name in [
            "forged-102.gbp",
            "forged-128.gbp",
            "honest.gbp",
            "honest.1.gbp",
        ] {
            let bytes = std::fs::read(format!("{dir}{name}")).expect("attack file");
            let out = verify_proof(&bytes, DIGEST, 100, None, &clock);
            assert_eq!(out["kind"], json!("invalid"), "{name}: {out}");
        }
    }

    #[test]
    fn manifest_entries_must_be_plain_names() {
        let manifest = json!({"digest": DIGEST, "samples": 1, "security_bits": 102,
            "proofs": [{"file": "../etc/passwd", "samples": 1}]})
        .to_string();
        let out = verify_bundle(&manifest, &[], DIGEST, 100, None, &clock);
        assert_eq!(out["kind"], json!("invalid"));
        assert!(out["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a file name")));
    }

    #[test]
    fn a_malformed_manifest_is_an_error() {
        let out = verify_bundle("{", &[], DIGEST, 100, None, &clock);
        assert_eq!(out["kind"], json!("error"));
    }

    #[test]
    fn inputs_encode_as_the_cli_does() {
        let raw = parse_inputs(r#"{"input_data": [[0.5, -0.5, 100, -100, 0.0039]]}"#)
            .expect("inputs parse");
        let sym = glassbox_air::InputEncoding::Symmetric;
        let q = audit::encode_inputs(&raw, &sym, 0.01).expect("symmetric encoding");
        assert_eq!(q, vec![vec![50, -50, 127, -128, 0]]);
        // half away from zero, as Rust's round
        let raw = parse_inputs(r#"{"input_data": [[0.025, -0.025]]}"#).expect("inputs parse");
        assert_eq!(
            audit::encode_inputs(&raw, &sym, 0.01).expect("encoding")[0][1],
            -3
        );
        let affine = glassbox_air::InputEncoding::Affine {
            offset: vec![0.0; 3],
            step: vec![1.0; 3],
        };
        assert!(audit::encode_inputs(&raw, &affine, 1.0).is_err());
        assert!(parse_inputs(r#"{"input_data": []}"#).is_err());
        assert_eq!(
            parse_inputs(r#"{"input_data": [[[1, 2], [3, 4]]]}"#).expect("nested"),
            vec![vec![1.0, 2.0, 3.0, 4.0]]
        );
        assert!(parse_inputs(r#"{"input_data": [["x"]]}"#).is_err());
    }
}
