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
//! committed input encoding; version 6 patch layers (a `groups` field of `u32::MAX`, then the
//! shape and output order); version 7 activation tables (the top bit of a layer's multiplier
//! field, then 256 `i16` values after its bias) and the range table pinned row by row (see
//! [`crate::table`]), which changed the proofs themselves; version 8 biases as runs of equal
//! values (`runs`), with the digest hashing repeated biases as runs too, and the activation
//! stored as a cell of its own (see [`crate::units::requant`]), which changed the proofs again. Older versions are
//! refused with [`EnvelopeError::Version`].

use alloc::vec::Vec;

use winter_math::StarkField;

use crate::bundle::BundlePosition;
use crate::commitment::WeightOpening;
use crate::conv::Digit;
use crate::descriptor::{LayerDescriptor, ModelDescriptor};
use crate::field::Felt;
use crate::limits::{MAX_BATCH, MAX_DIM, MAX_LAYERS, MAX_PROOF_BYTES, SKETCHES};
use crate::options::SecurityLevel;
use crate::public::PublicInputs;
use crate::table::ENVELOPE_TABLE_MARK;

mod error;
mod read;
mod runs;

pub use error::{EnvelopeError, ENVELOPE_MAGIC, ENVELOPE_VERSION};
use read::{read_conv, read_encoding, read_patch, read_table, Reader};
use runs::{read_bias, write_bias};

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
            // multipliers are below 2^24: the top bit marks a tabled layer
            let mark = if layer.table.is_some() {
                ENVELOPE_TABLE_MARK
            } else {
                0
            };
            w.extend_from_slice(&(layer.multiplier.unwrap_or(0) | mark).to_le_bytes());
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
            write_bias(&mut w, &layer.bias);
            if let Some(table) = &layer.table {
                for &v in table.values() {
                    w.extend_from_slice(&(v as i16).to_le_bytes());
                }
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
            let (m, tabled) = (m & !ENVELOPE_TABLE_MARK, m & ENVELOPE_TABLE_MARK != 0);
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
            let bias = read_bias(&mut r, n_out)?;
            let table = if tabled {
                Some(read_table(&mut r)?)
            } else {
                None
            };
            layers.push(LayerDescriptor {
                n_in,
                n_out,
                multiplier: (m != 0).then_some(m),
                bias,
                groups: groups.max(1),
                conv,
                patch,
                table,
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

/// Writes an output order: its digit count, then per digit its bits and weight.
fn write_order(w: &mut Vec<u8>, order: &[Digit]) {
    w.push(order.len() as u8);
    for d in order {
        w.push(d.bits as u8);
        w.extend_from_slice(&d.coef.to_le_bytes());
    }
}
