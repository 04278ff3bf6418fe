//! The integer semantics of a patch layer (see `glassbox_air::conv::PatchShape`): a cyclic
//! correlation over power-of-two planes, its outputs in the layer's row order.

use crate::error::{ModelError, Result};

/// A patch layer as the executor reads it: output row `b` holds natural output
/// `o·P + p = order(b)` of the cyclic correlation `Σ_π Σ_s K[o][π·P + s]·x[π·P + (p + s) mod P]`.
#[derive(Debug, Clone, Copy)]
pub struct PatchOp<'a> {
    /// Activations per plane `P`.
    pub plane: usize,
    /// Output planes `O`.
    pub out_channels: usize,
    /// The natural output index of each output row.
    pub order: PatchOrder<'a>,
    /// True if the next layer reads the maximum of each window of four consecutive output rows.
    pub pooled: bool,
    /// True if reads beyond a plane's ends are zero (offsets `s ≥ P/2` read back by `P − s`)
    /// instead of wrapping around.
    pub linear: bool,
}

/// The natural output index of each output row of a patch layer, as a list or as the AIR's
/// mixed-radix digits.
#[derive(Debug, Clone, Copy)]
pub enum PatchOrder<'a> {
    /// One index per row.
    List(&'a [u32]),
    /// Mixed-radix digits of the row number.
    Digits(&'a [glassbox_air::Digit]),
}

impl PatchOrder<'_> {
    fn natural(&self, b: usize) -> usize {
        match self {
            Self::List(l) => l.get(b).map_or(usize::MAX, |&i| i as usize),
            Self::Digits(d) => glassbox_air::conv::natural_index(d, b) as usize,
        }
    }
}

/// What [`accumulate_patch`] reads of a layer besides its [`PatchOp`].
#[derive(Clone, Copy)]
pub(crate) struct Layer<'a> {
    /// Input width.
    pub n_in: usize,
    /// Output width.
    pub n_out: usize,
    /// Kernel rows `[O][n_in]`.
    pub weights: &'a [i8],
    /// One bias per output row.
    pub bias: &'a [i64],
}

/// The accumulators of patch layer `layer` (`op`) on `x`, in row order.
pub(crate) fn accumulate_patch(layer: Layer<'_>, op: &PatchOp<'_>, x: &[i64]) -> Result<Vec<i64>> {
    let p = op.plane;
    let fits = p.is_power_of_two()
        && x.len() == layer.n_in
        && layer.n_in.is_multiple_of(p)
        && layer.n_out == op.out_channels * p
        && layer.bias.len() == layer.n_out
        && layer.weights.len() == op.out_channels * layer.n_in;
    if !fits {
        return Err(ModelError::InvalidModel(format!(
            "patch layer of {} inputs, {} outputs, plane {p} does not fit {} inputs, {} weights",
            layer.n_in,
            layer.n_out,
            x.len(),
            layer.weights.len()
        )));
    }
    let mut natural = vec![0i64; layer.n_out];
    for (o, row) in layer.weights.chunks(layer.n_in).enumerate() {
        let y = &mut natural[o * p..(o + 1) * p];
        for (j, &k) in row.iter().enumerate() {
            if k == 0 {
                continue;
            }
            let (plane, s) = (j / p, j % p);
            add_shifted(
                y,
                &x[plane * p..(plane + 1) * p],
                i64::from(k),
                s,
                op.linear,
            );
        }
    }
    (0..layer.n_out)
        .map(|b| {
            let i = op.order.natural(b);
            natural.get(i).map(|&v| v + layer.bias[b]).ok_or_else(|| {
                ModelError::InvalidModel(format!("patch layer output order has index {i}"))
            })
        })
        .collect()
}

/// `y[q] += k · xs[(q + s) mod P]` for every `q` (`P = xs.len() = y.len()`, `s < P`): the reads
/// up to the plane's end, then the ones that wrap to its start, each a contiguous run. With
/// `linear`, only the first run for `s < P/2` (reads past the end are zero) and only the second
/// for `s ≥ P/2` (the offset reads back by `P − s`; reads before the start are zero).
pub(crate) fn add_shifted<T>(y: &mut [T], xs: &[T], k: T, s: usize, linear: bool)
where
    T: Copy + core::ops::Mul<Output = T> + core::ops::AddAssign,
{
    let back = s >= xs.len() / 2;
    let (head, tail) = y.split_at_mut(xs.len() - s);
    if !linear || !back {
        for (acc, &v) in head.iter_mut().zip(&xs[s..]) {
            *acc += k * v;
        }
    }
    if !linear || back {
        for (acc, &v) in tail.iter_mut().zip(xs) {
            *acc += k * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_add_wraps_around_the_plane() {
        let xs: Vec<i64> = (1..=8).collect();
        for s in 0..8 {
            let mut y = vec![100i64; 8];
            add_shifted(&mut y, &xs, 3, s, false);
            let expected: Vec<i64> = (0..8).map(|q| 100 + 3 * xs[(q + s) % 8]).collect();
            assert_eq!(y, expected, "s = {s}");
            // linear: offsets below 4 read forward, the others back by 8 − s, zero outside
            let mut y = vec![100i64; 8];
            add_shifted(&mut y, &xs, 3, s, true);
            let delta = if s < 4 { s as i64 } else { s as i64 - 8 };
            let expected: Vec<i64> = (0..8i64)
                .map(|q| {
                    let at = q + delta;
                    100 + if (0..8).contains(&at) {
                        3 * xs[at as usize]
                    } else {
                        0
                    }
                })
                .collect();
            assert_eq!(y, expected, "linear, s = {s}");
        }
    }

    #[test]
    fn a_patch_layer_correlates_cyclically_and_orders_its_rows() {
        // one plane of 4, two output planes; kernel rows [1, 0, 0, 2] and [0, -1, 0, 0]
        let weights = [1, 0, 0, 2, 0, -1, 0, 0];
        let order = [0u32, 4, 1, 5, 2, 6, 3, 7];
        let layer = Layer {
            n_in: 4,
            n_out: 8,
            weights: &weights,
            bias: &[0, 0, 0, 0, 0, 0, 0, 100],
        };
        let op = PatchOp {
            plane: 4,
            out_channels: 2,
            order: PatchOrder::List(&order),
            pooled: false,
            linear: false,
        };
        let x = [1, 2, 3, 4];
        // plane 0: x[p] + 2·x[p + 3 mod 4]; plane 1: −x[p + 1 mod 4]
        let natural = [1 + 8, 2 + 2, 3 + 4, 4 + 6, -2, -3, -4, -1];
        let acc = accumulate_patch(layer, &op, &x).unwrap();
        let want: Vec<i64> = order
            .iter()
            .enumerate()
            .map(|(b, &i)| natural[i as usize] + layer.bias[b])
            .collect();
        assert_eq!(acc, want);
        let short = Layer {
            weights: &weights[..4],
            ..layer
        };
        assert!(accumulate_patch(short, &op, &x).is_err());
    }

    #[test]
    fn a_three_by_three_kernel_in_a_padded_box_is_the_convolution() {
        // a 3×3 image in a 4×4 box (one spare row and column), one channel, pad 1
        let img = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
        let mut x = vec![0i64; 16];
        for y in 0..3 {
            for c in 0..3 {
                x[y * 4 + c] = img[y][c];
            }
        }
        let w = [[1, -1, 2], [0, 3, 1], [-2, 1, 1]];
        // tap (dy, dx) of a pad-1 kernel is offset (dy − 1)·4 + (dx − 1), modulo 16
        let mut kernel = vec![0i8; 16];
        for (dy, row) in w.iter().enumerate() {
            for (dx, &v) in row.iter().enumerate() {
                let s = (dy as i64 - 1) * 4 + dx as i64 - 1;
                kernel[s.rem_euclid(16) as usize] = v as i8;
            }
        }
        let order: Vec<u32> = (0..16).collect();
        let op = PatchOp {
            plane: 16,
            out_channels: 1,
            order: PatchOrder::List(&order),
            pooled: false,
            linear: false,
        };
        let layer = Layer {
            n_in: 16,
            n_out: 16,
            weights: &kernel,
            bias: &[0; 16],
        };
        let y = accumulate_patch(layer, &op, &x).unwrap();
        for oy in 0..3i64 {
            for ox in 0..3i64 {
                let mut want = 0;
                for (dy, row) in w.iter().enumerate() {
                    for (dx, &v) in row.iter().enumerate() {
                        let (iy, ix) = (oy + dy as i64 - 1, ox + dx as i64 - 1);
                        if (0..3).contains(&iy) && (0..3).contains(&ix) {
                            want += v * img[iy as usize][ix as usize];
                        }
                    }
                }
                assert_eq!(y[(oy * 4 + ox) as usize], want, "output ({oy}, {ox})");
            }
        }
    }
}
