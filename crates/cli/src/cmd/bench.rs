//! `glassbox bench`: proving and verification cost per model and batch, as a markdown table.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use glassbox_air::ProofEnvelope;
use glassbox_trace::Program;
use serde::Serialize;
use serde_json::json;

use crate::{embedded, files, progress::Spinner, summary};

/// Measure proving and verification on fixture models.
#[derive(clap::Args)]
pub struct Args {
    /// ONNX models, comma separated (default: the embedded digits MLPs 64-32-10 and 64-128-64-10).
    #[arg(long, value_delimiter = ',', value_name = "A.onnx,B.onnx")]
    models: Vec<PathBuf>,
    /// Batch sizes, comma separated; a batch beyond one proof's capacity is proven as a bundle.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,8,64",
        value_name = "N,N"
    )]
    batches: Vec<usize>,
    /// Security preset: 100 or 128.
    #[arg(long, default_value_t = 100, value_name = "BITS")]
    security: u32,
}

/// One measured (model, batch).
#[derive(Serialize)]
struct Row {
    model: String,
    batch: usize,
    proofs: usize,
    trace_len: usize,
    main_width: usize,
    aux_width: usize,
    main_cells_per_weight: f64,
    main_cells_per_sample: f64,
    main_cells_per_mac: f64,
    prove_ms: f64,
    amortized_ms: f64,
    verify_ms: f64,
    proof_kb: f64,
    peak_rss_mb: Option<f64>,
    security_bits: u32,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let level = summary::parse_security(self.security)?;
        anyhow::ensure!(
            self.batches.iter().all(|&b| b > 0),
            "--batches must all be at least 1"
        );
        let models: Vec<(String, Vec<u8>)> = if self.models.is_empty() {
            embedded::BENCH_MODELS
                .iter()
                .map(|(n, b)| (n.to_string(), b.to_vec()))
                .collect()
        } else {
            self.models
                .iter()
                .map(|p| {
                    let name = p.file_stem().map_or_else(
                        || p.display().to_string(),
                        |s| s.to_string_lossy().into_owned(),
                    );
                    Ok((name, files::read(p, "ONNX model")?))
                })
                .collect::<Result<_>>()?
        };
        let digits = glassbox_model::parse_input_json(embedded::DIGITS_16, Some(64))?;
        let spinner = Spinner::start(json, "benchmarking");
        let mut rows = Vec::new();
        for (name, onnx) in &models {
            let (model, _) = glassbox_model::compile_onnx(onnx, None)
                .with_context(|| format!("cannot compile {name}"))?;
            let program = Program::compile(&model)?;
            let pool: Vec<Vec<i64>> = if model.input_len == 64 {
                digits
                    .iter()
                    .map(|s| model.quantize_input(s))
                    .collect::<Result<_, _>>()?
            } else {
                (0..16)
                    .map(|s| {
                        (0..model.input_len)
                            .map(|i| ((i * 7 + s * 13) % 64) as i64)
                            .collect()
                    })
                    .collect()
            };
            for &batch in &self.batches {
                spinner.set(format!("{name}, batch {batch}"));
                let inputs: Vec<Vec<i64>> = pool.iter().cycle().take(batch).cloned().collect();
                rows.push(measure(name, &program, &inputs, level)?);
            }
        }
        drop(spinner);
        if json {
            say!("{}", json!({ "rows": rows, "machine": machine() }));
        } else {
            print_table(&rows);
        }
        Ok(ExitCode::SUCCESS)
    }
}

fn measure(
    name: &str,
    program: &Program,
    inputs: &[Vec<i64>],
    level: glassbox_air::SecurityLevel,
) -> Result<Row> {
    let batch = inputs.len();
    let per_proof = batch.min(program.max_batch());
    let mut prove_times = Vec::new();
    let mut proofs: Vec<ProofEnvelope> = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        proofs = glassbox_prover::prove_bundle(program, inputs, per_proof, level)?;
        prove_times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let bytes: Vec<Vec<u8>> = proofs.iter().map(ProofEnvelope::to_bytes).collect();
    let digest = program.digest();
    let mut verify_times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for b in &bytes {
            glassbox_verifier::verify(b, &digest, level.conjectured_bits())
                .map_err(|e| anyhow::anyhow!("benchmark proof did not verify: {e}"))?;
        }
        verify_times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let (mut main_cells, mut weight_cells, mut sample_cells) = (0, 0, 0);
    let mut first = None;
    for chunk in inputs.chunks(per_proof) {
        let layout = program.layout(chunk.len())?;
        main_cells += layout.main_cells();
        weight_cells += layout.weight_cells();
        sample_cells += layout.sample_cells();
        first.get_or_insert(layout);
    }
    let layout = first.context("empty batch")?;
    let (weights, macs) = program
        .descriptor
        .layers
        .iter()
        .zip(&program.weights)
        .map(|(layer, w)| weights_and_products(layer, w))
        .fold((0, 0), |(a, b), (w, m)| (a + w, b + m));
    let prove_ms = median(&mut prove_times);
    Ok(Row {
        model: name.to_string(),
        batch,
        proofs: proofs.len(),
        trace_len: layout.trace_len,
        main_width: layout.main_width,
        aux_width: layout.aux.width,
        main_cells_per_weight: weight_cells as f64 / weights as f64,
        main_cells_per_sample: sample_cells as f64 / batch as f64,
        main_cells_per_mac: main_cells as f64 / (macs * batch) as f64,
        prove_ms,
        amortized_ms: prove_ms / batch as f64,
        verify_ms: median(&mut verify_times),
        proof_kb: bytes.iter().map(Vec::len).sum::<usize>() as f64 / 1024.0,
        peak_rss_mb: peak_rss_mb(),
        security_bits: level.conjectured_bits(),
    })
}

fn print_table(rows: &[Row]) {
    say!(
        "| model | batch | trace rows × main cols + aux cols | weight cells / weight | sample cells / sample \
         | main cells / MAC | prove ms | ms / inference | verify ms | proof KB | peak RSS MB | security bits |"
    );
    say!("|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for r in rows {
        let proofs = if r.proofs > 1 {
            format!("{} proofs: ", r.proofs)
        } else {
            String::new()
        };
        say!(
            "| {} | {} | {proofs}{} × {} + {} | {:.1} | {:.0} | {:.2} | {:.1} | {:.2} | {:.2} | {:.1} | {} | {} |",
            r.model,
            r.batch,
            r.trace_len,
            r.main_width,
            r.aux_width,
            r.main_cells_per_weight,
            r.main_cells_per_sample,
            r.main_cells_per_mac,
            r.prove_ms,
            r.amortized_ms,
            r.verify_ms,
            r.proof_kb,
            r.peak_rss_mb.map_or("n/a".into(), |m| format!("{m:.0}")),
            r.security_bits
        );
    }
    let m = machine();
    say!();
    say!(
        "Prove: median of 3, verify: median of 5 (all proofs of a bundle, summed). Peak RSS is the \
         process high-water mark so far (VmHWM), not per row. Weight cells: the weight \
         columns (once per proof) over the weights (a patch layer's nonzero kernel cells); sample \
         cells: layer-input and requantization columns, per sample of the batch; main cells / \
         MAC: all main cells over batch × multiply-accumulates (a block-diagonal layer's blocks, \
         a stencil layer's kernel taps, a patch layer's kernel cells times its plane)."
    );
    say!(
        "Build: debug_assertions={}, target-cpu=native={}, RUSTFLAGS: {}; machine: {} cores, {}.",
        m["debug_assertions"],
        m["target_cpu_native"],
        m["rustflags"]
            .as_str()
            .filter(|f| !f.is_empty())
            .unwrap_or("none"),
        m["cores"],
        m["cpu"].as_str().unwrap_or("unknown CPU")
    );
}

fn machine() -> serde_json::Value {
    let flags = option_env!("GB_RUSTFLAGS").unwrap_or("");
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    json!({
        "debug_assertions": cfg!(debug_assertions),
        "target_cpu_native": flags.contains("target-cpu=native"),
        "rustflags": flags,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "cpu": cpu,
    })
}

/// Process peak resident set (VmHWM) in MB, from `/proc/self/status` (Linux only).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// A layer's weights and multiply-accumulates per sample: for a patch layer its nonzero kernel
/// cells (`kernel`), each applied at every position of its plane; otherwise both are
/// [`products`].
fn weights_and_products(layer: &glassbox_air::LayerDescriptor, kernel: &[i8]) -> (usize, usize) {
    match &layer.patch {
        Some(shape) => {
            let taps = kernel.iter().filter(|&&w| w != 0).count();
            (taps, taps * shape.plane)
        }
        None => (products(layer), products(layer)),
    }
}

/// Multiply-accumulates one sample costs in `layer` (and weights it can hold): `n_in·n_out` for a
/// dense layer, `n_in·n_out/G` for a block-diagonal one, and for a stencil layer the
/// input-output pairs its kernel connects (border taps that fall in the padding excluded).
fn products(layer: &glassbox_air::LayerDescriptor) -> usize {
    let Some(c) = &layer.conv else {
        return layer.n_in * layer.n_out / layer.groups.max(1);
    };
    // per output row/column, the taps that land inside the input
    let hits = |out: usize, input: usize, k: usize, pad: usize| -> usize {
        (0..out)
            .map(|y| {
                (0..k)
                    .filter(|&d| (y + d).checked_sub(pad).is_some_and(|q| q < input))
                    .count()
            })
            .sum()
    };
    let rows = hits(c.out_height, c.height, c.kernel_h, c.pad_top);
    let cols = hits(c.out_width, c.width, c.kernel_w, c.pad_left);
    c.out_channels * c.channels * c.copies * rows * cols
}
