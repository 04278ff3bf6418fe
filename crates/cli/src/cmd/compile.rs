//! `glassbox compile MODEL.onnx [--calibrate SAMPLES.json] [-o MODEL.gbm]`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use glassbox_model::MAX_PROOF_BATCH;
use serde_json::json;

use crate::{files, progress::Spinner, summary};

/// Quantize an ONNX model into a `.gbm` artifact and print its digest.
#[derive(clap::Args)]
pub struct Args {
    /// The ONNX model: a `Gemm`/`MatMul`+`Add` → `Relu` MLP, or a scikit-learn tree ensemble or linear
    /// model (`ai.onnx.ml` `TreeEnsemble*`, `Linear*`, as skl2onnx exports them).
    #[arg(value_name = "MODEL.onnx")]
    model: PathBuf,
    /// EZKL-style samples (`{"input_data": [[...], ...]}`) to calibrate activation scales; also
    /// prints a float-vs-integer fidelity report on them.
    #[arg(long, value_name = "SAMPLES.json")]
    calibrate: Option<PathBuf>,
    /// Where to write the artifact (default: the model path with extension `.gbm`).
    #[arg(short, long, value_name = "MODEL.gbm")]
    output: Option<PathBuf>,
    /// Size the trace so that one proof holds K samples, for fewer and larger proofs of big
    /// batches (default: sized for single-inference speed, with room for 64 samples). Changes
    /// the digest.
    #[arg(
        long,
        value_name = "K",
        value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_PROOF_BATCH))
    )]
    proof_batch: Option<u32>,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let onnx = files::read(&self.model, "ONNX model")?;
        let calibration = match &self.calibrate {
            Some(p) => Some(
                glassbox_model::parse_input_json(&files::read_text(p, "calibration file")?, None)
                    .with_context(|| format!("bad calibration samples in {}", p.display()))?,
            ),
            None => None,
        };
        let spinner = Spinner::start(json, "compiling");
        let compiled = glassbox::compile(&onnx, calibration.as_deref(), self.proof_batch).map_err(
            |e| match e {
                glassbox::CompileModelError::Model(e) => anyhow::Error::new(e)
                    .context(format!("cannot compile {}", self.model.display())),
                glassbox::CompileModelError::Layout { source, .. } => anyhow::Error::new(source)
                    .context(match self.proof_batch {
                        Some(k) => {
                            format!("{} cannot hold {k} samples per proof", self.model.display())
                        }
                        None => format!("{} does not fit a provable layout", self.model.display()),
                    }),
            },
        )?;
        let (model, program, report) = (compiled.model, compiled.program, compiled.fidelity);
        let output = self
            .output
            .clone()
            .unwrap_or_else(|| self.model.with_extension("gbm"));
        let bytes = model
            .to_bytes()
            .context("cannot encode the compiled model")?;
        files::write_atomic(&output, &bytes)?;
        drop(spinner);

        let digest = program.digest().to_hex();
        let layout = program.layout(1)?;
        if json {
            let out = json!({
                "digest": digest,
                "output": output,
                "fidelity": report,
                "trace_len": layout.trace_len,
                "main_width": layout.main_width,
                "aux_width": layout.aux.width,
                "max_batch": program.max_batch(),
                "proof_batch": model.proof_batch,
                "layers": program.descriptor.layers.iter().map(|l| [l.n_in, l.n_out]).collect::<Vec<_>>(),
            });
            say!("{out}");
        } else {
            say!(
                "compiled {} → {} ({})",
                self.model.display(),
                output.display(),
                summary::kb(bytes.len())
            );
            say!("  layers    {}", summary::layer_shapes(&program));
            say!("  digest    {digest}");
            say!(
                "  trace     {} (one sample)",
                summary::trace_shape(&program, 1)
            );
            say!(
                "  batch     {}",
                summary::batch_capacity(&program, model.proof_batch)
            );
            match &report {
                Some(r) => {
                    say!(
                        "  fidelity  argmax agreement {:.2}% on {} samples, max |err| {:.4}, mean |err| {:.4}",
                        r.argmax_agreement * 100.0,
                        r.samples,
                        r.max_abs_error,
                        r.mean_abs_error
                    );
                    for a in &r.activations {
                        say!(
                            "  activation after layer {}: {} through a {}-entry table on [{:.3}, {:.3}]; \
                             table error max {:.5}, mean {:.5}",
                            a.layer,
                            a.function,
                            a.segments,
                            a.range.0,
                            a.range.1,
                            a.error.max,
                            a.error.mean
                        );
                    }
                }
                None => say!(
                    "  fidelity  not measured (pass --calibrate SAMPLES.json; default scales used)"
                ),
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
