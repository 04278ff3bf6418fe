//! `glassbox prove MODEL.gbm --input INPUTS.json [-o PROOF.gbp]`.
//!
//! One proof holds at most `max_batch` samples (or `--max-per-proof`). More samples are proven
//! as a bundle: `PROOF.gbp` holds the first chunk, `PROOF.1.gbp`, `PROOF.2.gbp`, ... the next
//! ones, and `PROOF.bundle.json` lists the files, the samples in each and the model digest.
//! Each file verifies on its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use glassbox_trace::Program;
use serde_json::json;

use crate::{files, progress::Spinner, summary};

/// Prove the model's outputs on inputs.
#[derive(clap::Args)]
pub struct Args {
    /// The compiled model.
    #[arg(value_name = "MODEL.gbm")]
    model: PathBuf,
    /// EZKL-style inputs: `{"input_data": [[...], ...]}`.
    #[arg(short, long, value_name = "INPUTS.json")]
    input: PathBuf,
    /// The proof file (default: the model path with extension `.gbp`).
    #[arg(short, long, value_name = "PROOF.gbp")]
    output: Option<PathBuf>,
    /// Security preset in conjectured bits: 100 (102 bits, default) or 128.
    #[arg(long, default_value_t = 100, value_name = "BITS")]
    security: u32,
    /// At most this many samples per proof (default and cap: what one proof holds).
    #[arg(long, value_name = "K")]
    max_per_proof: Option<usize>,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let level = summary::parse_security(self.security)?;
        let model = files::load_model(&self.model)?;
        let program = Program::compile(&model).context("the model does not fit a layout")?;
        let samples = files::load_inputs(&self.input, model.input_len)?;
        let inputs = samples
            .iter()
            .map(|s| model.quantize_input(s))
            .collect::<Result<Vec<_>, _>>()?;
        let per_proof = self.max_per_proof.unwrap_or(program.max_batch());
        anyhow::ensure!(per_proof > 0, "--max-per-proof must be at least 1");

        let spinner = Spinner::start(json, format!("proving {} samples", inputs.len()));
        let start = Instant::now();
        let proofs = glassbox_prover::prove_bundle(&program, &inputs, per_proof, level)?;
        let seconds = start.elapsed().as_secs_f64();
        drop(spinner);

        let first = self
            .output
            .clone()
            .unwrap_or_else(|| self.model.with_extension("gbp"));
        let paths = bundle_paths(&first, proofs.len());
        let mut sizes = Vec::with_capacity(proofs.len());
        for (path, proof) in paths.iter().zip(&proofs) {
            let bytes = proof.to_bytes();
            sizes.push(bytes.len());
            files::write_atomic(path, &bytes)?;
        }
        let total_bytes: usize = sizes.iter().sum();
        let digest = program.digest().to_hex();
        let manifest = (proofs.len() > 1).then(|| first.with_extension("bundle.json"));
        if let Some(m) = &manifest {
            let listing = json!({
                "digest": digest,
                "security_bits": level.conjectured_bits(),
                "samples": inputs.len(),
                "proofs": paths.iter().zip(&proofs).map(|(p, e)| json!({
                    "file": p.file_name().map(|n| n.to_string_lossy().into_owned()),
                    "samples": e.public.batch(),
                })).collect::<Vec<_>>(),
            });
            files::write_atomic(m, serde_json::to_string_pretty(&listing)?.as_bytes())?;
        }

        if json {
            let out = json!({
                "proofs": paths,
                "manifest": manifest,
                "prove_seconds": seconds,
                "samples": inputs.len(),
                "digest": digest,
                "proof_bytes": total_bytes,
                "security_bits": level.conjectured_bits(),
            });
            say!("{out}");
        } else {
            say!(
                "proved {} samples in {} proof(s) in {:.2} s",
                inputs.len(),
                proofs.len(),
                seconds
            );
            say!("  digest    {digest}");
            say!(
                "  security  {} bits (conjectured)",
                level.conjectured_bits()
            );
            for ((path, proof), size) in paths.iter().zip(&proofs).zip(&sizes) {
                say!(
                    "  wrote     {} ({} samples, {})",
                    path.display(),
                    proof.public.batch(),
                    summary::kb(*size)
                );
            }
            if let Some(m) = &manifest {
                say!("  manifest  {}", m.display());
            }
            say!(
                "verify with: glassbox verify {} --digest {digest}",
                first.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// `PROOF.gbp`, `PROOF.1.gbp`, `PROOF.2.gbp`, ...
pub fn bundle_paths(first: &Path, count: usize) -> Vec<PathBuf> {
    let ext = first
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "gbp".into());
    (0..count)
        .map(|i| {
            if i == 0 {
                first.to_path_buf()
            } else {
                first.with_extension(format!("{i}.{ext}"))
            }
        })
        .collect()
}
