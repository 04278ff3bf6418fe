//! The `Constant` op family and tensor decoding: initializers and `Constant` values become float
//! [`Tensor`]s (or `i64` shape vectors), with size limits and finiteness checks.

use crate::error::{ModelError, Result};
use crate::exec::limits::MAX_TENSOR_ELEMENTS;
use crate::import::attrs::{attr, unsupported_op};
use crate::import::loader::{Importer, Parsed};
use crate::import::onnx::{data_type, NodeProto, TensorProto};
use crate::ir::graph::{element_count, Tensor};

/// The ops this family handles (see [`crate::import::registry`]).
pub(crate) const OPS: &[&str] = &["Constant"];

/// A `Constant` node: its `value` tensor becomes a constant the later nodes read by name.
/// Parses a node whose op type is in [`OPS`].
pub(crate) fn parse<'a>(imp: &mut Importer<'a>, n: &'a NodeProto, name: &str) -> Result<Parsed> {
    let out = n
        .output
        .first()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| ModelError::InvalidGraph(format!("node `{name}` has no output")))?;
    let t = attr(n, "value")
        .and_then(|a| a.t.as_ref())
        .ok_or_else(|| unsupported_op(n, name, "only the `value` tensor attribute is supported"))?;
    imp.protos.insert(out.as_str(), t);
    Ok(Parsed::Absorbed)
}

fn tensor_shape(t: &TensorProto, name: &str) -> Result<(Vec<usize>, usize)> {
    if t.data_location == 1 {
        return Err(ModelError::InvalidGraph(format!(
            "tensor `{name}` uses external data, which is not supported"
        )));
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| {
            ModelError::InvalidGraph(format!("tensor `{name}` has negative dimension {d}"))
        })?;
        shape.push(d);
    }
    let n = element_count(&shape)?;
    if n > MAX_TENSOR_ELEMENTS {
        return Err(ModelError::TooLarge {
            what: "tensor elements",
            limit: MAX_TENSOR_ELEMENTS as u64,
            got: n as u64,
        });
    }
    Ok((shape, n))
}

fn data_len_error(name: &str, n: usize, got: usize) -> ModelError {
    ModelError::ShapeMismatch {
        context: format!("data of tensor `{name}`"),
        expected: format!("{n} values"),
        got: format!("{got} values"),
    }
}

fn raw_chunks<const W: usize>(raw: &[u8], n: usize, name: &str) -> Result<Vec<[u8; W]>> {
    if raw.len() != n.saturating_mul(W) {
        return Err(data_len_error(name, n, raw.len() / W));
    }
    Ok(raw
        .chunks_exact(W)
        .map(|c| {
            let mut b = [0u8; W];
            b.copy_from_slice(c);
            b
        })
        .collect())
}

/// Reads a float (or small-integer) tensor as `f32`.
pub(crate) fn tensor_f32(t: &TensorProto, name: &str) -> Result<Tensor> {
    let (shape, n) = tensor_shape(t, name)?;
    let data: Vec<f32> = match t.data_type {
        data_type::FLOAT if !t.raw_data.is_empty() || n == 0 => {
            raw_chunks::<4>(&t.raw_data, n, name)?
                .into_iter()
                .map(f32::from_le_bytes)
                .collect()
        }
        data_type::FLOAT => t.float_data.clone(),
        data_type::DOUBLE if !t.raw_data.is_empty() => raw_chunks::<8>(&t.raw_data, n, name)?
            .into_iter()
            .map(|b| f64::from_le_bytes(b) as f32)
            .collect(),
        data_type::DOUBLE => t.double_data.iter().map(|&v| v as f32).collect(),
        data_type::INT32 | data_type::INT64 => {
            let ints = tensor_i64(t, name)?;
            if ints.iter().any(|v| v.unsigned_abs() > 1 << 24) {
                return Err(ModelError::InvalidGraph(format!(
                    "integer tensor `{name}` used as float has values beyond 2^24"
                )));
            }
            ints.iter().map(|&v| v as f32).collect()
        }
        other => {
            return Err(ModelError::InvalidGraph(format!(
                "tensor `{name}` has unsupported element type {other}"
            )))
        }
    };
    if data.len() != n {
        return Err(data_len_error(name, n, data.len()));
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite {
            context: format!("tensor `{name}`"),
        });
    }
    Tensor::new(shape, data)
}

/// Reads an int32/int64 tensor.
pub(crate) fn tensor_i64(t: &TensorProto, name: &str) -> Result<Vec<i64>> {
    let (_, n) = tensor_shape(t, name)?;
    let data: Vec<i64> = match t.data_type {
        data_type::INT64 if !t.raw_data.is_empty() => raw_chunks::<8>(&t.raw_data, n, name)?
            .into_iter()
            .map(i64::from_le_bytes)
            .collect(),
        data_type::INT64 => t.int64_data.clone(),
        data_type::INT32 if !t.raw_data.is_empty() => raw_chunks::<4>(&t.raw_data, n, name)?
            .into_iter()
            .map(|b| i64::from(i32::from_le_bytes(b)))
            .collect(),
        data_type::INT32 => t.int32_data.iter().map(|&v| i64::from(v)).collect(),
        other => {
            return Err(ModelError::InvalidGraph(format!(
                "tensor `{name}` has element type {other}, expected an integer type"
            )))
        }
    };
    if data.len() != n {
        return Err(data_len_error(name, n, data.len()));
    }
    Ok(data)
}
