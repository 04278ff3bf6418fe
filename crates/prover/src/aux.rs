//! The auxiliary segment, built from the main trace and the verifier's challenges exactly as the
//! AIR's auxiliary constraints define it.
//!
//! Everything that is per row (the Horner row sums and every lookup denominator) is computed in
//! parallel first; the running sums are then cheap sequential passes.

use glassbox_air::units::patch::{layer_plane_term, BackTotals};
use glassbox_air::units::product::constraints::BlockTotals;
use glassbox_air::{
    accumulator_row_sum, counter_column, input_row_sum, inverse_multipliers, lookup_key, table_key,
    weight_row_sum, weight_step, Challenges, Felt, Layout,
};
use rayon::prelude::*;
use winterfell::math::{batch_inversion, FieldElement};
use winterfell::matrix::ColMatrix;

/// One row's Horner sums: weights per layer, inputs per region, accumulators per region.
struct RowSums<E> {
    w: Vec<E>,
    x: Vec<E>,
    y: Vec<E>,
}

/// `(D_q, g_q)` of patch layer `l` on `row`, a block's last: the kernel prefix completed by the
/// block's weight total, and the block's lane total.
fn patch_block<E: FieldElement<BaseField = Felt>>(
    cols: &[Vec<E>],
    sums: &[RowSums<E>],
    ax: &glassbox_air::AuxLayout,
    l: usize,
    row: usize,
) -> (E, E) {
    let [d, _, _] = ax.patch[l].unwrap_or_default();
    let f_q = cols[ax.u[l]][row] + sums[row].w[l];
    let g_q = lane_total(cols, ax.v[l], row) + sums[row].x[l];
    (cols[d][row] + f_q, g_q)
}

/// A lane sum's value on `row` (zero without the column: a block's one live row completes it).
fn lane_total<E: FieldElement<BaseField = Felt>>(
    cols: &[Vec<E>],
    column: Option<usize>,
    row: usize,
) -> E {
    column.map_or(E::ZERO, |c| cols[c][row])
}

/// Builds every auxiliary column.
pub fn build<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    main: &ColMatrix<Felt>,
    r: &[E],
) -> Vec<Vec<E>> {
    let n = layout.trace_len;
    let ch = Challenges::new(layout);
    let ax = &layout.aux;
    let inv_m = inverse_multipliers(layout);
    let (gamma, lambda) = (r[ch.gamma], r[ch.lambda]);
    let num_lookups: usize = layout.lookup_groups.iter().map(Vec::len).sum();
    let num_tables = layout.tables.len();

    // per row, in parallel: Horner sums and lookup denominators (group by group)
    let per_row: Vec<(RowSums<E>, Vec<E>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let row: Vec<Felt> = (0..layout.main_width).map(|c| main.get(c, i)).collect();
            let sums = RowSums {
                w: (0..layout.layers.len())
                    .map(|l| weight_row_sum(layout, &ch, r, &row, l))
                    .collect(),
                x: (0..layout.regions.len())
                    .map(|l| input_row_sum(layout, &ch, r, &row, l))
                    .collect(),
                y: (0..layout.regions.len())
                    .map(|l| {
                        if l == 0 {
                            E::ZERO
                        } else {
                            accumulator_row_sum(layout, &ch, r, &row, l, inv_m[l])
                        }
                    })
                    .collect(),
            };
            let mut dens = Vec::with_capacity(num_lookups + 1 + num_tables);
            for group in &layout.lookup_groups {
                dens.extend(group.iter().map(|v| gamma - lookup_key(&row, v, lambda)));
            }
            let i = E::from(row[layout.table]);
            dens.push(gamma - i);
            for (k, cols) in layout.tables.iter().enumerate() {
                dens.push(gamma - table_key(i, E::from(row[cols.values]), k, lambda));
            }
            (sums, dens)
        })
        .collect();
    let (sums, dens): (Vec<RowSums<E>>, Vec<Vec<E>>) = per_row.into_iter().unzip();
    let invs = batch_inversion(&dens.concat());

    let mut cols = vec![vec![E::ZERO; n]; ax.width];
    let is_last = |row: usize, len: usize| row % len == len - 1;

    // U, V, Q, A: Horner sums restarting at every block (and, over a region, after its dead
    // rows), and the per-block challenge powers
    for (l, lay) in layout.layers.iter().enumerate() {
        let step = weight_step(layout, &ch, r, l);
        let c = ax.u[l];
        for row in 0..n - 1 {
            cols[c][row + 1] = if is_last(row, lay.block_len) {
                E::ZERO
            } else {
                (cols[c][row] + sums[row].w[l]) * step
            };
        }
    }
    for (l, reg) in layout.regions.iter().enumerate() {
        let step = r[ch.beta_pows[l] + reg.lanes_per_row];
        let restarts = |row: usize| reg.restarts_after(row % reg.block_len);
        if let Some(c) = ax.v[l] {
            for row in 0..n - 1 {
                cols[c][row + 1] = if restarts(row) {
                    E::ZERO
                } else {
                    (cols[c][row] + sums[row].x[l]) * step
                };
            }
        }
        if let Some(q) = ax.q[l] {
            let step = r[ch.beta_pows[l - 1] + reg.lanes_per_row];
            for row in 0..n - 1 {
                cols[q][row + 1] = if restarts(row) {
                    E::ZERO
                } else {
                    (cols[q][row] + sums[row].y[l]) * step
                };
            }
        }
        cols[ax.a[l]] = counter_column(&r[ch.powers[l]..], &reg.powers, n);
    }

    // G: the per-block factor of grouped and stencil layers
    for (l, lay) in layout.layers.iter().enumerate() {
        if let (Some(g), Some(c), Some(at)) = (ax.g[l], &lay.factor, ch.factor[l]) {
            cols[g] = counter_column(&r[at..], c, n);
        }
    }

    // D, E1, E2 of every patch layer: plane sums stepping after each block's last row
    for (l, lay) in layout.layers.iter().enumerate() {
        let (Some([d, e1, e2]), Some(span), Some(g)) = (ax.patch[l], lay.plane_span(), ax.g[l])
        else {
            continue;
        };
        let rho = r[ch.rho[l]];
        for row in 0..n - 1 {
            let (nd, ne1, ne2) = if !is_last(row, lay.block_len) {
                (cols[d][row], cols[e1][row], cols[e2][row])
            } else if is_last(row, span) {
                (E::ZERO, E::ZERO, E::ZERO)
            } else {
                let (d_q, g_q) = patch_block(&cols, &sums, ax, l, row);
                (
                    rho * d_q,
                    cols[e1][row] + cols[g][row] * g_q,
                    cols[e2][row] + d_q * g_q,
                )
            };
            cols[d][row + 1] = nd;
            cols[e1][row + 1] = ne1;
            cols[e2][row + 1] = ne2;
        }
        // a linear layer's D⁻ and E2⁻: the same over the plane's upper half's weights
        let Some([dm, em]) = ax.patch_back[l] else {
            continue;
        };
        for row in 0..n - 1 {
            let (nd, ne) = if !is_last(row, lay.block_len) {
                (cols[dm][row], cols[em][row])
            } else if is_last(row, span) {
                (E::ZERO, E::ZERO)
            } else {
                let (_, g_q) = patch_block(&cols, &sums, ax, l, row);
                let upper = row % span >= span / 2;
                let f_q = cols[ax.u[l]][row] + sums[row].w[l];
                let d_q = cols[dm][row] + if upper { f_q } else { E::ZERO };
                (rho * d_q, cols[em][row] + d_q * g_q)
            };
            cols[dm][row + 1] = nd;
            cols[em][row + 1] = ne;
        }
    }

    // Z: block totals from next-row values on each block's second-to-last row (a one-row
    // block's from its own row)
    for row in 0..n - 1 {
        let mut dz = E::ZERO;
        for (l, lay) in layout.layers.iter().enumerate() {
            let (Some([_, e1, e2]), Some(span), Some(g), Some(at)) =
                (ax.patch[l], lay.plane_span(), ax.g[l], ch.patch[l])
            else {
                continue;
            };
            if row % span == span - 2 {
                let last = row + 1;
                let (d_q, g_q) = patch_block(&cols, &sums, ax, l, last);
                let e1_total = cols[e1][last] + cols[g][last] * g_q;
                let e2_total = cols[e2][last] + d_q * g_q;
                let back = ax.patch_back[l].map(|[dm, em]| {
                    let d = cols[dm][last] + cols[ax.u[l]][last] + sums[last].w[l];
                    BackTotals {
                        d,
                        e2: cols[em][last] + d * g_q,
                    }
                });
                let c = [r[at], r[at + 1], r[at + 2]];
                dz += layer_plane_term(c, r[ch.rho[l]], d_q, e1_total, e2_total, back);
            }
        }
        for (l, reg) in layout.regions.iter().enumerate() {
            let at = match reg.block_len {
                1 => row,
                len if row % len == len - 2 => row + 1,
                _ => continue,
            };
            let sum = &sums[at];
            let totals = BlockTotals {
                w: cols[ax.u[l]][at] + sum.w[l],
                x: lane_total(&cols, ax.v[l], at) + sum.x[l],
                y: lane_total(&cols, ax.q[l], at) + sum.y[l],
                a: cols[ax.a[l]][at],
                g: ax.g[l].map(|g| cols[g][at]),
            };
            dz += totals.term(layout, r[ch.rho[l]], l);
        }
        cols[ax.z][row + 1] = cols[ax.z][row] + dz;
    }

    // LogUp: one helper per group, the table helper, then S (exclusive) and T (with the last row)
    let stride = num_lookups + 1 + num_tables;
    let mut row_sum = vec![E::ZERO; n];
    for row in 0..n {
        let inv = &invs[row * stride..(row + 1) * stride];
        let mut at = 0;
        for (g, group) in layout.lookup_groups.iter().enumerate() {
            let s = inv[at..at + group.len()]
                .iter()
                .fold(E::ZERO, |a, &b| a + b);
            at += group.len();
            cols[ax.helpers[g]][row] = s;
            row_sum[row] += s;
        }
        let th = inv[num_lookups].mul_base(main.get(layout.multiplicity, row));
        cols[ax.table_helper][row] = th;
        row_sum[row] -= th;
        for (k, (tc, &h)) in layout.tables.iter().zip(&ax.table_helpers).enumerate() {
            let th = inv[num_lookups + 1 + k].mul_base(main.get(tc.multiplicity, row));
            cols[h][row] = th;
            row_sum[row] -= th;
        }
    }
    for row in 0..n - 1 {
        cols[ax.s][row + 1] = cols[ax.s][row] + row_sum[row];
        cols[ax.t][row + 1] = cols[ax.s][row + 1] + row_sum[row + 1];
    }
    cols
}
