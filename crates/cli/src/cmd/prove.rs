//! `glassbox prove MODEL.gbm --input INPUTS.json [-o PROOF.gbp]`.
//!
//! One proof holds at most `max_batch` samples (or `--max-per-proof`). More samples are proven
//! as a bundle: `PROOF.gbp` holds the first chunk, `PROOF.1.gbp`, `PROOF.2.gbp`, ... the next
//! ones, and `PROOF.bundle.json` lists the files, the samples in each and the model digest.
//! Each file verifies on its own as one chunk of the bundle (every proof binds the bundle id,
//! its chunk index and count and its first sample); the manifest verifies as the whole batch.
//!
//! With `--shard I/N` only the `I`-th of `N` contiguous ranges of chunks is proven (every shard
//! reads the whole input file: the bundle id hashes all of it), into the same file names, plus
//! a shard manifest `PROOF.shard-I-of-N.json`; `glassbox bundle merge` assembles the shards'
//! manifests into `PROOF.bundle.json`. The chunking must not depend on the machine, so a shard
//! uses `--max-per-proof` or else what one proof holds, never the memory budget's choice.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use glassbox::shard::{ShardEntry, ShardManifest};
use glassbox_air::SecurityLevel;
use glassbox_prover::{BundlePlan, Shard};
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
    /// Prove only shard I of N (0-based) of the bundle's chunks, for batches split across
    /// machines; merge the shards with `glassbox bundle merge`.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
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
        let samples = files::load_inputs(&self.input, model.raw_input_len())?;
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
        anyhow::ensure!(
            self.max_per_proof != Some(0),
            "--max-per-proof must be at least 1"
        );
        if let Some(shard) = self.shard {
            return self.run_shard(json, shard, &program, &inputs, fits, level, &first);
        }
        let per_proof = self.max_per_proof.unwrap_or(fits).min(fits);

        let spinner = Spinner::start(json, format!("proving {} samples", inputs.len()));
        let start = Instant::now();
        let proofs = glassbox_prover::prove_bundle(&program, &inputs, per_proof, level)?;
        let seconds = start.elapsed().as_secs_f64();
        drop(spinner);

        let digest = program.digest();
        let written = glassbox::manifest::write_bundle(&first, &proofs, &digest, level)?;
        let (paths, sizes, manifest) = (written.paths, written.sizes, written.manifest);
        let total_bytes: usize = sizes.iter().sum();
        let digest = digest.to_hex();

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

    /// Proves one shard's chunks and writes them with the shard's manifest.
    #[allow(clippy::too_many_arguments)]
    fn run_shard(
        &self,
        json: bool,
        shard: Shard,
        program: &Program,
        inputs: &[Vec<i64>],
        fits: usize,
        level: SecurityLevel,
        first: &std::path::Path,
    ) -> Result<ExitCode> {
        let per_proof = self.max_per_proof.unwrap_or(program.max_batch());
        if per_proof.min(program.max_batch()) > fits {
            anyhow::bail!(
                "this machine's memory budget holds {fits} samples per proof, fewer than the \
                 shards' {per_proof}; every shard must chunk alike, so pass the same \
                 --max-per-proof {fits} (or less) to every shard"
            );
        }
        let plan = BundlePlan::new(program, inputs, per_proof);
        let chunks = shard.chunks(plan.chunks());
        let digest = program.digest();
        let mut manifest = ShardManifest::new(first, shard, &plan, &digest, level);
        let spinner = Spinner::start(
            json,
            format!(
                "proving shard {shard}: chunks {chunks:?} of {}",
                plan.chunks()
            ),
        );
        let start = Instant::now();
        for k in chunks.clone() {
            let proof = plan.prove_chunk(program, inputs, k, level)?;
            let path = glassbox::files::chunk_path(first, k);
            files::write_atomic(&path, &proof.to_bytes())?;
            manifest.proofs.push(ShardEntry {
                chunk: k,
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                samples: proof.public.batch(),
            });
        }
        let seconds = start.elapsed().as_secs_f64();
        drop(spinner);
        let path = ShardManifest::path(first, shard);
        manifest.write(&path)?;
        let samples: usize = manifest.proofs.iter().map(|e| e.samples).sum();
        if json {
            say!(
                "{}",
                json!({
                    "shard": shard.to_string(), "chunks": [chunks.start, chunks.end],
                    "of_chunks": plan.chunks(), "samples": samples, "prove_seconds": seconds,
                    "manifest": path, "digest": digest.to_hex(),
                    "bundle_id": manifest.bundle_id,
                })
            );
        } else {
            say!(
                "proved shard {shard}: chunks {}..{} of {} ({samples} of {} samples) in {seconds:.2} s",
                chunks.start,
                chunks.end,
                plan.chunks(),
                inputs.len()
            );
            say!("  bundle    {}", &manifest.bundle_id);
            say!("  manifest  {}", path.display());
            say!(
                "merge all {} shards with: glassbox bundle merge {}",
                shard.count,
                first.with_extension("shard-*-of-*.json").display()
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
