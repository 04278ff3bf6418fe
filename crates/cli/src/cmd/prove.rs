//! `glassbox prove MODEL.gbm --input INPUTS.json [-o PROOF.gbp]`.
//!
//! One proof holds at most `max_batch` samples (or `--max-per-proof`). More samples are proven
//! as a bundle: `PROOF.gbp` holds the first chunk, `PROOF.1.gbp`, `PROOF.2.gbp`, ... the next
//! ones, and `PROOF.bundle.json` lists the files, the samples in each and the model digest.
//! Each file verifies on its own as one chunk of the bundle (every proof binds the bundle id,
//! its chunk index and count and its first sample); the manifest verifies as the whole batch.

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
    /// Memory budget for one proof in MiB (default: half of the memory available now). Proofs
    /// are split so their estimated peak stays below it; if one sample does not fit, nothing is
    /// proven.
    #[arg(long, value_name = "MIB")]
    max_memory: Option<u64>,
}

/// Half of `MemAvailable` from /proc/meminfo, or 4 GiB where that cannot be read.
fn default_memory_budget() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024 / 2)
        .unwrap_or(4 << 30)
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let level = summary::parse_security(self.security)?;
        let first = self
            .output
            .clone()
            .unwrap_or_else(|| self.model.with_extension("gbp"));
        files::check_output_dir(&first)?;
        let model = files::load_model(&self.model)?;
        let program = Program::compile(&model).context("the model does not fit a layout")?;
        let samples = files::load_inputs(&self.input, model.input_len)?;
        let inputs = samples
            .iter()
            .map(|s| model.quantize_input(s))
            .collect::<Result<Vec<_>, _>>()?;
        let budget = self
            .max_memory
            .map_or_else(default_memory_budget, |mib| mib << 20);
        let fits = program.max_batch_within(budget);
        if fits == 0 {
            let need = program.estimated_peak_bytes(1).unwrap_or(u64::MAX);
            anyhow::bail!(
                "one proof of this model needs about {} MiB, more than the {} MiB memory budget (--max-memory)",
                need >> 20,
                budget >> 20
            );
        }
        let per_proof = self.max_per_proof.unwrap_or(fits).min(fits);
        anyhow::ensure!(per_proof > 0, "--max-per-proof must be at least 1");

        let spinner = Spinner::start(json, format!("proving {} samples", inputs.len()));
        let start = Instant::now();
        let proofs = glassbox_prover::prove_bundle(&program, &inputs, per_proof, level)?;
        let seconds = start.elapsed().as_secs_f64();
        drop(spinner);

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
