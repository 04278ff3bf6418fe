//! Float kernels of the reference executor: broadcasting, GEMM, MatMul, reshape targets, and the
//! shape and size checks every kernel shares.
//!
//! Products are accumulated in `f64` and rounded to `f32` once per output.

use crate::error::{ModelError, Result};
use crate::exec::limits::{MAX_GEMM_WORK, MAX_TENSOR_ELEMENTS};
use crate::ir::graph::{element_count, Tensor};

pub(crate) fn unsupported(node: &str, op_type: &str, reason: impl Into<String>) -> ModelError {
    ModelError::Unsupported {
        op: op_type.to_string(),
        node: node.to_string(),
        reason: reason.into(),
    }
}

pub(crate) fn mismatch(
    node: &str,
    expected: impl Into<String>,
    got: impl Into<String>,
) -> ModelError {
    ModelError::ShapeMismatch {
        context: format!("node `{node}`"),
        expected: expected.into(),
        got: got.into(),
    }
}

pub(crate) fn check_size(n: usize) -> Result<()> {
    if n > MAX_TENSOR_ELEMENTS {
        return Err(ModelError::TooLarge {
            what: "tensor elements",
            limit: MAX_TENSOR_ELEMENTS as u64,
            got: n as u64,
        });
    }
    Ok(())
}

/// Normalizes an ONNX axis (negative counts from the end) against `rank` (`rank + extra` allowed).
pub(crate) fn norm_axis(node: &str, axis: i64, rank: usize, extra: usize) -> Result<usize> {
    let bound = rank.saturating_add(extra) as i64;
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if a < 0 || a >= bound.max(1) {
        return Err(mismatch(
            node,
            format!("axis in range for rank {rank}"),
            format!("axis {axis}"),
        ));
    }
    Ok(a as usize)
}

pub(crate) fn arg<'a>(node: &str, args: &[&'a Tensor], i: usize) -> Result<&'a Tensor> {
    args.get(i).copied().ok_or_else(|| {
        mismatch(
            node,
            format!("at least {} inputs", i + 1),
            format!("{}", args.len()),
        )
    })
}

pub(crate) fn broadcast_shape(node: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![1usize; rank];
    for (i, o) in out.iter_mut().enumerate() {
        let da = dim_from_right(a, rank - 1 - i);
        let db = dim_from_right(b, rank - 1 - i);
        *o = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(mismatch(
                node,
                format!("shapes broadcastable with {a:?}"),
                format!("{b:?}"),
            ));
        };
    }
    Ok(out)
}

/// Dimension `k` counted from the right (0 = last), 1 if absent.
fn dim_from_right(shape: &[usize], k: usize) -> usize {
    shape
        .len()
        .checked_sub(k + 1)
        .and_then(|i| shape.get(i).copied())
        .unwrap_or(1)
}

/// Materializes `t` broadcast (numpy rules, unidirectional) to `shape`.
pub(crate) fn broadcast_to(node: &str, t: &Tensor, shape: &[usize]) -> Result<Vec<f32>> {
    if t.shape == shape {
        return Ok(t.data.clone());
    }
    let n = element_count(shape)?;
    check_size(n)?;
    let rank = shape.len();
    if t.shape.len() > rank {
        return Err(mismatch(
            node,
            format!("rank <= {rank}"),
            format!("{:?}", t.shape),
        ));
    }
    // Strides of `t` expressed over the output dims (0 where broadcast).
    let mut strides = vec![0usize; rank];
    let mut s = 1usize;
    for k in 0..rank {
        let i = rank - 1 - k;
        let dt = dim_from_right(&t.shape, k);
        let d = shape.get(i).copied().unwrap_or(1);
        if dt == d {
            if let Some(st) = strides.get_mut(i) {
                *st = if dt == 1 { 0 } else { s };
            }
        } else if dt != 1 {
            return Err(mismatch(
                node,
                format!("broadcastable to {shape:?}"),
                format!("{:?}", t.shape),
            ));
        }
        s = s.saturating_mul(dt);
    }
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let off: usize = idx.iter().zip(&strides).map(|(i, s)| i * s).sum();
        out.push(t.data.get(off).copied().unwrap_or(0.0));
        for k in (0..rank).rev() {
            if let (Some(i), Some(&d)) = (idx.get_mut(k), shape.get(k)) {
                *i += 1;
                if *i < d {
                    break;
                }
                *i = 0;
            }
        }
    }
    Ok(out)
}

fn dims2(node: &str, t: &Tensor, trans: bool) -> Result<(usize, usize)> {
    match t.shape.as_slice() {
        [r, c] if trans => Ok((*c, *r)),
        [r, c] => Ok((*r, *c)),
        other => Err(mismatch(node, "a rank-2 tensor", format!("{other:?}"))),
    }
}

/// `alpha * op(A) op(B) + beta * C`.
pub(crate) fn gemm(
    node: &str,
    args: &[&Tensor],
    alpha: f32,
    beta: f32,
    ta: bool,
    tb: bool,
) -> Result<Tensor> {
    let a = arg(node, args, 0)?;
    let b = arg(node, args, 1)?;
    let (m, k) = dims2(node, a, ta)?;
    let (k2, n) = dims2(node, b, tb)?;
    if k != k2 {
        return Err(mismatch(
            node,
            format!("inner dimension {k}"),
            format!("{k2}"),
        ));
    }
    let out_len = m.saturating_mul(n);
    check_size(out_len)?;
    let work = out_len.saturating_mul(k);
    if work > MAX_GEMM_WORK {
        return Err(ModelError::TooLarge {
            what: "matrix product multiply-adds",
            limit: MAX_GEMM_WORK as u64,
            got: work as u64,
        });
    }
    let c = match args.get(2) {
        Some(c) => Some(broadcast_to(node, c, &[m, n])?),
        None => None,
    };
    let a_at = |i: usize, j: usize| {
        if ta {
            a.data.get(j * m + i)
        } else {
            a.data.get(i * k + j)
        }
    };
    let b_at = |i: usize, j: usize| {
        if tb {
            b.data.get(j * k + i)
        } else {
            b.data.get(i * n + j)
        }
    };
    let mut data = Vec::with_capacity(out_len);
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0f64;
            for p in 0..k {
                let x = a_at(i, p).copied().unwrap_or(0.0);
                let y = b_at(p, j).copied().unwrap_or(0.0);
                acc += f64::from(x) * f64::from(y);
            }
            let mut v = f64::from(alpha) * acc;
            if let Some(c) = &c {
                v += f64::from(beta) * f64::from(c.get(i * n + j).copied().unwrap_or(0.0));
            }
            data.push(v as f32);
        }
    }
    Tensor::new(vec![m, n], data)
}

pub(crate) fn matmul(node: &str, op_type: &str, args: &[&Tensor]) -> Result<Tensor> {
    let a = arg(node, args, 0)?;
    let b = arg(node, args, 1)?;
    if a.shape.len() > 2 || b.shape.len() > 2 || a.shape.is_empty() || b.shape.is_empty() {
        return Err(unsupported(
            node,
            op_type,
            "only rank-1 and rank-2 operands are supported",
        ));
    }
    let a2 = Tensor {
        shape: if a.shape.len() == 1 {
            vec![1, a.len()]
        } else {
            a.shape.clone()
        },
        data: a.data.clone(),
    };
    let b2 = Tensor {
        shape: if b.shape.len() == 1 {
            vec![b.len(), 1]
        } else {
            b.shape.clone()
        },
        data: b.data.clone(),
    };
    let mut out = gemm(node, &[&a2, &b2], 1.0, 0.0, false, false)?;
    let mut shape = Vec::new();
    if a.shape.len() == 2 {
        shape.push(out.shape.first().copied().unwrap_or(1));
    }
    if b.shape.len() == 2 {
        shape.push(out.shape.get(1).copied().unwrap_or(1));
    }
    out.shape = shape;
    Ok(out)
}

pub(crate) fn reshape_target(
    node: &str,
    input: &[usize],
    spec: &[i64],
    allow_zero: bool,
    total: usize,
) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &s) in spec.iter().enumerate() {
        let d = match s {
            0 if !allow_zero => *input
                .get(i)
                .ok_or_else(|| mismatch(node, "a dimension to copy for 0", format!("{input:?}")))?,
            -1 if infer.is_none() => {
                infer = Some(i);
                1
            }
            s if s >= 0 => {
                usize::try_from(s).map_err(|_| mismatch(node, "a valid dim", s.to_string()))?
            }
            s => {
                return Err(mismatch(
                    node,
                    "dims >= -1 with at most one -1",
                    s.to_string(),
                ))
            }
        };
        out.push(d);
    }
    let known = element_count(&out)?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(mismatch(
                node,
                format!("a shape compatible with {total} elements"),
                format!("{spec:?}"),
            ));
        }
        if let Some(d) = out.get_mut(i) {
            *d = total / known;
        }
    } else if known != total {
        return Err(mismatch(
            node,
            format!("{total} elements"),
            format!("{spec:?}"),
        ));
    }
    Ok(out)
}
