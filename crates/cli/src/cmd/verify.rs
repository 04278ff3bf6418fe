//! `glassbox verify PROOF.gbp --digest HEX [--min-security BITS] [--inputs INPUTS.json]`.
//!
//! A single proof file is reported with its place in its bundle: a one-chunk bundle is the whole
//! statement; a chunk of a larger bundle proves only its own samples and is reported as such
//! ("chunk 2 of 5 of bundle …, samples 16..24 of 40").
//!
//! Given a bundle manifest (`PROOF.bundle.json`, written by `glassbox prove` when samples span
//! several proofs), the manifest's digest must be `--digest`, every listed proof must verify and
//! hold the samples the manifest lists, the proofs must form one bundle in order
//! (`glassbox_verifier::check_bundle`: no foreign, duplicated, missing or reordered proof), and the
//! manifest's total `samples` and `security_bits` must be the proofs'. Each failure is a named
//! rejection.
//!
//! With `--inputs`, the auditor's raw features are encoded as the digest commits (the symmetric
//! encoding with the descriptor's input scale) and must be exactly the proven int8 inputs, in
//! order: the whole bundle's samples for a manifest; for a single chunk, either the whole bundle's
//! samples (its slice and the bundle id are checked) or just the chunk's.
//!
//! Uses only `glassbox_verifier`. Exit code 0: valid; 1: invalid (a rejected proof, a bundle or
//! manifest that does not match its proofs, inputs that differ); 2: usage or I/O error
//! (unreadable file, malformed digest or manifest, unreachable level, `--inputs` for a model
//! whose encoding is not committed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use glassbox::manifest::{BundleManifest, ManifestEntry};
use glassbox_air::bundle::id_hex;
use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_verifier::audit;
use glassbox_verifier::{BundlePosition, Claim};
use serde_json::{json, Value};

use crate::summary;

/// Verify a proof against a published model digest.
#[derive(clap::Args)]
pub struct Args {
    /// The proof file, or a bundle manifest (`*.bundle.json`).
    #[arg(value_name = "PROOF.gbp")]
    proof: PathBuf,
    /// The published model digest (64 hex characters, as printed by `glassbox compile`).
    #[arg(long, value_name = "HEX")]
    digest: String,
    /// Reject proofs with less conjectured security than this.
    #[arg(long, default_value_t = 100, value_name = "BITS")]
    min_security: u32,
    /// The auditor's raw inputs (EZKL-style JSON, as `prove` takes): the proven int8 inputs must
    /// be exactly their committed encoding, sample by sample, in order.
    #[arg(long, value_name = "INPUTS.json")]
    inputs: Option<PathBuf>,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let Some(digest) = ModelDigest::from_hex(&self.digest) else {
            return Ok(usage_error(
                json,
                format!(
                    "malformed digest `{}`: expected 64 hex characters",
                    self.digest
                ),
            ));
        };
        if SecurityLevel::at_least(self.min_security).is_none() {
            return Ok(usage_error(
                json,
                format!(
                    "--min-security {}: no preset reaches it (the strongest is {} bits)",
                    self.min_security,
                    SecurityLevel::Bits128.conjectured_bits()
                ),
            ));
        }
        let auditor = match self.auditor_inputs() {
            Ok(a) => a,
            Err(msg) => return Ok(usage_error(json, msg)),
        };
        if self.proof.to_string_lossy().ends_with(".bundle.json") {
            return self.run_bundle(json, &digest, auditor.as_deref());
        }
        let bytes = match std::fs::read(&self.proof) {
            Ok(b) => b,
            Err(e) => {
                let msg = format!("cannot read proof {}: {e}", self.proof.display());
                return Ok(usage_error(json, msg));
            }
        };
        let start = Instant::now();
        let outcome = glassbox_verifier::verify(&bytes, &digest, self.min_security);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let claim = match outcome {
            Ok(claim) => claim,
            Err(e) => return Ok(invalid(json, &e.to_string())),
        };
        let inputs_checked = match &auditor {
            Some(raw) => match audit::check_inputs(&claim, raw) {
                Ok(what) => Some(what.to_string()),
                Err(e) if e.is_usage() => return Ok(usage_error(json, format!("--inputs: {e}"))),
                Err(e) => return Ok(invalid(json, &e.to_string())),
            },
            None => None,
        };
        report_valid(json, &claim, ms, inputs_checked);
        Ok(ExitCode::SUCCESS)
    }

    /// Reads and parses `--inputs` (I/O and format errors are usage errors).
    fn auditor_inputs(&self) -> Result<Option<Vec<Vec<f32>>>, String> {
        let Some(path) = &self.inputs else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read input file {}: {e}", path.display()))?;
        glassbox_model::parse_input_json(&text, None)
            .map(Some)
            .map_err(|e| format!("bad inputs in {}: {e}", path.display()))
    }

    fn run_bundle(
        &self,
        json: bool,
        digest: &ModelDigest,
        auditor: Option<&[Vec<f32>]>,
    ) -> Result<ExitCode> {
        let manifest = match BundleManifest::read(&self.proof) {
            Ok(m) => m,
            Err(e) => return Ok(usage_error(json, e.to_string())),
        };
        let stated = match manifest.stated() {
            Ok(s) => s,
            Err(e) => return Ok(usage_error(json, e.to_string())),
        };
        let dir = self.proof.parent().map(PathBuf::from).unwrap_or_default();
        let start = Instant::now();
        let outcomes: Vec<(&ManifestEntry, Result<Claim, String>)> = manifest
            .proofs
            .iter()
            .zip(manifest.verify_listed(&dir, digest, self.min_security))
            .collect();
        let first_error = outcomes.iter().find_map(|(_, o)| o.as_ref().err().cloned());
        let claims: Vec<(&ManifestEntry, &Claim)> = outcomes
            .iter()
            .filter_map(|(e, o)| o.as_ref().ok().map(|c| (*e, c)))
            .collect();
        let (bundle, verdict) = match first_error {
            Some(e) => (None, Err(e)),
            None => {
                let proven = claims.iter().map(|(_, c)| (*c).clone()).collect();
                match audit::check_stated_bundle(&stated, digest, proven, auditor) {
                    (_, Err(e)) if e.is_usage() => {
                        return Ok(usage_error(json, format!("--inputs: {e}")))
                    }
                    (b, verdict) => (b, verdict.map_err(|e| e.to_string())),
                }
            }
        };
        let inputs_match = (verdict.is_ok() && auditor.is_some()).then_some(true);
        let ms = start.elapsed().as_secs_f64() * 1e3;

        let mut results = Vec::with_capacity(outcomes.len());
        for (entry, outcome) in &outcomes {
            let claim = match outcome {
                Ok(c) => c,
                Err(e) => {
                    if !json {
                        say!("INVALID {}: {e}", entry.file);
                    }
                    results.push(json!({"file": entry.file, "valid": false, "error": e}));
                    continue;
                }
            };
            let first = claim.bundle.first_sample as usize;
            let labels = claim.labels();
            let hashes: Vec<String> = claim
                .inputs
                .iter()
                .map(|x| summary::sample_hash(x))
                .collect();
            let outputs = claim.dequantized_outputs();
            if !json {
                say!(
                    "VALID   {}: {}, labels {:?}",
                    entry.file,
                    position_text(&claim.bundle, claim.inputs.len()),
                    labels
                );
                for line in summary::sample_lines_with_inputs(first, &outputs, &labels, &hashes) {
                    say!("          {line}");
                }
            }
            results.push(json!({
                "file": entry.file, "valid": true, "first_sample": first,
                "bundle": position_json(&claim.bundle), "labels": labels, "outputs": outputs,
                "inputs_hashes": hashes, "security_bits": claim.security_bits, "error": null,
            }));
        }
        let samples: usize = claims.iter().map(|(_, c)| c.inputs.len()).sum();
        if json {
            say!(
                "{}",
                json!({
                    "valid": verdict.is_ok(),
                    "digest": digest.to_hex(),
                    "samples": samples,
                    "bundle_id": bundle.as_ref().map(|b| id_hex(&b.id)),
                    "security_bits": bundle.as_ref().map(|b| b.security_bits),
                    "inputs_match": inputs_match,
                    "verify_ms": ms,
                    "proofs": results,
                    "error": verdict.as_ref().err(),
                })
            );
        } else {
            match (&verdict, &bundle) {
                (Ok(()), Some(b)) => {
                    say!(
                        "bundle VALID: {} proofs, {} samples, bundle {} ({ms:.1} ms)",
                        b.claims.len(),
                        b.samples,
                        &id_hex(&b.id)[..16]
                    );
                    if inputs_match.is_some() {
                        say!(
                            "  inputs    match the auditor's inputs, all {} samples in order",
                            b.samples
                        );
                    }
                }
                (Err(why), _) => say!("bundle INVALID: {why}"),
                (Ok(()), None) => say!("bundle INVALID: the bundle lists no proofs"),
            }
        }
        Ok(if verdict.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

fn position_text(b: &BundlePosition, batch: usize) -> String {
    format!(
        "chunk {} of {} of bundle {}, samples {}..{} of {}",
        b.chunk,
        b.chunks,
        &id_hex(&b.id)[..16],
        b.first_sample,
        b.end_sample(batch),
        b.samples
    )
}

fn position_json(b: &BundlePosition) -> Value {
    json!({
        "id": id_hex(&b.id), "chunk": b.chunk, "chunks": b.chunks,
        "first_sample": b.first_sample, "samples": b.samples,
    })
}

fn rejection(error: &str) -> Value {
    json!({
        "valid": false, "outputs": null, "labels": null, "security_bits": null, "error": error,
    })
}

fn invalid(json: bool, why: &str) -> ExitCode {
    if json {
        say!("{}", rejection(why));
    } else {
        say!("INVALID: {why}");
    }
    ExitCode::from(1)
}

fn usage_error(json: bool, message: String) -> ExitCode {
    if json {
        say!("{}", rejection(&message));
    }
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn report_valid(json: bool, claim: &Claim, ms: f64, inputs_checked: Option<String>) {
    let outputs = claim.dequantized_outputs();
    let labels = claim.labels();
    let hash = summary::inputs_hash(&claim.inputs);
    let hashes: Vec<String> = claim
        .inputs
        .iter()
        .map(|x| summary::sample_hash(x))
        .collect();
    let b = &claim.bundle;
    if json {
        let out = json!({
            "valid": true,
            "digest": claim.digest.to_hex(),
            "samples": claim.inputs.len(),
            "whole_bundle": claim.is_whole_bundle(),
            "bundle": position_json(b),
            "inputs_hash": hash,
            "inputs_hashes": hashes,
            "inputs": claim.inputs,
            "inputs_match": inputs_checked.as_ref().map(|_| true),
            "outputs": outputs,
            "labels": labels,
            "security_bits": claim.security_bits,
            "verify_ms": ms,
            "error": null,
        });
        say!("{out}");
        return;
    }
    if claim.is_whole_bundle() {
        say!("VALID: the committed model computed these outputs ({ms:.1} ms)");
    } else {
        say!(
            "VALID: {}: the committed model computed these outputs ({ms:.1} ms); this file is one \
             chunk and proves only its own samples (verify the bundle manifest for the whole batch)",
            position_text(b, claim.inputs.len())
        );
    }
    say!("  digest    {}", claim.digest);
    say!(
        "  samples   {} (inputs blake3 {hash}, input encoding {})",
        claim.inputs.len(),
        claim.encoding_text()
    );
    say!("  security  {} bits (conjectured)", claim.security_bits);
    if let Some(what) = inputs_checked {
        say!("  inputs    match the auditor's inputs: {what}");
    }
    for line in
        summary::sample_lines_with_inputs(b.first_sample as usize, &outputs, &labels, &hashes)
    {
        say!("  {line}");
    }
}
