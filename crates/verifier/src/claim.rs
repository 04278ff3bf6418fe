//! What a valid proof establishes.

use alloc::vec::Vec;

use alloc::format;
use alloc::string::String;

use glassbox_air::{BundlePosition, InputEncoding, ModelDigest};

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The model the proof is bound to.
    pub digest: ModelDigest,
    /// Quantized inputs, one vector per sample.
    pub inputs: Vec<Vec<i64>>,
    /// Raw integer outputs, one vector per sample.
    pub outputs: Vec<Vec<i64>>,
    /// Real value of one output unit.
    pub output_scale: f64,
    /// Real value of one input unit.
    pub input_scale: f64,
    /// How raw features become the proven int8 inputs (committed by the digest).
    pub input_encoding: InputEncoding,
    /// Conjectured security of the proof, in bits.
    pub security_bits: u32,
    /// The proof's place in its bundle (checked for consistency with its own inputs; whether the
    /// other chunks exist is [`verify_bundle`]'s question).
    pub bundle: BundlePosition,
}

impl Claim {
    /// Whether this proof is a whole bundle (one chunk), so its samples are the whole statement.
    pub fn is_whole_bundle(&self) -> bool {
        self.bundle.chunks == 1
    }

    /// Index of the first largest output of each sample (the predicted class of a classifier).
    pub fn labels(&self) -> Vec<usize> {
        self.outputs
            .iter()
            .map(|y| {
                y.iter()
                    .enumerate()
                    .fold(
                        (0, i64::MIN),
                        |best, (i, &v)| if v > best.1 { (i, v) } else { best },
                    )
                    .0
            })
            .collect()
    }

    /// The committed input encoding in a few words (`symmetric, scale 0.0314`, `affine per
    /// feature (30 features)`, `thresholds (412 cuts over 64 features)`, `projected (30 raw
    /// features mapped to 5), thresholds (17 cuts)`).
    pub fn encoding_text(&self) -> String {
        describe(&self.input_encoding, self.input_scale)
    }

    /// Outputs in real units.
    pub fn dequantized_outputs(&self) -> Vec<Vec<f64>> {
        self.outputs
            .iter()
            .map(|y| y.iter().map(|&v| v as f64 * self.output_scale).collect())
            .collect()
    }
}

/// [`Claim::encoding_text`] of `encoding` with input scale `scale`.
fn describe(encoding: &InputEncoding, scale: f64) -> String {
    match encoding {
        InputEncoding::Symmetric => format!("symmetric, scale {}", scale),
        InputEncoding::Affine { offset, .. } => {
            format!("affine per feature ({} features)", offset.len())
        }
        InputEncoding::Thresholds { cuts } => format!(
            "thresholds ({} cuts over {} features)",
            cuts.iter().map(alloc::vec::Vec::len).sum::<usize>(),
            cuts.len()
        ),
        InputEncoding::Projected { map, cuts } => format!(
            "projected ({} raw features mapped to {}), thresholds ({} cuts)",
            map.inputs,
            cuts.len(),
            cuts.iter().map(alloc::vec::Vec::len).sum::<usize>()
        ),
        InputEncoding::Boxed {
            height,
            width,
            box_h,
            box_w,
        } => format!(
            "symmetric, scale {}, {height}×{width} images in {box_h}×{box_w} boxes",
            scale
        ),
        InputEncoding::Normalized { norm, inner } => {
            format!(
                "each sample over its {norm:?} norm, then {}",
                describe(inner, scale)
            )
        }
    }
}
