//! Quantization: [`FloatMlp`](crate::lower::dense::FloatMlp) → [`QuantizedModel`](model::QuantizedModel), and the exact integer requantization rule.
//!
//! # Integer semantics (the specification the STARK proves)
//! For one sample, all arithmetic in `i64`:
//! 1. Input: `q = clamp(round_half_away_from_zero(x / input_scale), -128, 127)`.
//! 2. Every layer: `acc_i = Σ_j W_ij · x_j + b_i` with `W` int8 (row-major `[n_out][n_in]`) and
//!    `|b_i| < 2^31`.
//! 3. Hidden layer with multiplier `M` (`1 <= M < 2^24`, [`MAX_MULTIPLIER`](requant::MAX_MULTIPLIER)): `t = (acc · M + 2^15) >> 16` (floor division),
//!    `x = clamp(t, 0, 255)` (ReLU and saturation in one step; activations are u8). A `t` outside
//!    `-65536..=65536 + 255` is [`ModelError::ActivationOverflow`](crate::ModelError::ActivationOverflow), a documented limit of the proof system.
//! 4. Last layer: the outputs are the raw accumulators; the label is the index of the first maximum.
//!    A real logit is approximately `acc · output_scale`.
//!
//! # Scales
//! * Weights: symmetric per tensor, `s_w = max|w| / 127`, `w_q = round(w / s_w)`.
//! * Biases: `round(b / (s_in · s_w))`.
//! * Hidden activations: `s_act = max_activation / 255`; `M = round(s_in · s_w / s_act · 2^16)`. If `M`
//!   falls outside `1..=65535` it is clamped there and `s_act` is moved to match (recorded in
//!   [`QuantizationInfo::adjusted`](calibrate::QuantizationInfo::adjusted)). The *effective* scale `s_in · s_w · 2^16 / M` is the next layer's
//!   `s_in`, so rounding of `M` changes only the scale, never the dequantized meaning.
//! * `output_scale = s_in_last · s_w_last`.
//!
//! # Calibration
//! With samples: `input_scale = max|x| / 127` over all samples, and `max_activation` of each hidden layer
//! is the largest ReLU output seen in the float forward pass over the samples.
//! Without samples (documented default): inputs are assumed to lie in `[-1, 1]`
//! ([`DEFAULT_INPUT_RANGE`](model::DEFAULT_INPUT_RANGE), so `input_scale = 1/127`), and each hidden layer's `max_activation` is the
//! worst-case interval bound `max_i (Σ_j |W_ij| · a + |b_i|)` where `a` is the previous layer's bound.
//! That bound never saturates but wastes resolution; calibrate for accuracy.

pub(crate) mod calibrate;
pub(crate) mod compact;
pub(crate) mod encoding;
pub(crate) mod fidelity;
pub(crate) mod model;
pub(crate) mod requant;
