//! The public description of a compiled model and the digest that commits to it.

use alloc::vec::Vec;
use core::fmt;

use winter_crypto::{hashers::Rp64_256, ElementHasher};

use crate::commitment::root_elements;
use crate::conv::ConvShape;
use crate::Felt;

/// Version of the descriptor encoding; part of every digest.
pub const DESCRIPTOR_VERSION: u64 = 3;
/// Largest supported trace length (2^20 rows).
pub const MAX_TRACE_LEN: usize = 1 << 20;
/// Largest supported layer dimension.
pub const MAX_DIM: usize = 1 << 14;
/// Largest supported number of layers.
pub const MAX_LAYERS: usize = 16;
/// Biases must satisfy `|b| < MAX_BIAS`.
pub const MAX_BIAS: i64 = 1 << 31;
/// Requantization multipliers must satisfy `1 <= M < MAX_MULTIPLIER` (2^24).
///
/// The requantization unit checks `acc·M + 2^15 = t·2^16 + r` in the field. It is an integer
/// equation because both sides are far below `p/2`: `|acc| < MAX_DIM·127·255 + MAX_BIAS < 2^32`,
/// so `|acc·M| < 2^56`, and the range checks bound `|t·2^16 + r| < 2^34`. Multipliers of 2^16 and
/// above turn a layer into a step (`M = 255·2^16` maps `acc >= 1` to 255 and `acc <= 0` to 0),
/// which is how decision-tree comparisons are proven.
pub const MAX_MULTIPLIER: u32 = 1 << 24;

/// One dense layer `y = W·x + b` as the verifier sees it: no weights, only shapes, the bias and
/// the requantization multiplier (hidden layers) that maps accumulators to the next activations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerDescriptor {
    /// Input dimension.
    pub n_in: usize,
    /// Output dimension.
    pub n_out: usize,
    /// `Some(M)` for hidden layers (`1 <= M <` [`MAX_MULTIPLIER`]), `None` for the output layer.
    pub multiplier: Option<u32>,
    /// Integer bias, one per output.
    pub bias: Vec<i64>,
    /// Block-diagonal groups: output `i` reads only the inputs of its group
    /// (`n_in / groups` of them, a power of two when `groups > 1`). 1 for a dense layer.
    pub groups: usize,
    /// `Some` for a convolution stored as a stencil layer (see [`crate::conv`]); `groups` is 1.
    pub conv: Option<ConvShape>,
}

/// The public part of a compiled model: everything the verifier needs except the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDescriptor {
    /// Number of trace rows the model's layout uses (a power of two).
    pub trace_len: usize,
    /// The dense layers, input first.
    pub layers: Vec<LayerDescriptor>,
    /// Real value of one input unit (inputs are int8).
    pub input_scale: f64,
    /// Real value of one output unit (outputs are raw accumulators).
    pub output_scale: f64,
}

/// Why a descriptor is not usable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DescriptorError {
    /// The trace length is not a power of two in the supported range.
    TraceLength(usize),
    /// No layers, or more than [`MAX_LAYERS`].
    LayerCount(usize),
    /// A dimension is zero, too large, or does not match its neighbour.
    Shape {
        /// Layer index.
        layer: usize,
    },
    /// The bias vector has the wrong length or a value out of range.
    Bias {
        /// Layer index.
        layer: usize,
    },
    /// A hidden layer lacks a multiplier, the output layer has one, or it is out of range.
    Multiplier {
        /// Layer index.
        layer: usize,
    },
    /// A layer's blocks do not fit the trace (too few rows per block).
    Layout {
        /// Layer index.
        layer: usize,
    },
    /// A scale is not finite and positive.
    Scale,
    /// Verifying the layout would cost more than [`crate::MAX_VERIFIER_WORK`] field operations
    /// beyond the STARK (see [`crate::Layout::verifier_work`]).
    VerifierCost {
        /// Estimated operations.
        work: usize,
    },
    /// The trace would need more than 255 columns (main plus auxiliary).
    TooWide {
        /// Columns needed.
        columns: usize,
    },
}

impl fmt::Display for DescriptorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TraceLength(n) => {
                write!(f, "trace length {n} is not a power of two in 256..=2^20")
            }
            Self::LayerCount(n) => write!(f, "{n} layers; expected 1..={MAX_LAYERS}"),
            Self::Shape { layer } => write!(f, "layer {layer} has an unsupported shape"),
            Self::Bias { layer } => write!(f, "layer {layer} has a bias of wrong length or range"),
            Self::Multiplier { layer } => {
                write!(f, "layer {layer} has an invalid requantization multiplier")
            }
            Self::Layout { layer } => {
                write!(f, "layer {layer} does not fit a trace of this length")
            }
            Self::Scale => write!(f, "a scale is not finite and positive"),
            Self::VerifierCost { work } => {
                write!(f, "verifying this layout would take about {work} field operations beyond the STARK")
            }
            Self::TooWide { columns } => {
                write!(f, "the trace would need {columns} columns; at most 255 fit")
            }
        }
    }
}

impl ModelDescriptor {
    /// Checks every bound the AIR relies on.
    ///
    /// # Errors
    /// The first violated bound.
    pub fn validate(&self) -> Result<(), DescriptorError> {
        let n = self.trace_len;
        if !n.is_power_of_two() || !(crate::RANGE_TABLE_SIZE..=MAX_TRACE_LEN).contains(&n) {
            return Err(DescriptorError::TraceLength(n));
        }
        if self.layers.is_empty() || self.layers.len() > MAX_LAYERS {
            return Err(DescriptorError::LayerCount(self.layers.len()));
        }
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            if layer.n_in == 0 || layer.n_out == 0 || layer.n_in > MAX_DIM || layer.n_out > MAX_DIM
            {
                return Err(DescriptorError::Shape { layer: l });
            }
            if l > 0 && self.layers[l - 1].n_out != layer.n_in {
                return Err(DescriptorError::Shape { layer: l });
            }
            let g = layer.groups;
            if g == 0
                || !layer.n_in.is_multiple_of(g)
                || !layer.n_out.is_multiple_of(g)
                || (g > 1 && !(layer.n_in / g).is_power_of_two())
            {
                return Err(DescriptorError::Shape { layer: l });
            }
            if let Some(shape) = &layer.conv {
                if g != 1 || !shape.is_valid(layer.n_in, layer.n_out) {
                    return Err(DescriptorError::Shape { layer: l });
                }
            }
            if layer.bias.len() != layer.n_out || layer.bias.iter().any(|b| b.abs() >= MAX_BIAS) {
                return Err(DescriptorError::Bias { layer: l });
            }
            let ok = match (l == last, layer.multiplier) {
                (true, None) => true,
                (false, Some(m)) => (1..MAX_MULTIPLIER).contains(&m),
                _ => false,
            };
            if !ok {
                return Err(DescriptorError::Multiplier { layer: l });
            }
            // every block needs at least two rows (the Horner sums finish on the second-to-last)
            if n / layer.n_in.next_power_of_two() < 2 {
                return Err(DescriptorError::Layout { layer: l });
            }
        }
        let scales_ok = |s: f64| s.is_finite() && s > 0.0;
        if !scales_ok(self.input_scale) || !scales_ok(self.output_scale) {
            return Err(DescriptorError::Scale);
        }
        Ok(())
    }

    /// Number of model inputs per sample.
    pub fn input_len(&self) -> usize {
        self.layers.first().map_or(0, |l| l.n_in)
    }

    /// Number of model outputs per sample.
    pub fn output_len(&self) -> usize {
        self.layers.last().map_or(0, |l| l.n_out)
    }

    /// The descriptor as field elements, in the order the digest absorbs them.
    pub fn to_elements(&self) -> Vec<Felt> {
        let mut out = Vec::new();
        out.push(Felt::new(DESCRIPTOR_VERSION));
        out.push(Felt::new(self.trace_len as u64));
        out.push(Felt::new(self.layers.len() as u64));
        for bits in [self.input_scale.to_bits(), self.output_scale.to_bits()] {
            out.push(Felt::new(bits & 0xffff_ffff));
            out.push(Felt::new(bits >> 32));
        }
        for layer in &self.layers {
            out.push(Felt::new(layer.n_in as u64));
            out.push(Felt::new(layer.n_out as u64));
            out.push(Felt::new(u64::from(layer.multiplier.unwrap_or(0))));
            match &layer.conv {
                // groups is at least 1, so 0 marks a stencil layer and its shape follows
                Some(shape) => {
                    out.push(Felt::new(0));
                    out.extend(shape.fields().map(|v| Felt::new(v as u64)));
                    out.push(Felt::new(shape.out_order.len() as u64));
                    for d in &shape.out_order {
                        out.push(Felt::new(u64::from(d.bits)));
                        out.push(Felt::new(d.coef));
                    }
                }
                None => out.push(Felt::new(layer.groups as u64)),
            }
            out.extend(layer.bias.iter().map(|&b| felt_from_i64(b)));
        }
        out
    }
}

/// Embeds a signed integer in the field (negative values wrap to `p - |v|`).
pub fn felt_from_i64(v: i64) -> Felt {
    if v >= 0 {
        Felt::new(v as u64)
    } else {
        -Felt::new(v.unsigned_abs())
    }
}

/// The signed integer a field element represents (values above `p/2` are negative).
pub fn felt_to_i64(v: Felt) -> i64 {
    use winter_math::StarkField;
    let x = v.as_int();
    if x > Felt::MODULUS / 2 {
        -((Felt::MODULUS - x) as i64)
    } else {
        x as i64
    }
}

/// The 32-byte commitment to a compiled model: its descriptor, the root of its weight
/// commitment and its weight sketches (see [`crate::commitment`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelDigest(pub [u8; 32]);

impl ModelDigest {
    /// Computes the digest from the descriptor, the weight commitment's root and the weight
    /// sketches.
    pub fn compute(
        descriptor: &ModelDescriptor,
        weight_root: &[u8; 32],
        weight_sketch: &[Felt],
    ) -> Self {
        let mut elements = descriptor.to_elements();
        elements.extend(root_elements(weight_root));
        elements.extend_from_slice(weight_sketch);
        let digest = Rp64_256::hash_elements(&elements);
        let mut bytes = [0u8; 32];
        for (chunk, e) in bytes.chunks_mut(8).zip(digest.as_elements()) {
            chunk.copy_from_slice(&e.as_int().to_le_bytes());
        }
        Self(bytes)
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> alloc::string::String {
        use core::fmt::Write;
        let mut s = alloc::string::String::with_capacity(64);
        for b in self.0 {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Parses 64 hex characters (an optional `0x` prefix is accepted).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        let hex = hex.strip_prefix("0x").unwrap_or(hex);
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for ModelDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelDigest({})", self.to_hex())
    }
}

impl fmt::Display for ModelDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn two_layers(multiplier: Option<u32>) -> ModelDescriptor {
        ModelDescriptor {
            trace_len: 256,
            layers: vec![
                LayerDescriptor {
                    n_in: 4,
                    n_out: 3,
                    multiplier,
                    bias: vec![0; 3],
                    groups: 1,
                    conv: None,
                },
                LayerDescriptor {
                    n_in: 3,
                    n_out: 2,
                    multiplier: None,
                    bias: vec![0; 2],
                    groups: 1,
                    conv: None,
                },
            ],
            input_scale: 1.0,
            output_scale: 1.0,
        }
    }

    #[test]
    fn multipliers_up_to_two_to_the_24_are_accepted() {
        for m in [1, 65_535, 65_536, 255 << 16, MAX_MULTIPLIER - 1] {
            assert_eq!(two_layers(Some(m)).validate(), Ok(()), "M = {m}");
        }
        for m in [None, Some(0), Some(MAX_MULTIPLIER), Some(u32::MAX)] {
            assert_eq!(
                two_layers(m).validate(),
                Err(DescriptorError::Multiplier { layer: 0 }),
                "M = {m:?}"
            );
        }
    }
}
