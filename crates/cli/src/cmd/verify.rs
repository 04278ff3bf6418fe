//! `glassbox verify PROOF.gbp --digest HEX [--min-security BITS]`.
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
