//! The quantized model: integer layers, their optional convolution geometry, the input encoding,
//! and the structural rules every model obeys (see the [integer semantics](crate::quant)).

use glassbox_air::ConvDims;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};
use crate::quant::encoding::{self, InputEncoding, InputEncodingDef};
use crate::quant::requant::MAX_MULTIPLIER;

/// Bias bound: `|b| < BIAS_LIMIT`.
pub(crate) const BIAS_LIMIT: i64 = 1 << 31;
/// Assumed `max|x|` of inputs when no calibration data is given.
pub(crate) const DEFAULT_INPUT_RANGE: f64 = 1.0;
/// Largest layer width accepted in a [`QuantizedModel`].
pub(crate) const MAX_WIDTH: usize = 1 << 20;
/// Largest total weight count accepted in a [`QuantizedModel`].
pub(crate) const MAX_WEIGHTS: usize = 1 << 26;
/// Largest [`QuantizedModel::proof_batch`] accepted.
pub const MAX_PROOF_BATCH: u32 = 1 << 20;

/// A model with exact integer semantics (see the [module docs](crate::quant)).
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
    #[serde(with = "InputEncodingDef")]
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
    /// `Some` for a patch layer: a cyclic correlation over planes ([`PatchGeometry`]), whose
    /// `weights` are its `out_channels` kernel rows of `n_in` cells (`groups` is 1, `conv` None).
    pub patch: Option<PatchGeometry>,
    /// `Some` for a hidden layer whose outputs pass through an activation table: the next layer
    /// reads `table[x]` (256 values, `|v| ≤ 255`) for each requantized output `x`. This is how
    /// smooth activations are computed (see `glassbox_air::table`).
    pub table: Option<Vec<i64>>,
}

/// A patch layer's sizes (see `glassbox_air::conv::PatchShape` for the operator it computes and
/// how a convolution becomes one) and, for each output row `r`, the natural output
/// `out_order[r] = o·P + p` it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchGeometry {
    /// Input planes.
    pub planes: usize,
    /// Activations per plane `P` (a power of two).
    pub plane: usize,
    /// Output planes.
    pub out_channels: usize,
    /// Natural output index of each output row.
    pub out_order: Vec<u32>,
    /// True if the next layer reads the maximum of each window of four consecutive output rows
    /// (a 2×2 max pool, proven by the AIR's pool unit) instead of the rows themselves.
    #[serde(default)]
    pub pooled: bool,
    /// True if reads beyond a plane's ends are zero instead of wrapping around (offsets
    /// `s ≥ P/2` read back by `P − s`; see `glassbox_air::conv::PatchShape::linear`).
    #[serde(default)]
    pub linear: bool,
}

impl PatchGeometry {
    /// Output rows per input of the next layer: 4 if pooled, else 1.
    pub fn window(&self) -> usize {
        if self.pooled {
            glassbox_air::conv::POOL_WINDOW
        } else {
            1
        }
    }

    /// True if the geometry is consistent with a layer of `n_in` inputs and `n_out` outputs.
    pub fn fits(&self, n_in: usize, n_out: usize) -> bool {
        self.plane.is_power_of_two()
            && self.plane >= 2 * self.window()
            && self.planes.checked_mul(self.plane) == Some(n_in)
            && self.out_channels.checked_mul(self.plane) == Some(n_out)
            && is_permutation(self.out_order.iter().map(|&i| i as usize), n_out)
    }

    /// The AIR's shape of this geometry (`None` if the output order is not a mixed-radix order
    /// of a power-of-two count).
    pub fn shape(&self) -> Option<glassbox_air::conv::PatchShape> {
        Some(glassbox_air::conv::PatchShape {
            planes: self.planes,
            plane: self.plane,
            out_channels: self.out_channels,
            out_order: order_digits_padded(
                &self.out_order,
                self.out_order.len().next_power_of_two(),
            )?,
            pooled: self.pooled,
            linear: self.linear,
        })
    }
}

/// `order` (the natural index of each row) as mixed-radix digits, if its length is a power of
/// two and every index is the sum of per-bit weights of its row number.
pub fn order_digits(order: &[u32]) -> Option<Vec<glassbox_air::Digit>> {
    order_digits_padded(order, order.len())
}

/// [`order_digits`] of the first rows of an order of `len` rows (a power of two): bits beyond
/// the given rows continue the top digit (each doubles the weight of the bit below), and the
/// digits must map `0..len` one-to-one.
pub fn order_digits_padded(order: &[u32], len: usize) -> Option<Vec<glassbox_air::Digit>> {
    use glassbox_air::Digit;
    if !len.is_power_of_two() || order.len() > len || order.first() != Some(&0) {
        return None;
    }
    let bits = len.trailing_zeros() as usize;
    let mut coefs: Vec<u64> = Vec::with_capacity(bits);
    for s in 0..bits {
        let c = match order.get(1 << s) {
            Some(&v) => u64::from(v),
            None => coefs.last().map_or(1, |&c| c.saturating_mul(2)),
        };
        coefs.push(c);
    }
    let linear = order.iter().enumerate().all(|(b, &v)| {
        let sum: u64 = (0..bits)
            .filter(|s| b >> s & 1 == 1)
            .map(|s| coefs[s])
            .sum();
        sum == u64::from(v)
    });
    if !linear {
        return None;
    }
    let mut digits: Vec<Digit> = Vec::new();
    for c in coefs {
        match digits.last_mut() {
            Some(d) if d.coef.checked_shl(d.bits) == Some(c) => d.bits += 1,
            _ => digits.push(Digit { bits: 1, coef: c }),
        }
    }
    glassbox_air::conv::order_is_valid(&digits, len).then_some(digits)
}

/// A stride-1 convolution as a layer computes it: its sizes ([`ConvDims`], shared with the AIR's
/// stencil layers, read through `Deref`) and, for each output row `r`, the natural output
/// `out_order[r] = (o·Ho + y)·Wo + x` it holds. Input activation `((c·H + y)·W + x)·copies + e`
/// holds input value `(c, y, x)` (two copies when the input is a max pool's pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Channels, sides, kernel and padding.
    pub dims: ConvDims,
    /// Natural output index of each output row.
    pub out_order: Vec<u32>,
}

impl core::ops::Deref for ConvGeometry {
    type Target = ConvDims;

    fn deref(&self) -> &ConvDims {
        &self.dims
    }
}

// The artifact stores a geometry as its eleven sizes (in `ConvDims::fields` order) then the
// order: the same bytes as the flat struct it was before the sizes became a shared type.
impl Serialize for ConvGeometry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        (self.dims.fields(), &self.out_order).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ConvGeometry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let (fields, out_order) = <([usize; ConvDims::FIELDS], Vec<u32>)>::deserialize(d)?;
        Ok(Self {
            dims: ConvDims::from_fields(fields),
            out_order,
        })
    }
}

impl ConvGeometry {
    /// True if the geometry is consistent with a layer of `n_in` inputs and `n_out` outputs:
    /// stride-1 output dimensions, padding below the kernel size ([`ConvDims::fits`]), and
    /// `out_order` a permutation.
    pub fn fits(&self, n_in: usize, n_out: usize) -> bool {
        self.dims.fits(n_in, n_out)
            && is_permutation(self.out_order.iter().map(|&i| i as usize), n_out)
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

impl QuantizedModel {
    /// Raw features per sample, what [`QuantizedModel::quantize_input`] takes: `input_len`,
    /// except under [`InputEncoding::Projected`], whose map reads its own number of features.
    pub fn raw_input_len(&self) -> usize {
        self.input_encoding.raw_len_for(self.input_len)
    }

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
        encoding::validate(&self.input_encoding, self.input_len)?;
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
            let rows = l.patch.as_ref().map_or(l.n_out, |p| p.out_channels);
            let nw = (l.n_in / g).saturating_mul(rows);
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
            if let Some(patch) = &l.patch {
                let pool_ok = !patch.pooled || (li + 1 < n && l.table.is_none());
                if g != 1 || l.conv.is_some() || !patch.fits(l.n_in, l.n_out) || !pool_ok {
                    return bad(format!("layer {li} has an inconsistent patch geometry"));
                }
            }
            if let Some(table) = &l.table {
                let ok = table.len() == 256 && table.iter().all(|v| v.abs() <= 255);
                if !ok || l.multiplier.is_none() {
                    return bad(format!(
                        "layer {li}'s activation table needs a hidden layer and 256 values within -255..=255"
                    ));
                }
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
            width = l.n_out / l.patch.as_ref().map_or(1, PatchGeometry::window);
        }
        Ok(())
    }

    /// Number of outputs (width of the last layer).
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }
}
