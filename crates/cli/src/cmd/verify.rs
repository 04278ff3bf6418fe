//! `glassbox verify PROOF.gbp --digest HEX [--min-security BITS]`.
//!
//! Given a bundle manifest (`PROOF.bundle.json`, written by `glassbox prove` when samples span
//! several proofs), every listed proof is verified and results are reported per proof and per
//! sample; the bundle is valid only if every proof is and the sample counts match the manifest.
//!
//! Uses only `glassbox_verifier::verify`. Exit code 0: valid; 1: the proof is invalid (any
//! `VerifyError`); 2: usage or I/O error (unreadable file, malformed digest, unreachable level).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use glassbox_air::{ModelDigest, SecurityLevel};
use glassbox_verifier::Claim;
use serde_json::{json, Value};

use crate::summary;

/// Verify a proof against a published model digest.
#[derive(clap::Args)]
pub struct Args {
    /// The proof file.
    #[arg(value_name = "PROOF.gbp")]
    proof: PathBuf,
    /// The published model digest (64 hex characters, as printed by `glassbox compile`).
    #[arg(long, value_name = "HEX")]
    digest: String,
    /// Reject proofs with less conjectured security than this.
    #[arg(long, default_value_t = 100, value_name = "BITS")]
    min_security: u32,
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
        if self.proof.to_string_lossy().ends_with(".bundle.json") {
            return self.run_bundle(json, &digest);
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
        match outcome {
            Ok(claim) => {
                report_valid(json, &claim, ms);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                if json {
                    say!("{}", rejection(&e.to_string()));
                } else {
                    say!("INVALID: {e}");
                }
                Ok(ExitCode::from(1))
            }
        }
    }
}

impl Args {
    fn run_bundle(&self, json: bool, digest: &ModelDigest) -> Result<ExitCode> {
        let text = match std::fs::read_to_string(&self.proof) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("cannot read bundle manifest {}: {e}", self.proof.display());
                return Ok(usage_error(json, msg));
            }
        };
        let manifest: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return Ok(usage_error(json, format!("malformed bundle manifest: {e}"))),
        };
        let Some(entries) = manifest.get("proofs").and_then(Value::as_array) else {
            return Ok(usage_error(json, "bundle manifest lists no proofs".into()));
        };
        let dir = self.proof.parent().map(PathBuf::from).unwrap_or_default();
        let mut results = Vec::new();
        let mut all_valid = true;
        let mut first_sample = 0usize;
        for entry in entries {
            let file = entry.get("file").and_then(Value::as_str).unwrap_or("");
            let listed = entry.get("samples").and_then(Value::as_u64).unwrap_or(0) as usize;
            let path = dir.join(file);
            let outcome = std::fs::read(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|b| {
                    glassbox_verifier::verify(&b, digest, self.min_security)
                        .map_err(|e| e.to_string())
                })
                .and_then(|claim| {
                    if claim.inputs.len() == listed {
                        Ok(claim)
                    } else {
                        Err(format!(
                            "proof holds {} samples; the manifest lists {listed}",
                            claim.inputs.len()
                        ))
                    }
                });
            match outcome {
                Ok(claim) => {
                    if !json {
                        say!(
                            "VALID   {file}: samples {}..{}, labels {:?}",
                            first_sample,
                            first_sample + listed,
                            claim.labels()
                        );
                    }
                    results.push(json!({"file": file, "valid": true, "first_sample": first_sample,
                        "labels": claim.labels(), "outputs": claim.dequantized_outputs(), "error": null}));
                }
                Err(e) => {
                    all_valid = false;
                    if !json {
                        say!(
                            "INVALID {file}: samples {}..{}: {e}",
                            first_sample,
                            first_sample + listed
                        );
                    }
                    results.push(
                        json!({"file": file, "valid": false, "first_sample": first_sample,
                        "labels": null, "outputs": null, "error": e}),
                    );
                }
            }
            first_sample += listed;
        }
        if json {
            say!(
                "{}",
                json!({"valid": all_valid, "samples": first_sample, "proofs": results})
            );
        } else {
            say!(
                "{}: {} proofs, {first_sample} samples",
                if all_valid {
                    "bundle VALID"
                } else {
                    "bundle INVALID"
                },
                results.len()
            );
        }
        Ok(if all_valid {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

fn rejection(error: &str) -> Value {
    json!({
        "valid": false, "outputs": null, "labels": null, "security_bits": null, "error": error,
    })
}

fn usage_error(json: bool, message: String) -> ExitCode {
    if json {
        say!("{}", rejection(&message));
    }
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn report_valid(json: bool, claim: &Claim, ms: f64) {
    let outputs = claim.dequantized_outputs();
    let labels = claim.labels();
    let hash = summary::inputs_hash(&claim.inputs);
    if json {
        let out = json!({
            "valid": true,
            "digest": claim.digest.to_hex(),
            "samples": claim.inputs.len(),
            "inputs_hash": hash,
            "inputs": claim.inputs,
            "outputs": outputs,
            "labels": labels,
            "security_bits": claim.security_bits,
            "verify_ms": ms,
            "error": null,
        });
        say!("{out}");
        return;
    }
    say!("VALID: the committed model computed these outputs ({ms:.1} ms)");
    say!("  digest    {}", claim.digest);
    say!(
        "  samples   {} (inputs blake3 {hash}, input scale {})",
        claim.inputs.len(),
        claim.input_scale
    );
    say!("  security  {} bits (conjectured)", claim.security_bits);
    for line in summary::sample_lines(&outputs, &labels) {
        say!("  {line}");
    }
}
