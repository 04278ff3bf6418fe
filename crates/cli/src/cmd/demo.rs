//! `glassbox demo`: the whole pipeline on the embedded 64-128-64-10 digits classifier.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use glassbox_air::SecurityLevel;
use glassbox_trace::Program;
use serde_json::json;

use crate::{embedded, progress::Spinner, summary};

/// Compile, prove and verify the embedded digits model end to end.
#[derive(clap::Args)]
pub struct Args {
    /// How many of the embedded test samples to prove (1..=16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=16))]
    samples: u16,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let spinner = Spinner::start(json, "compiling the embedded model");
        let calib = glassbox_model::parse_input_json(embedded::DIGITS_CALIB, Some(64))?;
        let (model, report) =
            glassbox_model::compile_onnx(embedded::MLP_64_128_64_10, Some(&calib))
                .context("compiling the embedded model")?;
        let program = Program::compile(&model)?;
        let digest = program.digest();

        let n = usize::from(self.samples);
        let samples = glassbox_model::parse_input_json(embedded::DIGITS_16, Some(64))?;
        let inputs = samples[..n]
            .iter()
            .map(|s| model.quantize_input(s))
            .collect::<Result<Vec<_>, _>>()?;
        let truth: Vec<usize> = embedded::digits_16_labels().into_iter().take(n).collect();

        spinner.set(format!("proving {n} inferences"));
        let start = Instant::now();
        let proof = glassbox_prover::prove(&program, &inputs, SecurityLevel::Bits100)?;
        let prove_ms = start.elapsed().as_secs_f64() * 1e3;
        let bytes = proof.to_bytes();

        spinner.set("verifying with the digest only");
        let start = Instant::now();
        let claim = glassbox_verifier::verify(&bytes, &digest, 100)
            .map_err(|e| anyhow::anyhow!("the demo proof did not verify: {e}"))?;
        let verify_ms = start.elapsed().as_secs_f64() * 1e3;
        drop(spinner);

        let labels = claim.labels();
        let correct = labels.iter().zip(&truth).filter(|(a, b)| a == b).count();
        let layout = program.layout(n)?;
        if json {
            let out = json!({
                "verified": true,
                "digest": digest.to_hex(),
                "samples": n,
                "trace_len": layout.trace_len,
                "main_width": layout.main_width,
                "aux_width": layout.aux.width,
                "prove_ms": prove_ms,
                "verify_ms": verify_ms,
                "proof_bytes": bytes.len(),
                "security_bits": claim.security_bits,
                "labels": labels,
                "true_labels": truth,
                "outputs": claim.dequantized_outputs(),
                "fidelity": report,
            });
            say!("{out}");
            return Ok(ExitCode::SUCCESS);
        }
        say!("glassbox demo: digits MLP 64→128→64→10 (embedded), {n} inferences");
        say!("  model digest  {digest}");
        if let Some(r) = &report {
            say!(
                "  quantization  int8, argmax agreement with float {:.1}% on {} calibration samples",
                r.argmax_agreement * 100.0,
                r.samples
            );
        }
        say!("  trace         {}", summary::trace_shape(&program, n));
        say!(
            "  prove         {prove_ms:.0} ms, proof {}",
            summary::kb(bytes.len())
        );
        say!("  verify        {verify_ms:.1} ms, knowing only the digest");
        say!("  security      {} bits (conjectured)", claim.security_bits);
        say!("  labels        {labels:?}");
        say!("  true labels   {truth:?} ({correct}/{n} correct)");
        say!(
            "verified: {n} outputs of model {} are proven",
            &digest.to_hex()[..16]
        );
        Ok(ExitCode::SUCCESS)
    }
}
