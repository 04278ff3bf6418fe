//! Float kernels of the elementwise arithmetic and feature plumbing of preprocessing pipelines
//! (`Add`, `Sub`, `Mul`, `Div` with broadcasting, `ArrayFeatureExtractor`, `Concat`).

use crate::error::Result;
use crate::exec::kernels::{arg, broadcast_shape, broadcast_to, mismatch};
use crate::ir::graph::Tensor;

/// An elementwise binary operation.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
}

/// `a ∘ b` with numpy broadcasting.
///
/// # Errors
/// Shapes that do not broadcast.
pub(crate) fn binary(node: &str, args: &[&Tensor], op: Binary) -> Result<Tensor> {
    let a = arg(node, args, 0)?;
    let b = arg(node, args, 1)?;
    let shape = broadcast_shape(node, &a.shape, &b.shape)?;
    let av = broadcast_to(node, a, &shape)?;
    let bv = broadcast_to(node, b, &shape)?;
    let f = |x: f32, y: f32| match op {
        Binary::Add => x + y,
        Binary::Sub => x - y,
        Binary::Mul => x * y,
        Binary::Div => x / y,
    };
    Ok(Tensor {
        shape,
        data: av.iter().zip(&bv).map(|(&x, &y)| f(x, y)).collect(),
    })
}

/// The entries `indices` of the last axis.
///
/// # Errors
/// An index beyond the last axis.
pub(crate) fn select(node: &str, args: &[&Tensor], indices: &[usize]) -> Result<Tensor> {
    let x = arg(node, args, 0)?;
    let width = x.shape.last().copied().unwrap_or(1).max(1);
    if let Some(&bad) = indices.iter().find(|&&i| i >= width) {
        return Err(mismatch(
            node,
            format!("indices below {width}"),
            format!("index {bad}"),
        ));
    }
    let data = x
        .data
        .chunks(width)
        .flat_map(|row| indices.iter().map(move |&i| row[i]))
        .collect();
    let mut shape = x.shape.clone();
    match shape.last_mut() {
        Some(last) => *last = indices.len(),
        None => shape.push(indices.len()),
    }
    Ok(Tensor { shape, data })
}

/// The operands concatenated along `axis`.
///
/// # Errors
/// Operands of different ranks or sizes off the axis.
pub(crate) fn concat(node: &str, args: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = arg(node, args, 0)?;
    let rank = first.shape.len();
    let resolved = if axis < 0 { axis + rank as i64 } else { axis };
    let Some(axis) = usize::try_from(resolved).ok().filter(|&a| a < rank) else {
        return Err(mismatch(
            node,
            format!("an axis below rank {rank}"),
            format!("axis {axis}"),
        ));
    };
    let outer: usize = first.shape[..axis].iter().product();
    let mut shape = first.shape.clone();
    shape[axis] = 0;
    for t in args {
        let same_rank = t.shape.len() == rank;
        let same_off_axis =
            same_rank && (0..rank).all(|d| d == axis || t.shape[d] == first.shape[d]);
        if !same_off_axis {
            return Err(mismatch(
                node,
                format!("operands shaped like {:?} off axis {axis}", first.shape),
                format!("shape {:?}", t.shape),
            ));
        }
        shape[axis] += t.shape[axis];
    }
    let mut data = Vec::with_capacity(args.iter().map(|t| t.len()).sum());
    for o in 0..outer {
        for t in args {
            let block = t.len() / outer.max(1);
            data.extend_from_slice(&t.data[o * block..(o + 1) * block]);
        }
    }
    Ok(Tensor { shape, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        Tensor { shape, data }
    }

    #[test]
    fn arithmetic_broadcasts_and_features_select_and_concatenate() {
        let x = t(vec![1, 3], vec![1.0, 2.0, 4.0]);
        let c = t(vec![3], vec![1.0, 1.0, 2.0]);
        let out = |op| {
            binary("n", &[&x, &c], op)
                .map(|t| t.data)
                .unwrap_or_default()
        };
        assert_eq!(out(Binary::Add), vec![2.0, 3.0, 6.0]);
        assert_eq!(out(Binary::Sub), vec![0.0, 1.0, 2.0]);
        assert_eq!(out(Binary::Mul), vec![1.0, 2.0, 8.0]);
        assert_eq!(out(Binary::Div), vec![1.0, 2.0, 2.0]);
        let picked = select("n", &[&x], &[2, 0]).unwrap_or_else(|_| t(vec![], vec![]));
        assert_eq!((picked.shape, picked.data), (vec![1, 2], vec![4.0, 1.0]));
        assert!(select("n", &[&x], &[3]).is_err());
        let y = t(vec![1, 1], vec![9.0]);
        let joined = concat("n", &[&x, &y], -1).unwrap_or_else(|_| t(vec![], vec![]));
        assert_eq!(
            (joined.shape, joined.data),
            (vec![1, 4], vec![1.0, 2.0, 4.0, 9.0])
        );
        assert!(concat("n", &[&x, &c], 1).is_err());
    }
}
