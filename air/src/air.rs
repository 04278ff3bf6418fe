//! The constraints. See [`crate::layout`] for the columns and [`crate::commitment`] for how the
//! weight columns are bound to the model digest.
//!
//! Soundness notes, in the order a reviewer should check them:
//! - **Products are checked, not replayed.** For layer `l`, with `f_j = Σ_i ρ^{i+1} W_ij`,
//!   `g_j = Σ_b β^b X_jb` and `q_i = Σ_b β^b Y_ib`, the accumulator `Z` collects
//!   `Σ_j f_j g_j − Σ_i ρ^{i+1} q_i`, which must equal `−Σ_i ρ^{i+1} b_i · Σ_b β^b`. Each layer
//!   has its own `(ρ_l, β_l)` and every term carries a positive power of `ρ_l` (or `δ`), so errors
//!   of different layers live in disjoint monomials and cannot cancel. A stencil layer
//!   ([`crate::conv`]) orders its outputs by their natural index and shifts every exponent by the
//!   same `S`, chosen so that even the (committed zero) cells of taps outside the output grid
//!   carry a positive power.
//! - **The weights are the committed ones**: the weight opening (see [`crate::commitment`]) ties
//!   the queried rows to the weight root, and the sketch columns tie the trace's weight
//!   polynomials to the digest's sketches.
//! - **Every value the identity uses is a main-trace cell** committed before the challenges; the
//!   auxiliary columns only hold sums that constraints define from main-trace values.
//! - **Edge rows.** Running sums start from row-0 assertions; block totals are taken from
//!   next-row values on each block's second-to-last row; row-local constraints are enforced in
//!   both the current-row and the next-row form so the last row is covered too; the LogUp total
//!   includes the last row through the `T` column.
//! - **Integers, not field elements.** Activations and all limbs are range-checked (LogUp against
//!   `0..256`), and the weights are the committed int8 weights, so every product and sum stays far
//!   below `p/2`.

use alloc::vec::Vec;

use winter_air::{
    Air, AirContext, Assertion, AuxRandElements, EvaluationFrame, ProofOptions, TraceInfo,
    TransitionConstraintDegree,
};
use winter_crypto::{RandomCoin, RandomCoinError};
use winter_math::{ExtensionOf, FieldElement};

use crate::challenges::Challenges;
use crate::commitment::{sketch_points, sketch_powers, sketch_row, SKETCHES};
use crate::field::{felt_from_i64, Felt};
use crate::layout::{Counter, LayerLayout, Layout, LookupValue, RegionKind, RegionLayout};
use crate::limits::RANGE_TABLE_SIZE;
use crate::public::PublicInputs;
use crate::units::lookup::{fraction_sum, lookup_value};
use crate::units::product::{
    accumulator_row_sum, input_row_sum, inverse_multipliers, weight_row_sum, weight_step,
};
use crate::units::requant::activation_row;

/// The glassbox AIR for one batch of inferences of one dense model.
pub struct InferenceAir {
    context: AirContext<Felt>,
    layout: Layout,
    challenges: Challenges,
    pub_inputs: PublicInputs,
    /// Per region: the inverse of the multiplier of the layer whose outputs it holds.
    inv_multipliers: Vec<Felt>,
    /// Per weight sketch: `λ` and `[μ^t]` over the weight columns.
    sketches: Vec<(Felt, Vec<Felt>)>,
}

// Periodic column indices: two flags per distinct block length, then one restart flag per
// region shape with dead rows.
fn flag_last(bi: usize) -> usize {
    2 * bi
}
fn flag_penult(bi: usize) -> usize {
    2 * bi + 1
}

impl InferenceAir {
    /// The layout this AIR was built for.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The statement this AIR was built for.
    pub fn public_inputs(&self) -> &PublicInputs {
        &self.pub_inputs
    }

    /// The value `Z` must reach on the last row.
    fn expected_z<E: FieldElement<BaseField = Felt>>(&self, r: &[E]) -> E {
        let ch = &self.challenges;
        let layout = &self.layout;
        let cap = layout.batch_capacity;
        let p = &self.pub_inputs;
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
}

impl Air for InferenceAir {
    type BaseField = Felt;
    type PublicInputs = PublicInputs;

    /// Builds the AIR. The public inputs must have passed [`PublicInputs::validate`]; the
    /// verifier checks that (and the trace shape) before any proof reaches winterfell.
    fn new(trace_info: TraceInfo, pub_inputs: PublicInputs, options: ProofOptions) -> Self {
        let layout = match pub_inputs.validate() {
            Ok(layout) => layout,
            Err(_) => {
                Layout::new(&pub_inputs.descriptor, 1).unwrap_or_else(|_| placeholder_layout())
            }
        };
        let n = layout.trace_len;
        let challenges = Challenges::new(&layout);

        // ---- main degrees
        let mut main = Vec::new();
        main.push(TransitionConstraintDegree::new(2));
        // per sketch: H' = T, and T = λ·H + row term in current- and next-row form
        for _ in 0..3 * SKETCHES {
            main.push(TransitionConstraintDegree::new(1));
        }
        for region in &layout.regions {
            if let RegionKind::Activation { .. } = region.kind {
                for _ in 0..region.lanes_per_row * 4 {
                    main.push(TransitionConstraintDegree::new(3));
                }
            }
        }

        // ---- aux degrees
        let cyc =
            |base: usize, r: usize| TransitionConstraintDegree::with_cycles(base, alloc::vec![r]);
        let mut aux = Vec::new();
        for layer in &layout.layers {
            aux.push(cyc(1, layer.block_len)); // U
        }
        for region in &layout.regions {
            let deg_x = if region.kind == RegionKind::Input {
                1
            } else {
                3
            };
            aux.push(cyc(deg_x, region.block_len)); // V
        }
        for region in layout.regions.iter().skip(1) {
            aux.push(cyc(1, region.block_len)); // Q
        }
        for region in &layout.regions {
            aux.push(counter_degree(&region.powers)); // A
        }
        for factor in layout.layers.iter().filter_map(|l| l.factor.as_ref()) {
            aux.push(counter_degree(factor)); // G
        }
        // Z: the highest-degree term decides
        let mut z_terms: Vec<(usize, usize)> = Vec::new();
        for (region, layer) in layout.regions.iter().zip(&layout.layers) {
            let deg_x = if region.kind == RegionKind::Input {
                1
            } else {
                3
            };
            let deg_g = usize::from(layer.factor.is_some());
            z_terms.push((1 + deg_x + deg_g, region.block_len));
            z_terms.push((2, region.block_len));
        }
        let eval = |(b, r): (usize, usize)| b * (n - 1) + (n / r) * (r - 1);
        let z_deg = z_terms
            .iter()
            .copied()
            .max_by_key(|&t| eval(t))
            .unwrap_or((2, 2));
        aux.push(cyc(z_deg.0, z_deg.1));
        for group in &layout.lookup_groups {
            let d = 1 + group.iter().map(LookupValue::degree).sum::<usize>();
            aux.push(TransitionConstraintDegree::new(d));
            aux.push(TransitionConstraintDegree::new(d));
        }
        aux.push(TransitionConstraintDegree::new(2)); // table helper, current row
        aux.push(TransitionConstraintDegree::new(2)); // table helper, next row
        aux.push(TransitionConstraintDegree::new(1)); // S
        aux.push(TransitionConstraintDegree::new(1)); // T

        let num_main_assertions = 2 + 2 * SKETCHES;
        let num_aux_assertions = layout.layers.len() + 3 * layout.regions.len() - 1
            + 4
            + layout.aux.g.iter().flatten().count();
        let context = AirContext::new_multi_segment(
            trace_info,
            main,
            aux,
            num_main_assertions,
            num_aux_assertions,
            options,
        );

        let inv_multipliers = inverse_multipliers(&layout);
        let points = sketch_points(&pub_inputs.descriptor, &pub_inputs.weight_root);
        let sketches = points
            .iter()
            .map(|&(lambda, mu)| (lambda, sketch_powers(mu, layout.weight_range().len())))
            .collect();
        Self {
            context,
            layout,
            challenges,
            pub_inputs,
            inv_multipliers,
            sketches,
        }
    }

    fn context(&self) -> &AirContext<Felt> {
        &self.context
    }

    fn evaluate_transition<E: FieldElement<BaseField = Felt>>(
        &self,
        frame: &EvaluationFrame<E>,
        _periodic: &[E],
        result: &mut [E],
    ) {
        let cur = frame.current();
        let next = frame.next();
        let layout = &self.layout;
        let one = E::ONE;
        let mut i = 0;
        let mut push = |v: E| {
            result[i] = v;
            i += 1;
        };

        let dt = next[layout.table] - cur[layout.table];
        push(dt * (dt - one));

        let weights = layout.weight_range();
        for (k, (lambda, mu)) in self.sketches.iter().enumerate() {
            let (h, t) = (layout.sketch + 2 * k, layout.sketch + 2 * k + 1);
            push(next[h] - cur[t]);
            for row in [cur, next] {
                let term = sketch_row(&row[weights.clone()], mu);
                push(row[t] - row[h].mul_base(*lambda) - term);
            }
        }

        let mut tmp = [E::ZERO; 2];
        for region in &layout.regions {
            if let RegionKind::Activation { .. } = region.kind {
                for t in 0..region.lanes_per_row {
                    let base = region.lane_col(t);
                    for row in [cur, next] {
                        activation_row(row, base, &mut tmp);
                        push(tmp[0]);
                        push(tmp[1]);
                    }
                }
            }
        }
        debug_assert_eq!(i, result.len());
    }

    fn evaluate_aux_transition<F, E>(
        &self,
        main_frame: &EvaluationFrame<F>,
        aux_frame: &EvaluationFrame<E>,
        periodic: &[F],
        rand: &AuxRandElements<E>,
        result: &mut [E],
    ) where
        F: FieldElement<BaseField = Felt>,
        E: FieldElement<BaseField = Felt> + ExtensionOf<F>,
    {
        let r = rand.rand_elements();
        let ch = &self.challenges;
        let layout = &self.layout;
        let ax = &layout.aux;
        let (mc, mn) = (main_frame.current(), main_frame.next());
        let (ac, an) = (aux_frame.current(), aux_frame.next());
        let one = E::ONE;
        let mut i = 0;
        let mut push = |v: E| {
            result[i] = v;
            i += 1;
        };
        let flags = |len: usize| {
            let bi = layout.block_len_index(len);
            (
                E::from(periodic[flag_last(bi)]),
                E::from(periodic[flag_penult(bi)]),
            )
        };
        // where a region's lane sums restart: after each block, and after its dead rows
        let restart = |reg: &RegionLayout| match layout.restart_flag_index(reg) {
            Some(f) => E::from(periodic[2 * layout.block_lens.len() + f]),
            None => flags(reg.block_len).0,
        };

        let pw_row = |row: &[F], l: usize| weight_row_sum(layout, ch, r, row, l);
        let px_row = |row: &[F], l: usize| input_row_sum(layout, ch, r, row, l);
        let py_row = |row: &[F], l: usize| {
            accumulator_row_sum(layout, ch, r, row, l, self.inv_multipliers[l])
        };

        // where a per-block power column steps, and by what factor
        let counter_step = |c: &Counter, at: usize| {
            let mut f = one;
            for (s, &(span, _)) in c.steps.iter().enumerate() {
                f += flags(span).0 * r[at + 1 + s];
            }
            f
        };

        // U
        for (l, lay) in layout.layers.iter().enumerate() {
            let (last, _) = flags(lay.block_len);
            let step = weight_step(layout, ch, r, l);
            let u = ax.u[l];
            push(an[u] - (one - last) * (ac[u] + pw_row(mc, l)) * step);
        }
        // V
        for (l, reg) in layout.regions.iter().enumerate() {
            let last = restart(reg);
            let step = r[ch.beta_pows[l] + reg.lanes_per_row];
            let v = ax.v[l];
            push(an[v] - (one - last) * (ac[v] + px_row(mc, l)) * step);
        }
        // Q
        for (l, reg) in layout.regions.iter().enumerate().skip(1) {
            let last = restart(reg);
            let step = r[ch.beta_pows[l - 1] + reg.lanes_per_row];
            let q = ax.q[l].unwrap_or(0);
            push(an[q] - (one - last) * (ac[q] + py_row(mc, l)) * step);
        }
        // A: δ^(j+1), or ρ_(l−1)^(i+1) for the natural index i of block j's output
        for (l, reg) in layout.regions.iter().enumerate() {
            let a = ax.a[l];
            push(an[a] - ac[a] * counter_step(&reg.powers, ch.powers[l]));
        }
        // G: ρ^(g·m) for the group of a grouped layer's block, ρ^(y·Wo + x) for a stencil's
        for (l, lay) in layout.layers.iter().enumerate() {
            if let (Some(g), Some(c), Some(at)) = (ax.g[l], &lay.factor, ch.factor[l]) {
                push(an[g] - ac[g] * counter_step(c, at));
            }
        }
        // Z
        let mut dz = E::ZERO;
        for (l, reg) in layout.regions.iter().enumerate() {
            let (_, penult) = flags(reg.block_len);
            let w_total = an[ax.u[l]] + pw_row(mn, l);
            let x_total = an[ax.v[l]] + px_row(mn, l);
            let mut term = r[ch.rho[l]] * w_total * x_total;
            if let Some(g) = ax.g[l] {
                term *= an[g];
            }
            if l == 0 {
                term += an[ax.a[0]] * x_total;
            } else {
                let y_total = an[ax.q[l].unwrap_or(0)] + py_row(mn, l);
                term -= an[ax.a[l]] * y_total;
            }
            dz += penult * term;
        }
        push(an[ax.z] - ac[ax.z] - dz);

        // LogUp
        let gamma = r[ch.gamma];
        let mut sums = [E::ZERO; 2];
        for (g, group) in layout.lookup_groups.iter().enumerate() {
            let h = ax.helpers[g];
            for (row, aux_row, sum) in [(mc, ac, 0), (mn, an, 1)] {
                let values = group.iter().map(|v| E::from(lookup_value(row, v)));
                let (den, num) = fraction_sum(gamma, values);
                push(aux_row[h] * den - num);
                sums[sum] += aux_row[h];
            }
        }
        for (row, aux_row, sum) in [(mc, ac, 0), (mn, an, 1)] {
            let th = aux_row[ax.table_helper];
            push(th * (gamma - E::from(row[layout.table])) - E::from(row[layout.multiplicity]));
            sums[sum] -= th;
        }
        push(an[ax.s] - ac[ax.s] - sums[0]);
        push(an[ax.t] - an[ax.s] - sums[1]);
        debug_assert_eq!(i, result.len());
    }

    fn get_assertions(&self) -> Vec<Assertion<Felt>> {
        let layout = &self.layout;
        let last = layout.trace_len - 1;
        let mut out = alloc::vec![
            Assertion::single(layout.table, 0, Felt::ZERO),
            Assertion::single(layout.table, last, Felt::new(RANGE_TABLE_SIZE as u64 - 1)),
        ];
        for (k, &s) in self.pub_inputs.weight_sketch.iter().enumerate() {
            out.push(Assertion::single(layout.sketch + 2 * k, 0, Felt::ZERO));
            out.push(Assertion::single(layout.sketch + 2 * k + 1, last, s));
        }
        out
    }

    fn get_aux_assertions<E: FieldElement<BaseField = Felt>>(
        &self,
        rand: &AuxRandElements<E>,
    ) -> Vec<Assertion<E>> {
        let r = rand.rand_elements();
        let ch = &self.challenges;
        let ax = &self.layout.aux;
        let last = self.layout.trace_len - 1;
        let mut out = Vec::new();
        for &u in &ax.u {
            out.push(Assertion::single(u, 0, E::ZERO));
        }
        for &v in &ax.v {
            out.push(Assertion::single(v, 0, E::ZERO));
        }
        for q in ax.q.iter().flatten() {
            out.push(Assertion::single(*q, 0, E::ZERO));
        }
        for (l, &a) in ax.a.iter().enumerate() {
            out.push(Assertion::single(a, 0, r[ch.powers[l]]));
        }
        for (g, at) in ax.g.iter().zip(&ch.factor) {
            if let (Some(g), Some(at)) = (g, at) {
                out.push(Assertion::single(*g, 0, r[*at]));
            }
        }
        out.push(Assertion::single(ax.z, 0, E::ZERO));
        out.push(Assertion::single(ax.z, last, self.expected_z(r)));
        out.push(Assertion::single(ax.s, 0, E::ZERO));
        out.push(Assertion::single(ax.t, last, E::ZERO));
        out
    }

    fn get_aux_rand_elements<E, R>(
        &self,
        coin: &mut R,
    ) -> Result<AuxRandElements<E>, RandomCoinError>
    where
        E: FieldElement<BaseField = Felt>,
        R: RandomCoin<BaseField = Felt>,
    {
        let mut drawn = Vec::with_capacity(self.challenges.num_drawn);
        for _ in 0..self.challenges.num_drawn {
            drawn.push(coin.draw()?);
        }
        Ok(AuxRandElements::new(
            self.challenges.expand(&self.layout, &drawn),
        ))
    }

    fn get_periodic_column_values(&self) -> Vec<Vec<Felt>> {
        let mut cols = Vec::new();
        for &len in &self.layout.block_lens {
            for pos in [len - 1, len - 2] {
                let mut c = alloc::vec![Felt::ZERO; len];
                c[pos] = Felt::ONE;
                cols.push(c);
            }
        }
        for &(len, dead) in &self.layout.restart_flags {
            let mut c = alloc::vec![Felt::ZERO; len];
            c[len - 1] = Felt::ONE;
            c[dead - 1] = Felt::ONE;
            cols.push(c);
        }
        cols
    }
}

/// `ρ^(1 + S + i)` for the natural index `i` of each physical output of `layer` (`S` its
/// exponent shift, zero but for stencil layers).
fn output_powers<E: FieldElement<BaseField = Felt>>(rho: E, layer: &LayerLayout) -> Vec<E> {
    let counter = Counter::new(1 + layer.out_shift(), &layer.out_order, 1);
    let table = crate::challenges::counter_table(rho, &counter);
    crate::challenges::counter_column(&table, &counter, layer.n_out)
}

/// Degree of a per-block power column's constraint: its largest span decides.
fn counter_degree(c: &Counter) -> TransitionConstraintDegree {
    match c.steps.last() {
        Some(&(span, _)) => TransitionConstraintDegree::with_cycles(1, alloc::vec![span]),
        None => TransitionConstraintDegree::new(1),
    }
}

fn placeholder_layout() -> Layout {
    use crate::descriptor::{LayerDescriptor, ModelDescriptor};
    let d = ModelDescriptor {
        trace_len: RANGE_TABLE_SIZE,
        layers: alloc::vec![LayerDescriptor {
            n_in: 1,
            n_out: 1,
            multiplier: None,
            bias: alloc::vec![0],
            groups: 1,
            conv: None,
        }],
        input_scale: 1.0,
        output_scale: 1.0,
    };
    // a one-weight model always fits
    Layout::new(&d, 1).unwrap_or_else(|_| unreachable_layout())
}

#[allow(clippy::panic)]
fn unreachable_layout() -> Layout {
    panic!("the one-weight placeholder model always has a layout")
}
