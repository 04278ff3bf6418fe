//! The proof file: a small versioned envelope around winterfell's proof bytes.
//!
//! Layout (all integers little-endian): magic `GBPROOF\0`, format version (u16), security preset
//! (u8), the model descriptor (its layers, then the input encoding), the batch (inputs, outputs, a u8 flag 0 or 1 then the padding
//! outputs if it is 1), the bundle position (the 32-byte bundle id, then chunk, chunk count, first
//! sample and total samples as u32), the weight root (32
//! bytes) and sketches (u64 each, canonical), the winterfell proof with a u32 length, then the
//! weight opening (tree depth, a u8 count of node lists, each a u8 count of 32-byte nodes). Every
//! length is checked against the bytes that remain before anything is allocated, and trailing
//! bytes are rejected, so there is exactly one encoding per envelope.
//!
//! Version 4 added the bundle position and made the padding outputs optional; version 5 the
//! committed input encoding. Older versions are refused with [`EnvelopeError::Version`].

use alloc::vec::Vec;
use core::fmt;

use winter_math::StarkField;

use crate::bundle::BundlePosition;
use crate::commitment::WeightOpening;
use crate::conv::{ConvDims, ConvShape, Digit, PatchShape};
use crate::descriptor::{LayerDescriptor, ModelDescriptor};
use crate::encoding::InputEncoding;
use crate::field::Felt;
use crate::limits::{
    MAX_BATCH, MAX_CUTS_PER_FEATURE, MAX_DIM, MAX_LAYERS, MAX_PROJECTION_ENTRIES, MAX_PROOF_BYTES,
    SKETCHES,
};
use crate::options::SecurityLevel;
use crate::projection::Projection;
use crate::public::PublicInputs;

/// First bytes of every proof file.
pub const ENVELOPE_MAGIC: [u8; 8] = *b"GBPROOF\0";
/// Current envelope format version.
pub const ENVELOPE_VERSION: u16 = 6;

/// A proof together with the statement it proves.
#[derive(Clone, Debug, PartialEq)]
pub struct ProofEnvelope {
    /// The statement.
    pub public: PublicInputs,
    /// The preset the proof claims to use (the verifier checks the proof's options match).
    pub security: SecurityLevel,
    /// winterfell's `Proof::to_bytes`.
    pub proof: Vec<u8>,
    /// The weight commitment opened at the proof's query positions.
    pub weight_opening: WeightOpening,
}

/// Why bytes are not a proof envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Larger than [`MAX_PROOF_BYTES`].
    TooLarge {
        /// Bytes received.
        got: usize,
    },
    /// Wrong magic bytes: not a glassbox proof.
    Magic,
    /// An envelope version this verifier does not know.
    Version {
        /// Version found.
        got: u16,
    },
    /// The bytes end early.
    Truncated {
        /// What was being read.
        field: &'static str,
    },
    /// A field holds a value outside its allowed range.
    Invalid {
        /// Which field.
        field: &'static str,
    },
    /// Bytes remain after the envelope.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { got } => write!(
                f,
                "proof file is {got} bytes; the limit is {MAX_PROOF_BYTES}"
            ),
            Self::Magic => write!(f, "not a glassbox proof (wrong magic bytes)"),
            Self::Version { got } => write!(
                f,
                "proof format version {got} is not supported (expected {ENVELOPE_VERSION})"
            ),
            Self::Truncated { field } => write!(f, "proof file ends early while reading {field}"),
            Self::Invalid { field } => write!(f, "proof file has an invalid {field}"),
            Self::TrailingBytes { count } => {
                write!(f, "proof file has {count} unexpected trailing bytes")
            }
        }
    }
}

impl ProofEnvelope {
    /// Encodes the envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        let p = &self.public;
        let d = &p.descriptor;
        let mut w = Vec::new();
        w.extend_from_slice(&ENVELOPE_MAGIC);
        w.extend_from_slice(&ENVELOPE_VERSION.to_le_bytes());
        w.push(match self.security {
            SecurityLevel::Bits100 => 0,
            SecurityLevel::Bits128 => 1,
        });
        w.extend_from_slice(&(d.trace_len as u32).to_le_bytes());
        w.extend_from_slice(&d.input_scale.to_bits().to_le_bytes());
        w.extend_from_slice(&d.output_scale.to_bits().to_le_bytes());
        w.push(d.layers.len() as u8);
        for layer in &d.layers {
            w.extend_from_slice(&(layer.n_in as u32).to_le_bytes());
            w.extend_from_slice(&(layer.n_out as u32).to_le_bytes());
            w.extend_from_slice(&layer.multiplier.unwrap_or(0).to_le_bytes());
            match (&layer.conv, &layer.patch) {
                // groups is at least 1, so 0 marks a stencil layer and its shape follows
                (Some(shape), _) => {
                    w.extend_from_slice(&0u32.to_le_bytes());
                    for v in shape.fields() {
                        w.extend_from_slice(&(v as u32).to_le_bytes());
                    }
                    write_order(&mut w, &shape.out_order);
                }
                // and u32::MAX a patch layer
                (None, Some(shape)) => {
                    w.extend_from_slice(&u32::MAX.to_le_bytes());
                    for v in shape.fields() {
                        w.extend_from_slice(&(v as u32).to_le_bytes());
                    }
                    write_order(&mut w, &shape.out_order);
                }
                (None, None) => w.extend_from_slice(&(layer.groups as u32).to_le_bytes()),
            }
            for &b in &layer.bias {
                w.extend_from_slice(&b.to_le_bytes());
            }
        }
        d.input_encoding.write(&mut w);
        w.extend_from_slice(&(p.inputs.len() as u32).to_le_bytes());
        for x in &p.inputs {
            w.extend(x.iter().map(|&v| v as i8 as u8));
        }
        for y in &p.outputs {
            for &v in y {
                w.extend_from_slice(&v.to_le_bytes());
            }
        }
        // an empty padding vector is "no padding lane"; otherwise it has the output length, as
        // `PublicInputs::validate` requires
        w.push(u8::from(!p.padding_outputs.is_empty()));
        for &v in &p.padding_outputs {
            w.extend_from_slice(&v.to_le_bytes());
        }
        let b = &p.bundle;
        w.extend_from_slice(&b.id);
        for v in [b.chunk, b.chunks, b.first_sample, b.samples] {
            w.extend_from_slice(&v.to_le_bytes());
        }
        w.extend_from_slice(&p.weight_root);
        for e in &p.weight_sketch {
            w.extend_from_slice(&e.as_int().to_le_bytes());
        }
        w.extend_from_slice(&(self.proof.len() as u32).to_le_bytes());
        w.extend_from_slice(&self.proof);
        let o = &self.weight_opening;
        w.push(o.depth);
        w.push(o.nodes.len() as u8);
        for list in &o.nodes {
            w.push(list.len() as u8);
            for node in list {
                w.extend_from_slice(node);
            }
        }
        w
    }

    /// Decodes an envelope, checking every length before allocating.
    ///
    /// # Errors
    /// [`EnvelopeError`] naming the first bad field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(EnvelopeError::TooLarge { got: bytes.len() });
        }
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8, "magic").map_err(|_| EnvelopeError::Magic)? != ENVELOPE_MAGIC {
            return Err(EnvelopeError::Magic);
        }
        let version = u16::from_le_bytes(r.array("version")?);
        if version != ENVELOPE_VERSION {
            return Err(EnvelopeError::Version { got: version });
        }
        let security = match r.u8("security preset")? {
            0 => SecurityLevel::Bits100,
            1 => SecurityLevel::Bits128,
            _ => {
                return Err(EnvelopeError::Invalid {
                    field: "security preset",
                })
            }
        };
        let trace_len = r.u32("trace length")? as usize;
        let input_scale = f64::from_bits(u64::from_le_bytes(r.array("input scale")?));
        let output_scale = f64::from_bits(u64::from_le_bytes(r.array("output scale")?));
        let num_layers = r.u8("layer count")? as usize;
        if num_layers == 0 || num_layers > MAX_LAYERS {
            return Err(EnvelopeError::Invalid {
                field: "layer count",
            });
        }
        let mut layers = Vec::with_capacity(num_layers);
        for _ in 0..num_layers {
            let n_in = r.u32("layer shape")? as usize;
            let n_out = r.u32("layer shape")? as usize;
            if n_in == 0 || n_out == 0 || n_in > MAX_DIM || n_out > MAX_DIM {
                return Err(EnvelopeError::Invalid {
                    field: "layer shape",
                });
            }
            let m = r.u32("multiplier")?;
            let groups = r.u32("groups")? as usize;
            let conv = if groups == 0 {
                Some(read_conv(&mut r)?)
            } else {
                None
            };
            let patch = if groups == u32::MAX as usize {
                Some(read_patch(&mut r)?)
            } else {
                None
            };
            let groups = if patch.is_some() { 1 } else { groups };
            r.need(n_out * 8, "bias")?;
            let bias = (0..n_out)
                .map(|_| r.i64("bias"))
                .collect::<Result<Vec<_>, _>>()?;
            layers.push(LayerDescriptor {
                n_in,
                n_out,
                multiplier: (m != 0).then_some(m),
                bias,
                groups: groups.max(1),
                conv,
                patch,
            });
        }
        let n_in = layers.first().map_or(0, |l| l.n_in);
        let input_encoding = read_encoding(&mut r, n_in)?;
        let descriptor = ModelDescriptor {
            trace_len,
            layers,
            input_scale,
            output_scale,
            input_encoding,
        };
        let (n_in, n_out) = (descriptor.input_len(), descriptor.output_len());

        let batch = r.u32("batch size")? as usize;
        if batch == 0 || batch > MAX_BATCH {
            return Err(EnvelopeError::Invalid {
                field: "batch size",
            });
        }
        r.need(batch * n_in, "inputs")?;
        let inputs = (0..batch)
            .map(|_| {
                r.take(n_in, "inputs")
                    .map(|b| b.iter().map(|&v| i64::from(v as i8)).collect())
            })
            .collect::<Result<Vec<Vec<i64>>, _>>()?;
        r.need(batch * n_out * 8, "outputs")?;
        let read_vec = |r: &mut Reader<'_>| {
            (0..n_out)
                .map(|_| r.i64("outputs"))
                .collect::<Result<Vec<i64>, _>>()
        };
        let mut outputs = Vec::with_capacity(batch);
        for _ in 0..batch {
            outputs.push(read_vec(&mut r)?);
        }
        let padding_outputs = match r.u8("padding flag")? {
            0 => Vec::new(),
            1 => {
                r.need(n_out * 8, "padding outputs")?;
                read_vec(&mut r)?
            }
            _ => {
                return Err(EnvelopeError::Invalid {
                    field: "padding flag",
                })
            }
        };
        let id = r.array("bundle id")?;
        let bundle = BundlePosition {
            id,
            chunk: r.u32("bundle position")?,
            chunks: r.u32("bundle position")?,
            first_sample: r.u32("bundle position")?,
            samples: r.u32("bundle position")?,
        };

        let weight_root = r.array("weight root")?;
        let mut weight_sketch = [Felt::new(0); SKETCHES];
        for e in &mut weight_sketch {
            let v = u64::from_le_bytes(r.array("weight sketch")?);
            if v >= Felt::MODULUS {
                return Err(EnvelopeError::Invalid {
                    field: "weight sketch",
                });
            }
            *e = Felt::new(v);
        }
        let proof_len = r.u32("proof length")? as usize;
        let proof = r.take(proof_len, "proof")?.to_vec();
        let depth = r.u8("weight opening")?;
        let lists = r.u8("weight opening")? as usize;
        let mut nodes = Vec::with_capacity(lists);
        for _ in 0..lists {
            let len = r.u8("weight opening")? as usize;
            r.need(len * 32, "weight opening")?;
            let mut list = Vec::with_capacity(len);
            for _ in 0..len {
                list.push(r.array("weight opening")?);
            }
            nodes.push(list);
        }
        if r.pos != bytes.len() {
            return Err(EnvelopeError::TrailingBytes {
                count: bytes.len() - r.pos,
            });
        }
        let public = PublicInputs {
            descriptor,
            inputs,
            outputs,
            padding_outputs,
            weight_root,
            weight_sketch,
            bundle,
        };
        Ok(Self {
            public,
            security,
            proof,
            weight_opening: WeightOpening { depth, nodes },
        })
    }
}

/// Reads the input encoding of a model with `n_in` features (its values are checked with the
/// descriptor).
fn read_encoding(r: &mut Reader<'_>, n_in: usize) -> Result<InputEncoding, EnvelopeError> {
    let field = "input encoding";
    match r.u8(field)? {
        0 => Ok(InputEncoding::Symmetric),
        1 => {
            r.need(n_in * 16, field)?;
            let (mut offset, mut step) = (Vec::with_capacity(n_in), Vec::with_capacity(n_in));
            for _ in 0..n_in {
                offset.push(f64::from_bits(u64::from_le_bytes(r.array(field)?)));
                step.push(f64::from_bits(u64::from_le_bytes(r.array(field)?)));
            }
            Ok(InputEncoding::Affine { offset, step })
        }
        2 => Ok(InputEncoding::Thresholds {
            cuts: read_cuts(r, n_in)?,
        }),
        3 => {
            let inputs = r.u32(field)? as usize;
            let entries = n_in.checked_mul(inputs);
            if inputs == 0 || entries.is_none_or(|e| e > MAX_PROJECTION_ENTRIES) {
                return Err(EnvelopeError::Invalid { field });
            }
            r.need((n_in + n_in * inputs) * 8, field)?;
            let (mut matrix, mut offset) = (Vec::with_capacity(n_in * inputs), Vec::new());
            let f64_at = |r: &mut Reader<'_>| {
                r.array(field)
                    .map(|b| f64::from_bits(u64::from_le_bytes(b)))
            };
            for _ in 0..n_in {
                offset.push(f64_at(r)?);
                for _ in 0..inputs {
                    matrix.push(f64_at(r)?);
                }
            }
            let map = Projection {
                inputs,
                matrix,
                offset,
            };
            Ok(InputEncoding::Projected {
                map,
                cuts: read_cuts(r, n_in)?,
            })
        }
        4 => {
            let mut v = [0u32; 4];
            for x in &mut v {
                *x = r.u32(field)?;
            }
            let [height, width, box_h, box_w] = v;
            Ok(InputEncoding::Boxed {
                height,
                width,
                box_h,
                box_w,
            })
        }
        _ => Err(EnvelopeError::Invalid { field }),
    }
}

/// Writes an output order: its digit count, then per digit its bits and weight.
fn write_order(w: &mut Vec<u8>, order: &[Digit]) {
    w.push(order.len() as u8);
    for d in order {
        w.push(d.bits as u8);
        w.extend_from_slice(&d.coef.to_le_bytes());
    }
}

/// Reads one cut list per encoded feature (a `u8` count, then the `f32` bits of each cut).
fn read_cuts(r: &mut Reader<'_>, n_in: usize) -> Result<Vec<Vec<f32>>, EnvelopeError> {
    let field = "input encoding";
    r.need(n_in, field)?;
    let mut cuts = Vec::with_capacity(n_in);
    for _ in 0..n_in {
        let count = r.u8(field)? as usize;
        if count > MAX_CUTS_PER_FEATURE {
            return Err(EnvelopeError::Invalid { field });
        }
        r.need(count * 4, field)?;
        let list = (0..count)
            .map(|_| {
                r.array(field)
                    .map(|b| f32::from_bits(u32::from_le_bytes(b)))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        cuts.push(list);
    }
    Ok(cuts)
}

/// Reads a stencil layer's shape (its bounds are checked with the descriptor).
fn read_conv(r: &mut Reader<'_>) -> Result<ConvShape, EnvelopeError> {
    let mut f = [0usize; ConvDims::FIELDS];
    for v in &mut f {
        *v = r.u32("convolution shape")? as usize;
    }
    Ok(ConvShape::from_fields(f, read_order(r)?))
}

/// Reads a patch layer's shape (its bounds are checked with the descriptor).
fn read_patch(r: &mut Reader<'_>) -> Result<PatchShape, EnvelopeError> {
    let mut f = [0usize; PatchShape::FIELDS];
    for v in &mut f {
        *v = r.u32("patch shape")? as usize;
    }
    Ok(PatchShape::from_fields(f, read_order(r)?))
}

/// Reads an output order written by [`write_order`].
fn read_order(r: &mut Reader<'_>) -> Result<Vec<Digit>, EnvelopeError> {
    let digits = r.u8("convolution order")? as usize;
    if digits > 32 {
        return Err(EnvelopeError::Invalid {
            field: "convolution order",
        });
    }
    r.need(digits * 9, "convolution order")?;
    let mut out_order = Vec::with_capacity(digits);
    for _ in 0..digits {
        let bits = u32::from(r.u8("convolution order")?);
        let coef = u64::from_le_bytes(r.array("convolution order")?);
        out_order.push(Digit { bits, coef });
    }
    Ok(out_order)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn need(&self, n: usize, field: &'static str) -> Result<(), EnvelopeError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => Ok(()),
            _ => Err(EnvelopeError::Truncated { field }),
        }
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], EnvelopeError> {
        self.need(n, field)?;
        let out = self
            .bytes
            .get(self.pos..self.pos + n)
            .ok_or(EnvelopeError::Truncated { field })?;
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], EnvelopeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, EnvelopeError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u32(&mut self, field: &'static str) -> Result<u32, EnvelopeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, EnvelopeError> {
        Ok(i64::from_le_bytes(self.array(field)?))
    }
}
