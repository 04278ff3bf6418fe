//! Identity skips on the patch path: `s → Conv → Relu → … → Conv → Add(s) → Relu`, stride 1
//! and no pool inside the block (a ResNet basic block).
//!
//! The skip's source `s` (an image of `c` planes, non-negative: a ReLU's or a pool's output)
//! rides along as `c` extra planes of every convolution in the block but the last: their kernel
//! rows read one input plane at offset 0 with a weight `λ` (`relu(λ·s) = λ·s`). The last
//! convolution adds `s` back by reading each carried plane at offset 0 with weight `1/Πλ`, so
//! the Add and its ReLU are that layer's own sum and activation. A block of one convolution
//! reads `s` straight from its input (weight 1).
//!
//! The weights `λ` leave every carrying layer's largest weight, and so its int8 scale, as it is,
//! but the first, whose `λ` balances the fold's `1/Πλ` against the last layer's weights: both
//! give up the same share of their int8 range where the fold would otherwise set the scale.

use crate::ir::graph::Op;
use crate::lower::convnet::patches::boxes::Image;
use crate::lower::convnet::patches::chain::Chain;

/// A skip in flight over the current image.
#[derive(Debug, Clone)]
pub(super) struct Carry {
    /// The `Add` node that closes the skip.
    pub add: usize,
    /// Planes of the skip's source.
    pub planes: usize,
    /// The source image's height and width (the Add's operands have one shape).
    pub size: (usize, usize),
    /// First carried plane of the current image: 0 at the source, after a convolution's own
    /// output planes once carried.
    pub from: usize,
    /// The carrying weights of the convolutions still to come, in order.
    lambdas: Vec<f64>,
    /// The last convolution's weight on the carried planes, `1/Πλ`.
    fold: f64,
}

impl Carry {
    /// The skip from the input of convolution node `k` to `Add` node `add`, or `None` if the
    /// block is not `k` and further convolutions (with their activations) ending in one
    /// convolution right before the Add.
    pub fn start(chain: &Chain<'_>, k: usize, add: usize, img: &Image) -> Option<Self> {
        let last = add.checked_sub(1)?;
        let own = |n: usize| -> Option<f64> {
            let w = chain.consts(n).into_iter().next()?;
            Some(w.data.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs())))
        };
        if !matches!(chain.op(last), Some(Op::Conv { .. })) {
            return None;
        }
        let carriers: Vec<usize> = (k..last)
            .filter(|&n| matches!(chain.op(n), Some(Op::Conv { .. })))
            .collect();
        let owns: Vec<f64> = carriers.iter().map(|&n| own(n)).collect::<Option<_>>()?;
        let own_last = own(last)?;
        let mut lambdas = owns.clone();
        if let Some(first) = lambdas.first_mut() {
            // λ₁/own₁ = (1/Πλ)/own_last
            let rest: f64 = owns[1..].iter().product();
            let denominator = rest * own_last;
            if owns[0] <= 0.0 || denominator <= 0.0 {
                return None;
            }
            *first = (owns[0] / denominator).sqrt();
        }
        let fold = 1.0 / lambdas.iter().product::<f64>();
        Some(Self {
            add,
            planes: img.c,
            size: (img.h, img.w),
            from: 0,
            lambdas,
            fold,
        })
    }

    /// True if convolution node `k` is the block's last (the Add follows it).
    pub fn closes_at(&self, k: usize) -> bool {
        self.add == k + 1
    }

    /// Widens `rows` (`m` kernel rows over `own` input planes of `plane` cells) to the current
    /// image's `own + carried` planes, and either adds the skip (the block's last convolution:
    /// weight `1/Πλ` on carried plane `o` for output `o`) or appends the carrying rows (`λ` on
    /// carried plane `j` for output plane `m + j`).
    pub fn extend(&mut self, rows: &mut Vec<f64>, m: usize, own: usize, plane: usize) {
        let carried = if self.from == 0 { 0 } else { self.planes };
        let width = (own + carried) * plane;
        if carried > 0 {
            let mut wide = vec![0.0; m * width];
            for (o, row) in rows.chunks(own * plane).enumerate() {
                wide[o * width..o * width + row.len()].copy_from_slice(row);
            }
            *rows = wide;
        }
        if self.lambdas.is_empty() {
            for o in 0..m.min(self.planes) {
                rows[o * width + (self.from + o) * plane] += self.fold;
            }
            return;
        }
        let lambda = self.lambdas.remove(0);
        for j in 0..self.planes {
            let mut row = vec![0.0; width];
            row[(self.from + j) * plane] = lambda;
            rows.extend_from_slice(&row);
        }
        self.from = m;
    }
}
