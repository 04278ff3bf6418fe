//! The auxiliary segment, built from the main trace and the verifier's challenges exactly as the
//! AIR's auxiliary constraints define it.

use glassbox_air::{
    accumulator_row_sum, input_row_sum, inverse_multipliers, lookup_value, weight_row_sum,
    Challenges, Felt, Layout,
};
use winterfell::math::{batch_inversion, FieldElement};
use winterfell::matrix::ColMatrix;

/// Builds every auxiliary column.
pub fn build<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    main: &ColMatrix<Felt>,
    r: &[E],
) -> Vec<Vec<E>> {
    let n = layout.trace_len;
    let ch = Challenges::new(layout);
    let ax = &layout.aux;
    let mut cols = vec![vec![E::ZERO; n]; ax.width];
    let row_of =
        |row: usize| -> Vec<Felt> { (0..layout.main_width).map(|c| main.get(c, row)).collect() };
    let rows: Vec<Vec<Felt>> = (0..n).map(row_of).collect();

    let pw = |row: &[Felt], l: usize| weight_row_sum(layout, &ch, r, row, l);
    let px = |row: &[Felt], l: usize| input_row_sum(layout, &ch, r, row, l);
    let inv_m = inverse_multipliers(layout);
    let py = |row: &[Felt], l: usize| accumulator_row_sum(layout, &ch, r, row, l, inv_m[l]);
    let is_last = |row: usize, len: usize| row % len == len - 1;

    // U, V, Q, A
    for (l, lay) in layout.layers.iter().enumerate() {
        let step = r[ch.rho_pows[l] + lay.k];
        let c = ax.u[l];
        for row in 0..n - 1 {
            cols[c][row + 1] = if is_last(row, lay.block_len) {
                E::ZERO
            } else {
                (cols[c][row] + pw(&rows[row], l)) * step
            };
        }
    }
    for (l, reg) in layout.regions.iter().enumerate() {
        let step = r[ch.beta_pows[l] + reg.lanes_per_row];
        let c = ax.v[l];
        for row in 0..n - 1 {
            cols[c][row + 1] = if is_last(row, reg.block_len) {
                E::ZERO
            } else {
                (cols[c][row] + px(&rows[row], l)) * step
            };
        }
        if let Some(q) = ax.q[l] {
            let step = r[ch.beta_pows[l - 1] + reg.lanes_per_row];
            for row in 0..n - 1 {
                cols[q][row + 1] = if is_last(row, reg.block_len) {
                    E::ZERO
                } else {
                    (cols[q][row] + py(&rows[row], l)) * step
                };
            }
        }
        let mu = if l == 0 {
            r[ch.delta]
        } else {
            r[ch.rho[l - 1]]
        };
        let a = ax.a[l];
        cols[a][0] = mu;
        for row in 0..n - 1 {
            cols[a][row + 1] = if is_last(row, reg.block_len) {
                cols[a][row] * mu
            } else {
                cols[a][row]
            };
        }
    }

    // Z
    for row in 0..n - 1 {
        let next = &rows[row + 1];
        let mut dz = E::ZERO;
        for (l, reg) in layout.regions.iter().enumerate() {
            if row % reg.block_len != reg.block_len - 2 {
                continue;
            }
            let w_total = cols[ax.u[l]][row + 1] + pw(next, l);
            let x_total = cols[ax.v[l]][row + 1] + px(next, l);
            let mut term = r[ch.rho[l]] * w_total * x_total;
            if l == 0 {
                term += cols[ax.a[0]][row + 1] * x_total;
            } else {
                let q = ax.q[l].unwrap_or(0);
                term -= cols[ax.a[l]][row + 1] * (cols[q][row + 1] + py(next, l));
            }
            dz += term;
        }
        cols[ax.z][row + 1] = cols[ax.z][row] + dz;
    }

    // LogUp helpers
    let gamma = r[ch.gamma];
    let mut row_sum = vec![E::ZERO; n];
    for (g, group) in layout.lookup_groups.iter().enumerate() {
        let mut dens: Vec<E> = Vec::with_capacity(n * group.len());
        for row in &rows {
            for v in group {
                dens.push(gamma - E::from(lookup_value(row, v)));
            }
        }
        let invs = batch_inversion(&dens);
        let h = ax.helpers[g];
        for row in 0..n {
            let s: E = invs[row * group.len()..(row + 1) * group.len()]
                .iter()
                .copied()
                .fold(E::ZERO, |a, b| a + b);
            cols[h][row] = s;
            row_sum[row] += s;
        }
    }
    let dens: Vec<E> = rows
        .iter()
        .map(|row| gamma - E::from(row[layout.table]))
        .collect();
    let invs = batch_inversion(&dens);
    for row in 0..n {
        let th = invs[row].mul_base(rows[row][layout.multiplicity]);
        cols[ax.table_helper][row] = th;
        row_sum[row] -= th;
    }
    for row in 0..n - 1 {
        cols[ax.s][row + 1] = cols[ax.s][row] + row_sum[row];
        cols[ax.t][row + 1] = cols[ax.s][row + 1] + row_sum[row + 1];
    }
    cols
}
