//! The product unit's constraints and assertions (see [`crate::units::product`]).

use alloc::vec::Vec;

use winter_math::{ExtensionOf, FieldElement};

use super::rows::{accumulator_row_sum, input_row_sum, weight_row_sum, weight_step};
use crate::challenges::{counter_column, counter_table, Challenges};
use crate::field::{felt_from_i64, Felt};
use crate::frame::AuxFrame;
use crate::layout::{Counter, LayerLayout, Layout};
use crate::public::PublicInputs;
use crate::sink::{Assertions, Constraints, Degree};
use crate::units::patch;

/// Auxiliary: the Horner sums `U` (each layer's weight blocks), `V` (each region's inputs) and
/// `Q` (region `l`'s accumulators of layer `l − 1`), each restarting after its blocks.
pub fn running_sums<F, E>(
    layout: &Layout,
    ch: &Challenges,
    inv_multipliers: &[Felt],
    f: &AuxFrame<'_, F, E>,
    out: &mut Constraints<'_, E>,
) where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let (r, ax, one) = (f.r, &layout.aux, E::ONE);
    let (mc, ac, an) = (f.main.cur, f.cur, f.next);
    // U
    for (l, lay) in layout.layers.iter().enumerate() {
        let (last, _) = f.flags(layout, lay.block_len);
        let step = weight_step(layout, ch, r, l);
        let u = ax.u[l];
        let row = weight_row_sum(layout, ch, r, mc, l);
        out.push(
            Degree::cyclic(1, lay.block_len),
            an[u] - (one - last) * (ac[u] + row) * step,
        );
    }
    // V (where a block has more than one live row)
    for (l, reg) in layout.regions.iter().enumerate() {
        let Some(v) = ax.v[l] else { continue };
        let last = f.restart(layout, reg);
        let step = r[ch.beta_pows[l] + reg.lanes_per_row];
        let row = input_row_sum(layout, ch, r, mc, l);
        // activations and inputs are cells
        out.push(
            Degree::cyclic(1, reg.block_len),
            an[v] - (one - last) * (ac[v] + row) * step,
        );
    }
    // Q
    for (l, reg) in layout.regions.iter().enumerate().skip(1) {
        let Some(q) = ax.q[l] else { continue };
        let last = f.restart(layout, reg);
        let step = r[ch.beta_pows[l - 1] + reg.lanes_per_row];
        let row = accumulator_row_sum(layout, ch, r, mc, l, inv_multipliers[l]);
        // an accumulator is degree 2 in its cells (`t = x + c·(1 + d)`)
        out.push(
            sum_degree(2, reg.block_len),
            an[q] - (one - last) * (ac[q] + row) * step,
        );
    }
}

/// The degree of a Horner sum's constraint over `block_len`-row blocks whose rows add terms of
/// degree `base`: a one-row block restarts on every row, so the constraint is the cell itself.
fn sum_degree(base: usize, block_len: usize) -> Degree {
    if block_len == 1 {
        Degree::new(1)
    } else {
        Degree::cyclic(base, block_len)
    }
}

/// Auxiliary: `Z` adds every block's product term on the block's second-to-last row (from the
/// next row's totals, so the last row is included). A one-row block's term is added on its own
/// row instead, so the trace's last row, which no transition leaves, is never such a block's
/// term: [`crate::ModelDescriptor::validate`] allows one-row blocks only where the last one is a
/// padding input and output, outside the statement.
pub fn accumulator<F, E>(
    layout: &Layout,
    ch: &Challenges,
    inv_multipliers: &[Felt],
    f: &AuxFrame<'_, F, E>,
    out: &mut Constraints<'_, E>,
) where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let mut dz = E::ZERO;
    for (l, reg) in layout.regions.iter().enumerate() {
        let inv_m = inv_multipliers[l];
        if reg.block_len == 1 {
            dz += block_term(layout, ch, inv_m, f.r, f.main.cur, f.cur, l);
        } else {
            let (_, penult) = f.flags(layout, reg.block_len);
            dz += penult * block_term(layout, ch, inv_m, f.r, f.main.next, f.next, l);
        }
        dz += patch::constraints::accumulator_term(layout, ch, f, l);
    }
    out.push(accumulator_degree(layout), f.next[ax.z] - f.cur[ax.z] - dz);
}

/// Region `l`'s block term from the block's last row (`main`, `aux`): `ρ·F_j·g_j` (times the
/// block factor `G`; a patch layer's product term is per plane, the patch unit's), plus `A·g_0`
/// for the model inputs or minus `A·Σ_b β^b Y_ib` for the accumulators of layer `l − 1`.
fn block_term<F, E>(
    layout: &Layout,
    ch: &Challenges,
    inv_m: Felt,
    r: &[E],
    main: &[F],
    aux: &[E],
    l: usize,
) -> E
where
    F: FieldElement<BaseField = Felt>,
    E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
{
    let ax = &layout.aux;
    let y = if l == 0 {
        E::ZERO
    } else {
        lane_sum(aux, ax.q[l]) + accumulator_row_sum(layout, ch, r, main, l, inv_m)
    };
    let totals = BlockTotals {
        w: aux[ax.u[l]] + weight_row_sum(layout, ch, r, main, l),
        x: lane_sum(aux, ax.v[l]) + input_row_sum(layout, ch, r, main, l),
        y,
        a: aux[ax.a[l]],
        g: ax.g[l].map(|g| aux[g]),
    };
    totals.term(layout, r[ch.rho[l]], l)
}

/// One block's totals as the product check reads them on the block's last row: its weight
/// Horner `w`, lane sums of the layer's inputs `x` and of the previous layer's accumulators `y`
/// (unused for the model inputs), its output power `A` and its factor `G`, if any.
pub struct BlockTotals<E> {
    /// `Σ_i ρ^i W_ij` of the block (up to its factor).
    pub w: E,
    /// `Σ_b β^b X_jb`.
    pub x: E,
    /// `Σ_b β^b Y_jb` (region `l ≥ 1`).
    pub y: E,
    /// The region's per-block power `A`.
    pub a: E,
    /// The layer's per-block factor `G`.
    pub g: Option<E>,
}

impl<E: FieldElement> BlockTotals<E> {
    /// Region `l`'s block term: `ρ·w·x` (times `G`; zero for a patch layer, whose product term
    /// is per plane, the patch unit's), plus `A·x` for the model inputs or minus `A·y`.
    pub fn term(&self, layout: &Layout, rho: E, l: usize) -> E {
        let patch = layout.layers[l].patch.is_some();
        let mut term = if patch {
            E::ZERO
        } else {
            rho * self.w * self.x
        };
        if let Some(g) = self.g.filter(|_| !patch) {
            term *= g;
        }
        if l == 0 {
            term + self.a * self.x
        } else {
            term - self.a * self.y
        }
    }
}

/// A lane sum's value on this row (zero without the column: the block's one live row is its
/// last, whose own values complete the sum).
pub fn lane_sum<E: FieldElement>(aux: &[E], column: Option<usize>) -> E {
    column.map_or(E::ZERO, |c| aux[c])
}

/// The degree of `Z`'s constraint: its highest-degree term decides.
fn accumulator_degree(layout: &Layout) -> Degree {
    let n = layout.trace_len;
    let mut z_terms: Vec<(usize, usize)> = Vec::new();
    for (l, (region, layer)) in layout.regions.iter().zip(&layout.layers).enumerate() {
        let deg_g = usize::from(layer.factor.is_some());
        // ρ·W·X (·G); A·Y with the accumulators Y of degree 2, or A·X for the model inputs
        z_terms.push((2 + deg_g, region.block_len));
        z_terms.push((if l == 0 { 2 } else { 3 }, region.block_len));
    }
    z_terms.extend(
        (0..layout.layers.len()).filter_map(|l| patch::constraints::accumulator_degree(layout, l)),
    );
    let eval = |(b, r): (usize, usize)| b * (n - 1) + (n / r) * (r - 1);
    let (base, cycle) = z_terms
        .iter()
        .copied()
        .max_by_key(|&t| eval(t))
        .unwrap_or((2, 2));
    Degree::cyclic(base, cycle)
}

/// Auxiliary assertions: `U`, `V` and `Q` start at zero.
pub fn running_sum_assertions<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    out: &mut Assertions<E>,
) {
    let ax = &layout.aux;
    for &u in &ax.u {
        out.single(u, 0, || E::ZERO);
    }
    for &v in ax.v.iter().flatten() {
        out.single(v, 0, || E::ZERO);
    }
    for &q in ax.q.iter().flatten() {
        out.single(q, 0, || E::ZERO);
    }
}

/// Auxiliary assertions: `Z` starts at zero and ends at [`expected_z`].
pub fn accumulator_assertions<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    ch: &Challenges,
    public: &PublicInputs,
    r: &[E],
    out: &mut Assertions<E>,
) {
    let z = layout.aux.z;
    out.single(z, 0, || E::ZERO);
    out.single(z, layout.trace_len - 1, || {
        expected_z(layout, ch, public, r)
    });
}

/// The value `Z` must reach on the last row.
pub fn expected_z<E: FieldElement<BaseField = Felt>>(
    layout: &Layout,
    ch: &Challenges,
    p: &PublicInputs,
    r: &[E],
) -> E {
    let cap = layout.batch_capacity;
    let last = layout.layers.len() - 1;
    let mut total = E::ZERO;

    // − Σ_l (Σ_i ρ^{i+1} b_i)(Σ_b β^b)
    for (l, layer) in p.descriptor.layers.iter().enumerate() {
        let rho = r[ch.rho[l]];
        let beta = r[ch.beta[l]];
        let mut bias_sum = E::ZERO;
        let powers = output_powers(rho, &layout.layers[l]);
        for (pw, &b) in powers.into_iter().zip(&layer.bias) {
            bias_sum += pw.mul_base(felt_from_i64(b));
        }
        let mut lanes = E::ZERO;
        let mut bw = E::ONE;
        for _ in 0..cap {
            lanes += bw;
            bw *= beta;
        }
        total -= bias_sum * lanes;
    }

    // + Σ_i ρ^{i+1} Σ_b β^b Y_ib for the (public) outputs of the last layer
    let (rho, beta) = (r[ch.rho[last]], r[ch.beta[last]]);
    let powers = output_powers(rho, &layout.layers[last]);
    let mut bw = E::ONE;
    for b in 0..cap {
        let y = p.outputs.get(b).unwrap_or(&p.padding_outputs);
        let mut lane = E::ZERO;
        for (&pw, &v) in powers.iter().zip(y) {
            lane += pw.mul_base(felt_from_i64(v));
        }
        total += lane * bw;
        bw *= beta;
    }

    // + Σ_j δ^{j+1} Σ_b β_0^b X_jb for the (public) inputs; padding lanes are zero
    let (delta, beta0) = (r[ch.delta], r[ch.beta[0]]);
    let mut dw = delta;
    for j in 0..layout.regions[0].blocks {
        let mut g = E::ZERO;
        let mut bw = E::ONE;
        for x in &p.inputs {
            if let Some(&v) = x.get(j) {
                g += bw.mul_base(felt_from_i64(v));
            }
            bw *= beta0;
        }
        total += g * dw;
        dw *= delta;
    }
    total
}

/// `ρ^(1 + S + i)` for the natural index `i` of each physical output of `layer` (`S` its
/// exponent shift, zero but for stencil layers).
fn output_powers<E: FieldElement<BaseField = Felt>>(rho: E, layer: &LayerLayout) -> Vec<E> {
    let counter = Counter::new(1 + layer.out_shift(), &layer.out_order, 1);
    let table = counter_table(rho, &counter);
    counter_column(&table, &counter, layer.n_out)
}
