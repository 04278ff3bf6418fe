//! `glassbox bundle merge PROOF.shard-*-of-N.json [-o PROOF.bundle.json]`.
//!
//! Assembles the bundle manifest of a batch proven as `N` shards (`glassbox prove --shard I/N`
//! on as many machines or processes). The shard manifests must be exactly shards `0..N` of one
//! batch of one model, chunked alike and at one security level: a missing or doubled shard, a
//! shard of another batch or model, or another `N` is an error naming the files, and nothing is
//! written. Chunk files in another directory than the output are copied beside it. The merged
//! manifest is the one a single `glassbox prove` of the batch writes, and `glassbox verify`
//! checks it the same way (each proof binds its chunk index, the chunk count and the bundle id,
//! so the merge is not trusted).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

/// Work with bundles.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Merge the shard manifests of `glassbox prove --shard I/N` into one bundle manifest.
    Merge(Merge),
}

/// `bundle merge`'s arguments.
#[derive(clap::Args)]
struct Merge {
    /// Every shard's manifest (`PROOF.shard-I-of-N.json`), in any order.
    #[arg(value_name = "SHARD.json", required = true)]
    shards: Vec<PathBuf>,
    /// The merged manifest (default: `PROOF.bundle.json` beside the first shard's files).
    #[arg(short, long, value_name = "PROOF.bundle.json")]
    output: Option<PathBuf>,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let Action::Merge(m) = &self.action;
        if let Some(out) = &m.output {
            anyhow::ensure!(
                out.to_string_lossy().ends_with(".bundle.json"),
                "the merged manifest {} must end in .bundle.json (that is how `glassbox verify` \
                 tells a manifest from a proof)",
                out.display()
            );
        }
        let (path, manifest) = glassbox::shard::merge(&m.shards, m.output.as_deref())?;
        if json {
            say!(
                "{}",
                json!({
                    "manifest": path, "digest": manifest.digest, "samples": manifest.samples,
                    "proofs": manifest.proofs.len(), "shards": m.shards.len(),
                })
            );
        } else {
            say!(
                "merged {} shards: {} proofs, {} samples → {}",
                m.shards.len(),
                manifest.proofs.len(),
                manifest.samples,
                path.display()
            );
            say!(
                "verify with: glassbox verify {} --digest {}",
                path.display(),
                manifest.digest
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}
