//! Reading the proof file: a cursor that checks every length against the bytes that remain
//! before anything is allocated, and the readers of the descriptor's variable parts (input
//! encodings, stencil and patch shapes, output orders, activation tables).

use alloc::vec::Vec;

use super::error::EnvelopeError;
use crate::conv::{ConvDims, ConvShape, Digit, PatchShape};
use crate::encoding::InputEncoding;
use crate::limits::{MAX_CUTS_PER_FEATURE, MAX_PROJECTION_ENTRIES, RANGE_TABLE_SIZE};
use crate::normalize::Norm;
use crate::projection::Projection;
use crate::table::ActivationTable;

/// Reads the input encoding of a model with `n_in` features (its values are checked with the
/// descriptor).
pub(super) fn read_encoding(
    r: &mut Reader<'_>,
    n_in: usize,
) -> Result<InputEncoding, EnvelopeError> {
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
        5 => {
            let norm = Norm::from_code(r.u8(field)?).ok_or(EnvelopeError::Invalid { field })?;
            // one level only: the inner encoding is symmetric, affine or thresholds
            if !matches!(r.bytes.get(r.pos), Some(0..=2)) {
                return Err(EnvelopeError::Invalid { field });
            }
            let inner = alloc::boxed::Box::new(read_encoding(r, n_in)?);
            Ok(InputEncoding::Normalized { norm, inner })
        }
        _ => Err(EnvelopeError::Invalid { field }),
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
pub(super) fn read_conv(r: &mut Reader<'_>) -> Result<ConvShape, EnvelopeError> {
    let mut f = [0usize; ConvDims::FIELDS];
    for v in &mut f {
        *v = r.u32("convolution shape")? as usize;
    }
    Ok(ConvShape::from_fields(f, read_order(r)?))
}

/// Reads a patch layer's shape (its bounds are checked with the descriptor).
pub(super) fn read_patch(r: &mut Reader<'_>) -> Result<PatchShape, EnvelopeError> {
    let mut f = [0usize; PatchShape::FIELDS];
    for v in &mut f {
        *v = r.u32("patch shape")? as usize;
    }
    Ok(PatchShape::from_fields(f, read_order(r)?))
}

/// Reads an activation table: 256 `i16` values, each within the activation range.
pub(super) fn read_table(r: &mut Reader<'_>) -> Result<ActivationTable, EnvelopeError> {
    const FIELD: &str = "activation table";
    r.need(2 * RANGE_TABLE_SIZE, FIELD)?;
    let values = (0..RANGE_TABLE_SIZE)
        .map(|_| Ok(i64::from(i16::from_le_bytes(r.array(FIELD)?))))
        .collect::<Result<Vec<i64>, EnvelopeError>>()?;
    ActivationTable::new(values).ok_or(EnvelopeError::Invalid { field: FIELD })
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

pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn need(&self, n: usize, field: &'static str) -> Result<(), EnvelopeError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => Ok(()),
            _ => Err(EnvelopeError::Truncated { field }),
        }
    }

    pub(super) fn take(
        &mut self,
        n: usize,
        field: &'static str,
    ) -> Result<&'a [u8], EnvelopeError> {
        self.need(n, field)?;
        let out = self
            .bytes
            .get(self.pos..self.pos + n)
            .ok_or(EnvelopeError::Truncated { field })?;
        self.pos += n;
        Ok(out)
    }

    pub(super) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], EnvelopeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self, field: &'static str) -> Result<u8, EnvelopeError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(super) fn u32(&mut self, field: &'static str) -> Result<u32, EnvelopeError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    pub(super) fn i64(&mut self, field: &'static str) -> Result<i64, EnvelopeError> {
        Ok(i64::from_le_bytes(self.array(field)?))
    }
}
