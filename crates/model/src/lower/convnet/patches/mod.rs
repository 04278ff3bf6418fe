//! Convolutional chains as patch layers: `(Conv → Relu → [MaxPool 2×2/2 | AveragePool 2×2/2])+
//! → [GlobalAveragePool] → Flatten → (Gemm → Relu)* → Gemm`, convolutions of stride 1 or 2 with
//! any kernel and padding: LeNet-5 and most small image classifiers people export.
//!
//! Each image lives in a power-of-two box ([`boxes::Image`]; `glassbox_air::conv::PatchShape`)
//! large enough for every later padding, so a convolution is one patch layer whose kernel is
//! stored once. What follows the convolution decides its output order and the block-diagonal
//! layers after it, each of which leaves the next image in half-size boxes with zero spare cells
//! (the next convolution's padding):
//! - **MaxPool 2×2/2**: each 2×2 window's four cells consecutive (bits `[dx, dy, px, py, o]` of
//!   the row); after a ReLU the layer is *pooled* (the next layer reads each window's maximum
//!   cell, `glassbox_air::units::pool`), after a smooth activation the usual tournament, then a
//!   layer that adds each window's pair and writes zero for windows outside the pooled image.
//! - **AveragePool 2×2/2**: the same window order and one layer summing each window (`÷ 4`,
//!   exact), zero outside.
//! - **a stride-2 convolution next**: the same, with the outputs (or the pooled windows) in
//!   phase order ([`boxes::grid_cell`]: each box as its four half-size phase planes). The
//!   stride-2 convolution is then one patch layer over `4·C` phase planes writing half-size
//!   boxes ([`boxes::phase_kernel_rows`]), which a pool may follow like any convolution.
//! - **stride 2 on the model's input** (not in phases): the stride-1 correlation in window order
//!   and one layer that keeps each window's first cell (`(2y, 2x)`), zero outside.
//! - **another convolution**: natural order. If it is padded, the spare cells it reads (which
//!   the convolution filled with `relu(b + …)`) are cleared through the biases (`clear`), or by a
//!   mask layer (one activation per group) where such a bias would leave the provable range.
//! - **an identity skip** (`s → Conv → Relu → … → Conv → Add(s) → Relu`, stride 1, no pool
//!   inside): `s` rides along as extra planes of the block's convolutions and the last one adds
//!   it back ([`skip`]).
//! - **the head**: natural order; the first dense layer reads the image's cells only and folds
//!   a global average pool into its weights ([`head`]).
//!
//! Anything else (other strides or pools, a pool after a stride-2 convolution of the input,
//! other skips) returns `None`, and the general lowering takes the graph.

mod boxes;
mod chain;
mod head;
mod skip;
#[cfg(test)]
mod tests;

use crate::error::Result;
use crate::exec::conv::output_dim;
use crate::ir::graph::{Graph, Op};
use crate::lower::convnet::patches::boxes::{
    grid_order, kernel_rows, phase_kernel_rows, window_mask, window_order, Image,
};
use crate::lower::convnet::patches::chain::Chain;
use crate::lower::convnet::patches::head::dense_head;
use crate::lower::convnet::patches::skip::Carry;
use crate::lower::convnet::stages::{Act, PatchStage, Stage, MAX_ACTIVATIONS};

/// The float stages of `graph` as patch layers, or `None` if it is not such a chain or its
/// boxes do not fit the proof's layer width.
pub(crate) fn patch_stages(graph: &Graph) -> Result<Option<Vec<Stage>>> {
    let [c, h, w] = match graph.input_shape.as_slice() {
        [1, c, h, w] => [*c, *h, *w],
        _ => return Ok(None),
    };
    let Some(chain) = Chain::new(graph).filter(|_| !graph.binary_head) else {
        return Ok(None);
    };
    // the input's box: as small as the first convolution allows, then grown until every later
    // (halved) box holds its image and padding
    let (mut bh, mut bw) = (1, 1);
    for _ in 0..16 {
        let img = Image {
            c,
            h,
            w,
            bh,
            bw,
            clean: true,
            phased: false,
        };
        match walk(&chain, img)? {
            Walk::Done(stages) => return Ok(Some(stages)),
            Walk::Grow(gh, gw) => (bh, bw) = (bh.max(gh), bw.max(gw)),
            Walk::No => return Ok(None),
        }
    }
    Ok(None)
}

/// The outcome of lowering a chain with a given input box.
enum Walk {
    /// The stages.
    Done(Vec<Stage>),
    /// The input box must be at least this large.
    Grow(usize, usize),
    /// Not a chain of the patch path.
    No,
}

/// What follows a convolution and its ReLU.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Post {
    MaxPool,
    AvgPool,
    /// The convolution has stride 2 on unphased input: keep every other output.
    Subsample,
    /// Nothing: another convolution or the head.
    None,
}

/// The stages of `chain` with the input in boxes of `img`.
fn walk(chain: &Chain<'_>, mut img: Image) -> Result<Walk> {
    let mut stages = vec![Stage::Boxed {
        height: img.h,
        width: img.w,
        box_h: img.bh,
        box_w: img.bw,
    }];
    let mut level = 0u32;
    let mut k = 0;
    // the shift a smooth activation's table carries on the current image's cells
    let mut shift: Option<f64> = None;
    // an identity skip in flight (see `skip`)
    let mut carry: Option<Carry> = None;
    while let Some(Op::Conv { strides, pads }) = chain.op(k) {
        // a skip from this convolution's input (a ReLU's or a pool's non-negative output)
        if let Some(add) = chain.skip_from(k) {
            if carry.is_some() || shift.is_some() || k == 0 {
                return Ok(Walk::No);
            }
            carry = Carry::start(chain, k, add, &img);
            if carry.is_none() {
                return Ok(Walk::No);
            }
        }
        // the block's last convolution: the Add comes before the activation
        let closes = carry.as_ref().is_some_and(|c| c.closes_at(k));
        let act_at = k + 1 + usize::from(closes);
        // the activation: ReLU, or a smooth function (made non-negative: the layers after it
        // clamp at 0) proven through a table
        let smooth = match chain.op(act_at) {
            Some(Op::Relu) => None,
            _ => match chain.smooth(act_at)? {
                Some((f, end)) => Some((f, end - act_at)),
                None => return Ok(Walk::No),
            },
        };
        let act_len = smooth.as_ref().map_or(1, |&(_, n)| n);
        let pool = match chain.op(act_at + act_len) {
            Some(Op::MaxPool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0, 0, 0, 0],
            }) => Post::MaxPool,
            Some(Op::AveragePool {
                kernel: [2, 2],
                strides: [2, 2],
                pads: [0, 0, 0, 0],
                ..
            }) => Post::AvgPool,
            Some(Op::MaxPool { .. } | Op::AveragePool { .. }) => return Ok(Walk::No),
            _ => Post::None,
        };
        // a stride-2 convolution reads phase planes if the layer before wrote them
        let phase_in = *strides == [2, 2] && img.phased;
        let post = match (strides, pool) {
            ([1, 1], p) => p,
            ([2, 2], p) if phase_in => p,
            ([2, 2], Post::None) => Post::Subsample,
            _ => return Ok(Walk::No),
        };
        // the outputs go to phase planes if a stride-2 convolution reads them next
        let span =
            act_at - k + act_len + usize::from(matches!(post, Post::MaxPool | Post::AvgPool));
        let phase_out = matches!(
            chain.op(k + span),
            Some(Op::Conv {
                strides: [2, 2],
                ..
            })
        );
        let consts = chain.consts(k);
        let Some(weight) = consts.first() else {
            return Ok(Walk::No);
        };
        let [m, wc, kh, kw] = match weight.shape.as_slice() {
            [m, wc, kh, kw] => [*m, *wc, *kh, *kw],
            _ => return Ok(Walk::No),
        };
        let [pt, pl, pb, pr] = *pads;
        // the stride-1 outputs (a stride-2 convolution keeps every other one)
        let (Some(ho), Some(wo)) = (
            output_dim(img.h, kh, 1, pt, pb),
            output_dim(img.w, kw, 1, pl, pr),
        ) else {
            return Ok(Walk::No);
        };
        // the image's planes: the convolution's own, then any carried ones
        let carried_in = carry
            .as_ref()
            .map_or(0, |c| if c.from == 0 { 0 } else { c.planes });
        if wc + carried_in != img.c {
            return Ok(Walk::No);
        }
        // inside a skip's block: stride 1 and ReLU; the carrying convolutions unpooled, the last
        // one writing the skip's shape
        if let Some(c) = &carry {
            let fits = if closes {
                m == c.planes && (ho, wo) == c.size
            } else {
                post == Post::None && !phase_out
            };
            if *strides != [1, 1] || img.phased || smooth.is_some() || !fits {
                return Ok(Walk::No);
            }
        }
        // output planes: the convolution's, and the carried ones until the block's last
        let m_out = m + carry.as_ref().filter(|_| !closes).map_or(0, |c| c.planes);
        // a convolution without padding reads only the image's cells for its outputs inside
        // the image (the others are never read), so only a padded one needs the box cleaned
        let padded = pads.iter().any(|&p| p > 0) || phase_in;
        if !img.clean && padded {
            stages.push(Stage::AvgPool {
                size: 1,
                divisor: 1,
                mask: img.inside_mask(),
            });
            img.clean = true;
        }
        // a linear correlation (reads beyond the plane are zero) reads its top and bottom
        // padding from outside the plane, so the image may fill the box's height: where no
        // smooth shift is taken off its reads, it reads unphased planes and its taps reach less
        // than half a plane either way (a box too small to tell asks for the linear size first)
        let least = if post == Post::None { 1 } else { 2 } << u32::from(phase_in);
        let need_w = (img.w + pl.max(pr)).max(wo).max(least);
        let linear_h = img.h.max(ho).max(least);
        let fits = img.bh >= linear_h && img.bw >= need_w;
        let linear = !phase_in && shift.is_none() && {
            let (plane, bw) = (img.plane(), img.bw);
            let back = pt * bw + pl;
            let ahead = (kh - 1).saturating_sub(pt) * bw + (kw - 1).saturating_sub(pl);
            !fits || (2 * back <= plane && 2 * ahead < plane)
        };
        // reads above/left of the image wrap to the box's last rows/columns (or, linear, read
        // zero above the plane), reads below/right land in the spare ones; the outputs must fit
        // too, and windows need two cells a side of the output box (half the input box for
        // phase planes)
        let need_h = if linear {
            linear_h
        } else {
            (img.h + pt.max(pb)).max(ho).max(least)
        };
        if need_h > img.bh || need_w > img.bw {
            let grow = |n: usize| n.next_power_of_two() << level;
            return Ok(Walk::Grow(grow(need_h), grow(need_w)));
        }
        let plane = img.plane();
        // the output box, and the stride-1 output grid it holds
        let (boxes, ho, wo) = if phase_in {
            ((img.bh / 2, img.bw / 2), ho.div_ceil(2), wo.div_ceil(2))
        } else {
            ((img.bh, img.bw), ho, wo)
        };
        let out_plane = boxes.0 * boxes.1;
        if m_out * out_plane > MAX_ACTIVATIONS {
            return Ok(Walk::No);
        }
        // the carried planes' rows have no bias
        let bias = (0..m_out)
            .map(|o| {
                consts
                    .get(1)
                    .and_then(|t| t.data.get(o))
                    .filter(|_| o < m)
                    .map_or(0.0, |&v| f64::from(v))
            })
            .collect();
        let order = if post == Post::None {
            grid_order(m_out, boxes, phase_out)
        } else {
            window_order(m_out, boxes, phase_out)
        };
        let (planes, mut kernel) = if phase_in {
            (4 * img.c, phase_kernel_rows(weight, pt, pl, img.bw, plane))
        } else {
            (img.c, kernel_rows(weight, pt, pl, img.bw, plane))
        };
        if let Some(c) = carry.as_mut() {
            c.extend(&mut kernel, m, wc, plane);
            if closes {
                carry = None;
            }
        }
        // the previous smooth activation's shift on the image's cells comes off the bias
        let bias_shift = shift.take().map(|c| {
            shifted_reads(
                &kernel,
                planes * out_plane,
                out_plane,
                &img.inside_mask(),
                c,
            )
        });
        // a ReLU convolution's 2×2 max pool is the pool unit's (a smooth activation's is built
        // from layers)
        let pooled = post == Post::MaxPool && smooth.is_none();
        let (act, smooth) = match smooth {
            Some((f, _)) => match f.nonnegative_shift()? {
                Some(c) => {
                    shift = Some(f64::from(c));
                    (Act::Smooth, Some(f.plus(c)))
                }
                None => (Act::Smooth, Some(f)),
            },
            None => (Act::Relu, None),
        };
        let (h, w) = match post {
            Post::MaxPool | Post::AvgPool => (ho / 2, wo / 2),
            Post::Subsample => (ho.div_ceil(2), wo.div_ceil(2)),
            Post::None => (ho, wo),
        };
        let halved = post != Post::None;
        let next = Image {
            c: m_out,
            h,
            w,
            bh: if halved { boxes.0 / 2 } else { boxes.0 },
            bw: if halved { boxes.1 / 2 } else { boxes.1 },
            clean: true,
            phased: phase_out,
        };
        // a ReLU convolution whose image a padded convolution reads next clears its own spare
        // cells (see `PatchStage::clear`), so no mask layer follows it
        let cleared = (pooled || post == Post::None)
            && act == Act::Relu
            && next_is_padded(chain.op(k + span), phase_out);
        stages.push(Stage::Patch(PatchStage {
            planes,
            plane: out_plane,
            out_channels: m_out,
            kernel,
            bias,
            act,
            order,
            smooth,
            bias_shift,
            pooled,
            clear: cleared.then(|| next.inside_mask()),
            linear,
        }));
        match post {
            Post::MaxPool if pooled => {}
            Post::MaxPool => {
                // a tournament per window, then each window's pair added (zero outside)
                stages.push(Stage::MaxPool {
                    windows: m * plane / 4,
                    size: 4,
                });
                let mask = window_mask(m, boxes, (h, w), &[1.0; 2], phase_out);
                stages.push(Stage::AvgPool {
                    size: 2,
                    divisor: 1,
                    mask,
                });
            }
            Post::AvgPool => {
                let mask = window_mask(m, boxes, (h, w), &[1.0; 4], phase_out);
                stages.push(Stage::AvgPool {
                    size: 4,
                    divisor: 4,
                    mask,
                });
            }
            Post::Subsample => {
                let mask = window_mask(m, boxes, (h, w), &[1.0, 0.0, 0.0, 0.0], phase_out);
                stages.push(Stage::AvgPool {
                    size: 4,
                    divisor: 1,
                    mask,
                });
            }
            Post::None => {}
        }
        img = Image {
            clean: (halved && !pooled) || cleared,
            ..next
        };
        if h == 0 || w == 0 {
            return Ok(Walk::No);
        }
        level += u32::from(halved) + u32::from(phase_in);
        k += span;
    }
    if k == 0 || carry.is_some() {
        return Ok(Walk::No);
    }
    Ok(match dense_head(chain, k, img, shift)? {
        Some(head) => {
            stages.extend(head);
            Walk::Done(stages)
        }
        None => Walk::No,
    })
}

/// True if `op`, the op after a convolution's activation and pool, is a convolution that reads
/// spare cells of the image for outputs inside it: one with padding, or a stride-2 one reading
/// phase planes.
fn next_is_padded(op: Option<&Op>, phase_out: bool) -> bool {
    match op {
        Some(Op::Conv { pads, .. }) => phase_out || pads.iter().any(|&p| p > 0),
        _ => false,
    }
}

/// Per natural output `o·P + p` of a patch layer with kernel rows `kernel` (`n_in` cells each,
/// planes of `plane`), minus the shift `c` its reads of the image's cells carry (`inside`: 1 on
/// the input's image cells, 0 on spare ones, which the layers before zeroed).
fn shifted_reads(kernel: &[f64], n_in: usize, plane: usize, inside: &[f64], c: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(kernel.len() / n_in.max(1) * plane);
    for row in kernel.chunks(n_in) {
        for p in 0..plane {
            let reads: f64 = row
                .iter()
                .enumerate()
                .filter(|&(_, &k)| k != 0.0)
                .map(|(j, &k)| {
                    let cell = (j / plane) * plane + (p + j % plane) % plane;
                    k * inside.get(cell).copied().unwrap_or(0.0)
                })
                .sum();
            out.push(-c * reads);
        }
    }
    out
}
