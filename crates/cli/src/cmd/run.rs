//! `glassbox run MODEL.gbm --input INPUTS.json`: quantized inference, no proof.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::{files, summary};

/// Run the quantized model on inputs (no proof).
#[derive(clap::Args)]
pub struct Args {
    /// The compiled model.
    #[arg(value_name = "MODEL.gbm")]
    model: PathBuf,
    /// EZKL-style inputs: `{"input_data": [[...], ...]}`.
    #[arg(short, long, value_name = "INPUTS.json")]
    input: PathBuf,
}

impl Args {
    /// Runs the subcommand.
    pub fn run(&self, json: bool) -> Result<ExitCode> {
        let model = files::load_model(&self.model)?;
        let samples = files::load_inputs(&self.input, model.raw_input_len())?;
        let execs = model.run_f32(&samples)?;
        let outputs: Vec<Vec<f64>> = execs.iter().map(|e| model.dequantize_outputs(e)).collect();
        let labels: Vec<usize> = execs.iter().map(|e| e.label).collect();
        if json {
            say!("{}", json!({ "outputs": outputs, "labels": labels }));
        } else {
            for line in summary::sample_lines(&outputs, &labels) {
                say!("{line}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
