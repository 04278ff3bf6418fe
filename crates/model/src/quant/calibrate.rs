//! Scales and calibration: [`quantize`] turns a float MLP into a [`QuantizedModel`] (see the
//! [scales and calibration rules](crate::quant)).

use crate::error::{ModelError, Result};
use crate::lower::dense::FloatMlp;
use crate::lower::smooth::table::TableQuant;
use crate::quant::encoding::InputEncoding;
use crate::quant::model::{QuantizedDense, QuantizedModel, BIAS_LIMIT, DEFAULT_INPUT_RANGE};
use crate::quant::requant::{ACT_MAX, MAX_MULTIPLIER, MULTIPLIER_SHIFT};
use serde::{Deserialize, Serialize};

/// Scales chosen by [`quantize_with_info`] (not part of the integer semantics; for reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizationInfo {
    /// True if calibration samples were used, false for the documented defaults.
    pub calibrated: bool,
    /// The input scale.
    pub input_scale: f64,
    /// `s_w` of each layer.
    pub weight_scales: Vec<f64>,
    /// Effective activation scale of each hidden layer (`s_in · s_w · 2^16 / M`).
    pub activation_scales: Vec<f64>,
    /// For each hidden layer, true if `M` had to be clamped into `1..=65535`.
    pub adjusted: Vec<bool>,
}

/// Quantizes a float MLP (see the [module docs](crate::quant) for scales and calibration).
///
/// # Errors
/// [`ModelError::InputLength`]/[`ModelError::NonFinite`] for bad calibration samples,
/// [`ModelError::BiasOverflow`], [`ModelError::InvalidModel`] for an inconsistent MLP.
pub fn quantize(mlp: &FloatMlp, calibration: Option<&[Vec<f32>]>) -> Result<QuantizedModel> {
    quantize_with_info(mlp, calibration).map(|(q, _)| q)
}

/// [`quantize`], also returning the chosen scales.
///
/// # Errors
/// As [`quantize`].
pub fn quantize_with_info(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
) -> Result<(QuantizedModel, QuantizationInfo)> {
    quantize_inner(mlp, calibration, None)
}

/// [`quantize`] for a network whose inputs are already integer codes (`input_scale` 1: the
/// code is the input), as the tabular lowerings build over affine-encoded features.
///
/// # Errors
/// As [`quantize`].
pub(crate) fn quantize_codes(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
) -> Result<QuantizedModel> {
    quantize_inner(mlp, calibration, Some(127.0)).map(|(q, _)| q)
}

fn quantize_inner(
    mlp: &FloatMlp,
    calibration: Option<&[Vec<f32>]>,
    fixed_input_range: Option<f64>,
) -> Result<(QuantizedModel, QuantizationInfo)> {
    mlp.validate()?;
    if mlp
        .layers
        .iter()
        .any(|l| l.smooth.is_some() && l.table_range.is_none())
    {
        return Err(ModelError::InvalidModel(
            "a smooth activation needs its calibrated table range before quantization".into(),
        ));
    }
    let samples = calibration.filter(|s| !s.is_empty());
    let n_hidden = mlp.layers.len().saturating_sub(1);
    let (input_range, act_max) = match samples {
        Some(samples) => calibrate(mlp, samples, n_hidden)?,
        None => (
            DEFAULT_INPUT_RANGE,
            interval_bounds(mlp, DEFAULT_INPUT_RANGE),
        ),
    };
    let input_scale = fixed_input_range.unwrap_or(input_range) / 127.0;
    let mut s_in = input_scale;
    let mut info = QuantizationInfo {
        calibrated: samples.is_some(),
        input_scale,
        weight_scales: Vec::new(),
        activation_scales: Vec::new(),
        adjusted: Vec::new(),
    };
    let mut layers = Vec::with_capacity(mlp.layers.len());
    let mut output_scale = 1.0;
    for (li, l) in mlp.layers.iter().enumerate() {
        let w_max = l
            .weights
            .iter()
            .fold(0f64, |m, &w| m.max(f64::from(w).abs()));
        let s_w = if w_max > 0.0 { w_max / 127.0 } else { 1.0 };
        let weights: Vec<i8> = l
            .weights
            .iter()
            .map(|&w| (f64::from(w) / s_w).round().clamp(-127.0, 127.0) as i8)
            .collect();
        let s_acc = s_in * s_w;
        // a smooth hidden layer: its table's index starts at the range's low end
        let table = match (&l.smooth, l.table_range) {
            (Some(f), Some(range)) if li < n_hidden => Some(TableQuant::new(f, range, s_acc)?),
            _ => None,
        };
        let lo = table.as_ref().map_or(0.0, |t| t.lo);
        let mut bias = Vec::with_capacity(l.n_out);
        for (i, &b) in l.bias.iter().enumerate() {
            let q = ((f64::from(b) - lo) / s_acc).round();
            if !q.is_finite() || q.abs() >= BIAS_LIMIT as f64 {
                return Err(ModelError::BiasOverflow {
                    layer: li,
                    index: i,
                    value: if q.is_finite() { q as i64 } else { i64::MAX },
                });
            }
            bias.push(q as i64);
        }
        info.weight_scales.push(s_w);
        let multiplier = match act_max.get(li) {
            _ if table.is_some() => {
                let t = table.as_ref().map_or(1, |t| t.multiplier);
                s_in = table.as_ref().map_or(1.0, |t| t.out_scale);
                info.adjusted.push(false);
                info.activation_scales.push(s_in);
                Some(t)
            }
            Some(&a) if li < n_hidden => {
                // a capped ReLU (a ramp) saturates exactly at its cap: its scale is cap/255,
                // with the multiplier range the AIR allows
                let (a, top) = match l.cap {
                    Some(c) => (f64::from(c), MAX_MULTIPLIER - 1),
                    None => (a, (1u32 << MULTIPLIER_SHIFT) - 1),
                };
                let a = if a > 0.0 && a.is_finite() { a } else { 1.0 };
                let s_act = a / ACT_MAX as f64;
                let m = (s_acc / s_act * f64::from(1u32 << MULTIPLIER_SHIFT)).round();
                let clamped = m.clamp(1.0, f64::from(top));
                let m = clamped as u32;
                info.adjusted
                    .push(clamped != (s_acc / s_act * 65536.0).round());
                s_in = s_acc * f64::from(1u32 << MULTIPLIER_SHIFT) / f64::from(m);
                info.activation_scales.push(s_in);
                Some(m)
            }
            _ => {
                output_scale = s_acc;
                None
            }
        };
        layers.push(QuantizedDense {
            n_in: l.n_in,
            n_out: l.n_out,
            weights,
            bias,
            multiplier,
            groups: 1,
            conv: None,
            patch: None,
            table: table.map(|t| t.values),
        });
    }
    let model = QuantizedModel {
        name: mlp.name.clone(),
        input_len: mlp.input_len,
        input_scale,
        input_encoding: InputEncoding::Symmetric,
        layers,
        output_scale,
        classifier: mlp.classifier,
        proof_batch: None,
    };
    model.validate()?;
    Ok((model, info))
}

/// Input range and per-hidden-layer activation maxima from calibration samples.
fn calibrate(mlp: &FloatMlp, samples: &[Vec<f32>], n_hidden: usize) -> Result<(f64, Vec<f64>)> {
    let mut x_max = 0f64;
    let mut act_max = vec![0f64; n_hidden];
    for s in samples {
        if s.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::NonFinite {
                context: "calibration sample".into(),
            });
        }
        let outs = mlp.forward_layers(s)?;
        x_max = s.iter().fold(x_max, |m, &v| m.max(f64::from(v).abs()));
        for (m, layer_out) in act_max.iter_mut().zip(&outs) {
            *m = layer_out.iter().fold(*m, |m, &v| m.max(f64::from(v)));
        }
    }
    let range = if x_max > 0.0 {
        x_max
    } else {
        DEFAULT_INPUT_RANGE
    };
    Ok((range, act_max))
}

/// Worst-case activation bound of each hidden layer for inputs with `|x| <= input_range`.
fn interval_bounds(mlp: &FloatMlp, input_range: f64) -> Vec<f64> {
    let mut a = input_range;
    let mut out = Vec::new();
    for l in mlp.layers.iter().take(mlp.layers.len().saturating_sub(1)) {
        let bound = l
            .weights
            .chunks(l.n_in.max(1))
            .zip(&l.bias)
            .map(|(row, b)| {
                row.iter().map(|w| f64::from(w.abs())).sum::<f64>() * a + f64::from(b.abs())
            })
            .fold(0f64, f64::max);
        out.push(bound);
        a = bound;
    }
    out
}
