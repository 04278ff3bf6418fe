//! Quantization: [`FloatMlp`] → [`QuantizedModel`], and the exact integer requantization rule.
//!
//! # Integer semantics (the specification the STARK proves)
//! For one sample, all arithmetic in `i64`:
//! 1. Input: `q = clamp(round_half_away_from_zero(x / input_scale), -128, 127)`.
//! 2. Every layer: `acc_i = Σ_j W_ij · x_j + b_i` with `W` int8 (row-major `[n_out][n_in]`) and
//!    `|b_i| < 2^31`.
//! 3. Hidden layer with multiplier `M` (`1 <= M < 2^24`, [`MAX_MULTIPLIER`]): `t = (acc · M + 2^15) >> 16` (floor division),
//!    `x = clamp(t, 0, 255)` (ReLU and saturation in one step; activations are u8). A `t` outside
//!    `-65536..=65536 + 255` is [`ModelError::ActivationOverflow`], a documented limit of the proof system.
//! 4. Last layer: the outputs are the raw accumulators; the label is the index of the first maximum.
//!    A real logit is approximately `acc · output_scale`.
//!
//! # Scales
//! * Weights: symmetric per tensor, `s_w = max|w| / 127`, `w_q = round(w / s_w)`.
//! * Biases: `round(b / (s_in · s_w))`.
//! * Hidden activations: `s_act = max_activation / 255`; `M = round(s_in · s_w / s_act · 2^16)`. If `M`
//!   falls outside `1..=65535` it is clamped there and `s_act` is moved to match (recorded in
//!   [`QuantizationInfo::adjusted`]). The *effective* scale `s_in · s_w · 2^16 / M` is the next layer's
//!   `s_in`, so rounding of `M` changes only the scale, never the dequantized meaning.
//! * `output_scale = s_in_last · s_w_last`.
//!
//! # Calibration
//! With samples: `input_scale = max|x| / 127` over all samples, and `max_activation` of each hidden layer
//! is the largest ReLU output seen in the float forward pass over the samples.
//! Without samples (documented default): inputs are assumed to lie in `[-1, 1]`
//! ([`DEFAULT_INPUT_RANGE`], so `input_scale = 1/127`), and each hidden layer's `max_activation` is the
//! worst-case interval bound `max_i (Σ_j |W_ij| · a + |b_i|)` where `a` is the previous layer's bound.
//! That bound never saturates but wastes resolution; calibrate for accuracy.

use serde::{Deserialize, Serialize};

use crate::dense::FloatMlp;
use crate::encoding::InputEncoding;
use crate::error::{ModelError, Result};

/// Fractional bits of the requantization multiplier.
pub const MULTIPLIER_SHIFT: u32 = 16;
/// Multipliers satisfy `1 <= M < MAX_MULTIPLIER` (the AIR's bound, `glassbox_air::MAX_MULTIPLIER`).
/// Quantized MLP layers use `M < 2^16`; larger ones make step functions (tree comparisons).
pub const MAX_MULTIPLIER: u32 = 1 << 24;
/// Smallest requantized value `t` the proof system accepts.
pub const T_MIN: i64 = -65536;
/// Largest requantized value `t` the proof system accepts.
pub const T_MAX: i64 = 65536 + 255;
/// Largest hidden activation (u8).
pub const ACT_MAX: i64 = 255;
/// Bias bound: `|b| < BIAS_LIMIT`.
pub const BIAS_LIMIT: i64 = 1 << 31;
/// Assumed `max|x|` of inputs when no calibration data is given.
pub const DEFAULT_INPUT_RANGE: f64 = 1.0;
/// Largest layer width accepted in a [`QuantizedModel`].
pub const MAX_WIDTH: usize = 1 << 20;
/// Largest total weight count accepted in a [`QuantizedModel`].
pub const MAX_WEIGHTS: usize = 1 << 26;
/// Largest [`QuantizedModel::proof_batch`] accepted.
pub const MAX_PROOF_BATCH: u32 = 1 << 20;

/// A model with exact integer semantics (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedModel {
    /// Model name.
    pub name: String,
    /// Input features.
    pub input_len: usize,
    /// `q = clamp(round_half_away_from_zero(x / input_scale), -128, 127)` under
    /// [`InputEncoding::Symmetric`]; the real value of one input unit in the descriptor.
    pub input_scale: f64,
    /// How float samples become int8 inputs.
    pub input_encoding: InputEncoding,
    /// The layers, first to last.
    pub layers: Vec<QuantizedDense>,
    /// Real logit ≈ `out_int as f64 * output_scale`.
    pub output_scale: f64,
    /// True if the source model ended in `Softmax`/`ArgMax`.
    pub classifier: bool,
    /// Samples one proof must hold (`glassbox compile --proof-batch`): the prover sizes its
    /// trace for them. `None` sizes it for single-inference speed with room for 64 samples.
    pub proof_batch: Option<u32>,
}

/// One integer dense layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedDense {
    /// Input width.
    pub n_in: usize,
    /// Output width.
    pub n_out: usize,
    /// Row-major `[n_out][n_in]` int8 weights.
    pub weights: Vec<i8>,
    /// `n_out` biases, each `|b| < 2^31`.
    pub bias: Vec<i64>,
    /// `Some(M)` (`1 <= M <` [`MAX_MULTIPLIER`]) for hidden layers, `None` for the last layer.
    pub multiplier: Option<u32>,
    /// Block-diagonal groups (1: dense). With `G` groups, output `i` reads only inputs
    /// `g·c .. (g+1)·c` of its group `g = i / (n_out / G)`, `c = n_in / G` (a power of two when
    /// `G > 1`), and `weights` is row-major `[n_out][c]`.
    pub groups: usize,
    /// The convolution this layer computes, if it is one (its `weights` are then the dense
    /// Toeplitz matrix, which a prover may store as a stencil).
    pub conv: Option<ConvGeometry>,
}

/// A stride-1 convolution `C×H×W → O×Ho×Wo` as a layer computes it: input activation
/// `((c·H + y)·W + x)·copies + e` (two copies when the input is a max pool's pair), output row
/// `r` is the natural output `out_order[r] = (o·Ho + y)·Wo + x`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeometry {
    /// Input channels.
    pub channels: usize,
    /// Input height.
    pub height: usize,
    /// Input width.
    pub width: usize,
    /// Activations per input value (1, or 2 after a max pool).
    pub copies: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Output height.
    pub out_height: usize,
    /// Output width.
    pub out_width: usize,
    /// Kernel height.
    pub kernel_h: usize,
    /// Kernel width.
    pub kernel_w: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
    /// Natural output index of each output row.
    pub out_order: Vec<u32>,
}

impl ConvGeometry {
    /// Largest kernel side.
    pub const MAX_KERNEL: usize = 7;

    /// True if the geometry is consistent with a layer of `n_in` inputs and `n_out` outputs:
    /// stride-1 output dimensions, padding below the kernel size, and `out_order` a permutation.
    pub fn fits(&self, n_in: usize, n_out: usize) -> bool {
        let product = |v: &[usize]| v.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
        let inputs = [self.channels, self.height, self.width, self.copies];
        let outputs = [self.out_channels, self.out_height, self.out_width];
        let kernel_ok = |k: usize, pad: usize| (1..=Self::MAX_KERNEL).contains(&k) && pad < k;
        // stride 1: out = in + pad_before + pad_after − k + 1 with pad_after < k
        let dim_ok = |out: usize, input: usize, k: usize, pad: usize| {
            (out + k - 1)
                .checked_sub(input + pad)
                .is_some_and(|after| after < k)
        };
        if product(&inputs) != Some(n_in)
            || product(&outputs) != Some(n_out)
            || !(1..=2).contains(&self.copies)
            || !kernel_ok(self.kernel_h, self.pad_top)
            || !kernel_ok(self.kernel_w, self.pad_left)
            || !dim_ok(self.out_height, self.height, self.kernel_h, self.pad_top)
            || !dim_ok(self.out_width, self.width, self.kernel_w, self.pad_left)
        {
            return false;
        }
        is_permutation(self.out_order.iter().map(|&i| i as usize), n_out)
    }
}

/// True if `items` holds each of `0..n` exactly once.
pub(crate) fn is_permutation(items: impl ExactSizeIterator<Item = usize>, n: usize) -> bool {
    let mut seen = vec![false; n];
    items.len() == n
        && items
            .into_iter()
            .all(|i| seen.get_mut(i).is_some_and(|s| !std::mem::replace(s, true)))
}

impl QuantizedDense {
    /// The weights as a dense row-major `[n_out][n_in]` matrix (zeros outside the groups).
    pub fn dense_weights(&self) -> Vec<i8> {
        let g = self.groups.max(1);
        let (c, m) = (self.n_in / g, (self.n_out / g).max(1));
        let mut out = vec![0i8; self.n_out * self.n_in];
        for (i, row) in self.weights.chunks(c.max(1)).enumerate().take(self.n_out) {
            let start = i * self.n_in + (i / m) * c;
            out[start..start + row.len()].copy_from_slice(row);
        }
        out
    }
}

/// The result of [`requantize`]: `acc · M + 2^15 = t · 2^16 + remainder`, `x = clamp(t, 0, 255)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requantized {
    /// `floor((acc · M + 2^15) / 2^16)`.
    pub t: i64,
    /// `0 <= remainder < 2^16`.
    pub remainder: i64,
    /// The activation `clamp(t, 0, 255)`.
    pub x: i64,
}

/// Requantizes one hidden accumulator.
///
/// Errors carry `layer: 0, index: 0`; use [`requantize_at`] to report the real position.
///
/// # Errors
/// [`ModelError::InvalidMultiplier`], [`ModelError::ArithmeticOverflow`], or
/// [`ModelError::ActivationOverflow`] if `t` is outside [`T_MIN`]`..=`[`T_MAX`].
pub fn requantize(acc: i64, multiplier: u32) -> Result<Requantized> {
    requantize_at(acc, multiplier, 0, 0)
}

/// [`requantize`] reporting `layer` and `index` in an [`ModelError::ActivationOverflow`].
///
/// # Errors
/// As [`requantize`].
pub fn requantize_at(acc: i64, multiplier: u32, layer: usize, index: usize) -> Result<Requantized> {
    if multiplier == 0 || multiplier >= MAX_MULTIPLIER {
        return Err(ModelError::InvalidMultiplier { value: multiplier });
    }
    let v = acc
        .checked_mul(i64::from(multiplier))
        .and_then(|v| v.checked_add(1 << (MULTIPLIER_SHIFT - 1)))
        .ok_or_else(|| ModelError::ArithmeticOverflow {
            context: format!("requantize(acc = {acc}, M = {multiplier})"),
        })?;
    let t = v >> MULTIPLIER_SHIFT;
    let remainder = v - (t << MULTIPLIER_SHIFT);
    if !(T_MIN..=T_MAX).contains(&t) {
        return Err(ModelError::ActivationOverflow {
            layer,
            index,
            value: t,
        });
    }
    Ok(Requantized {
        t,
        remainder,
        x: t.clamp(0, ACT_MAX),
    })
}

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

/// Quantizes a float MLP (see the [module docs](self) for scales and calibration).
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
    mlp.validate()?;
    let samples = calibration.filter(|s| !s.is_empty());
    let n_hidden = mlp.layers.len().saturating_sub(1);
    let (input_range, act_max) = match samples {
        Some(samples) => calibrate(mlp, samples, n_hidden)?,
        None => (
            DEFAULT_INPUT_RANGE,
            interval_bounds(mlp, DEFAULT_INPUT_RANGE),
        ),
    };
    let input_scale = input_range / 127.0;
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
        let mut bias = Vec::with_capacity(l.n_out);
        for (i, &b) in l.bias.iter().enumerate() {
            let q = (f64::from(b) / s_acc).round();
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
            Some(&a) if li < n_hidden => {
                let a = if a > 0.0 && a.is_finite() { a } else { 1.0 };
                let s_act = a / ACT_MAX as f64;
                let m = (s_acc / s_act * f64::from(1u32 << MULTIPLIER_SHIFT)).round();
                let clamped = m.clamp(1.0, f64::from((1u32 << MULTIPLIER_SHIFT) - 1));
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

impl QuantizedModel {
    /// Checks every structural rule of the integer semantics: widths chain, array lengths, bias bound,
    /// multipliers present exactly on hidden layers and in range, finite positive scales, size limits.
    ///
    /// # Errors
    /// [`ModelError::InvalidModel`], [`ModelError::BiasOverflow`], [`ModelError::InvalidMultiplier`],
    /// [`ModelError::TooLarge`].
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ModelError::InvalidModel(m));
        if self.layers.is_empty() {
            return bad("no layers".into());
        }
        for s in [self.input_scale, self.output_scale] {
            if !(s.is_finite() && s > 0.0) {
                return bad(format!("scale {s} is not finite and positive"));
            }
        }
        self.input_encoding.validate(self.input_len)?;
        if let Some(k) = self.proof_batch {
            if k == 0 || k > MAX_PROOF_BATCH {
                return bad(format!("proof batch {k} is outside 1..={MAX_PROOF_BATCH}"));
            }
        }
        let mut width = self.input_len;
        let mut total = 0usize;
        let n = self.layers.len();
        for (li, l) in self.layers.iter().enumerate() {
            if l.n_in > MAX_WIDTH || l.n_out > MAX_WIDTH {
                return Err(ModelError::TooLarge {
                    what: "layer width",
                    limit: MAX_WIDTH as u64,
                    got: l.n_in.max(l.n_out) as u64,
                });
            }
            if l.n_in != width || l.n_in == 0 || l.n_out == 0 {
                return bad(format!(
                    "layer {li} takes {} inputs, previous width is {width}",
                    l.n_in
                ));
            }
            let g = l.groups;
            if g == 0
                || !l.n_in.is_multiple_of(g)
                || !l.n_out.is_multiple_of(g)
                || (g > 1 && !(l.n_in / g).is_power_of_two())
            {
                return bad(format!(
                    "layer {li} has {g} groups for {} inputs and {} outputs",
                    l.n_in, l.n_out
                ));
            }
            let nw = (l.n_in / g).saturating_mul(l.n_out);
            total = total.saturating_add(nw);
            if total > MAX_WEIGHTS {
                return Err(ModelError::TooLarge {
                    what: "weight count",
                    limit: MAX_WEIGHTS as u64,
                    got: total as u64,
                });
            }
            if l.weights.len() != nw || l.bias.len() != l.n_out {
                return bad(format!("layer {li} has inconsistent weight or bias length"));
            }
            if let Some(conv) = &l.conv {
                if g != 1 || !conv.fits(l.n_in, l.n_out) {
                    return bad(format!(
                        "layer {li} has an inconsistent convolution geometry"
                    ));
                }
            }
            if let Some((i, &b)) = l
                .bias
                .iter()
                .enumerate()
                .find(|(_, b)| b.abs() >= BIAS_LIMIT)
            {
                return Err(ModelError::BiasOverflow {
                    layer: li,
                    index: i,
                    value: b,
                });
            }
            match (l.multiplier, li + 1 < n) {
                (Some(m), true) if m == 0 || m >= MAX_MULTIPLIER => {
                    return Err(ModelError::InvalidMultiplier { value: m })
                }
                (Some(_), true) | (None, false) => {}
                _ => {
                    return bad(format!(
                        "layer {li}: hidden layers need a multiplier, the last layer none"
                    ))
                }
            }
            width = l.n_out;
        }
        Ok(())
    }

    /// Number of outputs (width of the last layer).
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_at_half() {
        // acc = 1, M = 2^15: acc * M / 2^16 = 0.5; (2^15 + 2^15) >> 16 = 1, remainder 0: 0.5 rounds up.
        let r = requantize(1, 1 << 15).unwrap();
        assert_eq!((r.t, r.remainder, r.x), (1, 0, 1));
        // acc = -1, M = 2^15: (-2^15 + 2^15) >> 16 = 0: -0.5 rounds up (towards +inf) to 0.
        let r = requantize(-1, 1 << 15).unwrap();
        assert_eq!((r.t, r.remainder, r.x), (0, 0, 0));
        // acc = 3, M = 2^15: 1.5 → 2.
        assert_eq!(requantize(3, 1 << 15).unwrap().t, 2);
        // -1.5 → -1.
        assert_eq!(requantize(-3, 1 << 15).unwrap().t, -1);
    }

    #[test]
    fn negative_acc_floors_and_remainder_in_range() {
        let r = requantize(-100_000, 3).unwrap();
        // -300000 + 32768 = -267232 = -5 * 65536 + 60448
        assert_eq!((r.t, r.remainder, r.x), (-5, 60448, 0));
        for acc in [-1_000_000i64, -65537, -1, 0, 1, 65535, 999_999] {
            for m in [1u32, 2, 12345, 65535] {
                let r = match requantize(acc, m) {
                    Ok(r) => r,
                    Err(ModelError::ActivationOverflow { value, .. }) => {
                        assert!(!(T_MIN..=T_MAX).contains(&value));
                        continue;
                    }
                    Err(e) => panic!("{e}"),
                };
                assert!((0..65536).contains(&r.remainder));
                assert_eq!(acc * i64::from(m) + 32768, r.t * 65536 + r.remainder);
            }
        }
    }

    #[test]
    fn clamps_at_0_and_255() {
        assert_eq!(requantize(-10, 65535).unwrap().x, 0);
        let r = requantize(300, 65535).unwrap(); // t = 300 (300*65535+32768 >> 16 = 299.99.. + .5)
        assert_eq!((r.t, r.x), (300, 255));
        assert_eq!(requantize(255, 65535).unwrap().x, 255);
        assert_eq!(requantize(256, 65535).unwrap().x, 255);
    }

    #[test]
    fn overflow_limits() {
        // t = T_MAX is accepted, T_MAX + 1 is not: with M = 1 << 15 t = round(acc / 2).
        assert_eq!(requantize(2 * T_MAX, 1 << 15).unwrap().t, T_MAX);
        assert!(matches!(
            requantize_at(2 * T_MAX + 2, 1 << 15, 3, 7),
            Err(ModelError::ActivationOverflow { layer: 3, index: 7, value }) if value == T_MAX + 1
        ));
        assert_eq!(requantize(2 * T_MIN, 1 << 15).unwrap().t, T_MIN);
        assert!(matches!(
            requantize(2 * T_MIN - 2, 1 << 15),
            Err(ModelError::ActivationOverflow { value, .. }) if value == T_MIN - 1
        ));
        assert!(matches!(
            requantize(i64::MAX / 2, 65535),
            Err(ModelError::ArithmeticOverflow { .. })
        ));
        // A step: M = 255·2^16 maps every positive accumulator to 255 and the rest to 0.
        let step = 255 << MULTIPLIER_SHIFT;
        assert_eq!(requantize(1, step).unwrap().x, 255);
        assert_eq!(requantize(0, step).unwrap().x, 0);
        assert_eq!(requantize(254, step).unwrap().t, 254 * 255);
        assert!(matches!(
            requantize(1, 0),
            Err(ModelError::InvalidMultiplier { value: 0 })
        ));
        assert!(matches!(
            requantize(1, MAX_MULTIPLIER),
            Err(ModelError::InvalidMultiplier { .. })
        ));
    }
}
