//! The dense head of the patch path: `[GlobalAveragePool] → Flatten → (Gemm → Relu)* → Gemm`,
//! whose first layer reads the boxes (zero weights on the spare cells, so their content does
//! not matter) and folds a global average pool into its weights.

use crate::error::Result;
use crate::ir::graph::Op;
use crate::lower::convnet::patches::boxes::Image;
use crate::lower::convnet::patches::chain::Chain;
use crate::lower::convnet::stages::{Act, Affine, Stage};
use crate::lower::dense_layer::{add_bias, dense_from_weight};

/// The dense stages of the head starting at node `k` over `img`, or `None` if the nodes from
/// `k` on are not such a head (or end in anything but logits).
pub(super) fn dense_head(
    nodes: &Chain<'_>,
    mut k: usize,
    img: Image,
    shift: Option<f64>,
) -> Result<Option<Vec<Stage>>> {
    let mut shift = shift;
    let gap = matches!(nodes.op(k), Some(Op::GlobalAveragePool));
    k += usize::from(gap);
    if !matches!(nodes.op(k), Some(Op::Flatten { .. } | Op::Reshape { .. })) {
        return Ok(None);
    }
    k += 1;
    let mut stages = Vec::new();
    let mut width = img.len();
    let mut first = true;
    while let (Some(node), Some(op)) = (nodes.node(k), nodes.op(k)) {
        let Op::Gemm {
            alpha,
            beta,
            trans_a: false,
            trans_b,
        } = op
        else {
            return Ok(None);
        };
        let cs = nodes.consts(k);
        let Some(wt) = cs.first() else {
            return Ok(None);
        };
        let n_flat = match (first, gap) {
            (true, true) => img.c,
            (true, false) => img.c * img.h * img.w,
            (false, _) => width,
        };
        let mut layer = dense_from_weight(node, wt, *trans_b, n_flat, *alpha)?;
        if let Some(b) = cs.get(1) {
            add_bias(node, &mut layer, b, *beta)?;
        }
        let n_out = layer.n_out;
        let mut dense = vec![0f64; n_out * width];
        for o in 0..n_out {
            let row = &mut dense[o * width..(o + 1) * width];
            let weights = &layer.weights[o * n_flat..(o + 1) * n_flat];
            if !first {
                row.iter_mut()
                    .zip(weights)
                    .for_each(|(d, &v)| *d = f64::from(v));
                continue;
            }
            let (hw, w) = (img.h * img.w, img.w);
            for (i, &v) in weights.iter().enumerate() {
                if gap {
                    // the mean of channel i: its weight spread over the image's cells
                    let share = f64::from(v) / hw as f64;
                    for q in 0..hw {
                        row[img.cell(i, q / w, q % w)] = share;
                    }
                } else {
                    row[img.cell(i / hw, (i / w) % img.h, i % w)] = f64::from(v);
                }
            }
        }
        let relu = matches!(nodes.op(k + 1), Some(Op::Relu));
        // a smooth activation (node k's output is value k + 1), proven through a table
        let smooth = match relu {
            true => None,
            false => nodes.smooth(k + 1)?,
        };
        let act = match (relu, &smooth) {
            (true, _) => Act::Relu,
            (false, Some(_)) => Act::Smooth,
            (false, None) => Act::None,
        };
        let next = match &smooth {
            Some((_, end)) => *end,
            None => k + if relu { 2 } else { 1 },
        };
        // the first layer reads the image's cells only: a smooth activation's shift on them
        // comes off its bias
        let c = shift.take().unwrap_or(0.0);
        let b = layer
            .bias
            .iter()
            .zip(dense.chunks(width))
            .map(|(&v, row)| f64::from(v) - c * row.iter().sum::<f64>())
            .collect();
        stages.push(Stage::Affine(Affine {
            n_in: width,
            n_out,
            w: dense,
            b,
            act,
            conv: None,
            smooth: smooth.map(|(f, _)| f),
        }));
        width = n_out;
        first = false;
        k = next;
    }
    let ends_in_logits = matches!(stages.last(), Some(Stage::Affine(a)) if a.act == Act::None);
    Ok((!first && ends_in_logits).then_some(stages))
}
