//! Float-vs-integer agreement over a data set.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::lower::dense::FloatMlp;
use crate::lower::smooth::expand::ActivationFidelity;
use crate::quant::model::QuantizedModel;

/// How closely a [`QuantizedModel`] follows its float source on a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FidelityReport {
    /// Number of samples compared.
    pub samples: usize,
    /// Fraction of samples whose integer label equals the float argmax (first maximum).
    pub argmax_agreement: f64,
    /// Largest `|float logit - out_int * output_scale|` over all samples and outputs.
    pub max_abs_error: f64,
    /// Mean of the same absolute error over all samples and outputs.
    pub mean_abs_error: f64,
    /// Each smooth activation's ramp fit (empty for models without one).
    #[serde(default)]
    pub activations: Vec<ActivationFidelity>,
}

/// Compares float logits of `mlp` with the dequantized integer outputs of `model` on `data`.
///
/// # Errors
/// [`ModelError::InvalidModel`] for an empty data set; input and execution errors from either model.
pub fn fidelity(
    mlp: &FloatMlp,
    model: &QuantizedModel,
    data: &[Vec<f32>],
) -> Result<FidelityReport> {
    fidelity_against(model, data, |x| {
        Ok(mlp.forward(x)?.into_iter().map(f64::from).collect())
    })
}

/// Compares `float(x)` (the float model's logits or decision scores) with the dequantized
/// integer outputs of `model` on every sample: first-maximum agreement and absolute error.
///
/// # Errors
/// [`ModelError::InvalidModel`] for an empty data set; errors of `float` or of the integer run.
pub fn fidelity_against(
    model: &QuantizedModel,
    data: &[Vec<f32>],
    mut float: impl FnMut(&[f32]) -> Result<Vec<f64>>,
) -> Result<FidelityReport> {
    if data.is_empty() {
        return Err(ModelError::InvalidModel(
            "fidelity needs at least one sample".into(),
        ));
    }
    let execs = model.run_f32(data)?;
    let mut agree = 0usize;
    let mut max_abs = 0f64;
    let mut sum_abs = 0f64;
    let mut count = 0usize;
    for (sample, exec) in data.iter().zip(&execs) {
        let logits = float(sample)?;
        let best = (0..logits.len()).fold(0, |b, i| if logits[i] > logits[b] { i } else { b });
        if best == exec.label {
            agree += 1;
        }
        for (f, q) in logits.iter().zip(model.dequantize_outputs(exec)) {
            let e = (f - q).abs();
            max_abs = max_abs.max(e);
            sum_abs += e;
            count += 1;
        }
    }
    Ok(FidelityReport {
        samples: data.len(),
        argmax_agreement: agree as f64 / data.len() as f64,
        max_abs_error: max_abs,
        mean_abs_error: if count > 0 {
            sum_abs / count as f64
        } else {
            0.0
        },
        activations: Vec::new(),
    })
}

impl fmt::Display for FidelityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "fidelity (float vs quantized)")?;
        writeln!(f, "  samples           {:>10}", self.samples)?;
        writeln!(
            f,
            "  argmax agreement  {:>9.2}%",
            self.argmax_agreement * 100.0
        )?;
        writeln!(f, "  max abs error     {:>10.5}", self.max_abs_error)?;
        write!(f, "  mean abs error    {:>10.5}", self.mean_abs_error)?;
        for a in &self.activations {
            write!(
                f,
                "\n  activation after layer {}: {} through a {}-entry table on [{:.3}, {:.3}], table error max {:.5}, mean {:.5}",
                a.layer, a.function, a.segments, a.range.0, a.range.1, a.error.max, a.error.mean
            )?;
        }
        Ok(())
    }
}
