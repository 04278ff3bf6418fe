//! The verifier's random challenges and the powers the constraints use.
//!
//! Drawn after the main-trace commitment: `γ` (LogUp), `δ` (input binding), and per layer `ρ_l`
//! (output index) and `β_l` (batch lane). [`InferenceAir`](crate::air::InferenceAir) expands them once
//! per proof into a flat table of powers so that constraint evaluation never exponentiates.

use alloc::vec::Vec;

use winter_air::TraceInfo;
use winter_math::FieldElement;

use crate::conv::natural_index;
use crate::layout::{Counter, Layout};

/// Positions of each challenge and power in the flat element list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenges {
    /// LogUp challenge.
    pub gamma: usize,
    /// The challenge `λ` that folds an activation-table lookup `(x, y, table)` into one key
    /// (see [`crate::table`]).
    pub lambda: usize,
    /// Input-binding challenge.
    pub delta: usize,
    /// Per layer: `ρ_l`.
    pub rho: Vec<usize>,
    /// Per layer: `β_l`.
    pub beta: Vec<usize>,
    /// Per layer: start of `ρ_l^0 ..= ρ_l^{k_l}` (powers of `ρ_l^P` for a patch layer of plane
    /// `P`: its weight cells step through output planes).
    pub rho_pows: Vec<usize>,
    /// Per layer: start of `β_l^0 ..= β_l^{m}` with `m` the widest lane count of regions `l`, `l+1`.
    pub beta_pows: Vec<usize>,
    /// Per region: its per-block power column's table (see [`Challenges::counter_table`]).
    pub powers: Vec<usize>,
    /// Per grouped or stencil layer: its factor column's table.
    pub factor: Vec<Option<usize>>,
    /// Per stencil layer: `ρ_l^(e_t)` for every tap, then the Horner step `ρ_l^(Ho·Wo)`.
    pub conv: Vec<Option<usize>>,
    /// Per patch layer: `ρ_l²`, `ρ_l·(ρ_l^P − 1)` and `ρ_l·(ρ_l^P + 1)`, the weights of its
    /// plane sums (see [`crate::units::patch::plane_term`]).
    pub patch: Vec<Option<usize>>,
    /// Per region `l` holding a pooled layer's windows: `ρ_(l−1)^(o_k)` for each activation `k`
    /// of a window, `o_k` its output's natural index past the window's first.
    pub window: Vec<Option<usize>>,
    /// Number of drawn (random) elements.
    pub num_drawn: usize,
    /// Total length of the expanded list.
    pub len: usize,
}

impl Challenges {
    /// The index map for `layout`.
    pub fn new(layout: &Layout) -> Self {
        let num_layers = layout.layers.len();
        let gamma = 0;
        let delta = 1;
        let rho: Vec<usize> = (0..num_layers).map(|l| 2 + 2 * l).collect();
        let beta: Vec<usize> = (0..num_layers).map(|l| 3 + 2 * l).collect();
        let lambda = 2 + 2 * num_layers;
        let num_drawn = lambda + 1;
        let mut at = num_drawn;
        let mut rho_pows = Vec::new();
        let mut beta_pows = Vec::new();
        for l in 0..num_layers {
            rho_pows.push(at);
            at += layout.layers[l].k + 1;
            beta_pows.push(at);
            at += Self::beta_span(layout, l) + 1;
        }
        let mut powers = Vec::new();
        for region in &layout.regions {
            powers.push(at);
            at += 1 + region.powers.steps.len();
        }
        let mut factor = Vec::new();
        let mut conv = Vec::new();
        let mut patch = Vec::new();
        for layer in &layout.layers {
            factor.push(layer.factor.as_ref().map(|c| {
                at += 1 + c.steps.len();
                at - 1 - c.steps.len()
            }));
            conv.push(layer.conv.as_ref().map(|shape| {
                at += shape.taps() + 1;
                at - shape.taps() - 1
            }));
            patch.push(layer.patch.as_ref().map(|_| {
                at += 3;
                at - 3
            }));
        }
        let mut window = Vec::new();
        for region in &layout.regions {
            let k = region.window();
            window.push((k > 1).then(|| {
                at += k;
                at - k
            }));
        }
        Self {
            gamma,
            lambda,
            delta,
            rho,
            beta,
            rho_pows,
            beta_pows,
            powers,
            factor,
            conv,
            patch,
            window,
            num_drawn,
            len: at,
        }
    }

    fn beta_span(layout: &Layout, l: usize) -> usize {
        let here = layout.regions[l].lanes_per_row;
        let next = layout.regions.get(l + 1).map_or(0, |r| r.lanes_per_row);
        here.max(next)
    }

    /// Appends the power tables to the drawn elements (`drawn.len() == num_drawn`).
    pub fn expand<E: FieldElement>(&self, layout: &Layout, drawn: &[E]) -> Vec<E> {
        let mut out: Vec<E> = drawn.to_vec();
        out.resize(self.num_drawn, E::ONE);
        for l in 0..layout.layers.len() {
            let rho = out[self.rho[l]];
            let base = match &layout.layers[l].patch {
                Some(shape) => rho.exp((shape.plane as u64).into()),
                None => rho,
            };
            push_powers(&mut out, base, layout.layers[l].k);
            let beta = out[self.beta[l]];
            push_powers(&mut out, beta, Self::beta_span(layout, l));
        }
        for (l, region) in layout.regions.iter().enumerate() {
            let base = if l == 0 {
                out[self.delta]
            } else {
                out[self.rho[l - 1]]
            };
            push_counter(&mut out, base, &region.powers);
        }
        for (l, layer) in layout.layers.iter().enumerate() {
            let rho = out[self.rho[l]];
            if let Some(c) = &layer.factor {
                push_counter(&mut out, rho, c);
            }
            if let Some(shape) = &layer.conv {
                for t in 0..shape.taps() {
                    out.push(pow_signed(rho, shape.tap_exponent(t)));
                }
                out.push(pow_signed(rho, shape.out_plane() as i64));
            }
            if let Some(shape) = &layer.patch {
                let rho_p = rho.exp((shape.plane as u64).into());
                out.push(rho * rho);
                out.push(rho * (rho_p - E::ONE));
                out.push(rho * (rho_p + E::ONE));
            }
        }
        for (l, region) in layout.regions.iter().enumerate().skip(1) {
            if region.window() > 1 {
                let rho = out[self.rho[l - 1]];
                let order = &layout.layers[l - 1].out_order;
                for k in 0..region.window() {
                    out.push(rho.exp(natural_index(order, k).into()));
                }
            }
        }
        out
    }

    /// The value of a per-block power column at block `b`, from its table at `at`: the start
    /// value times the step factors of every block boundary before `b` (tables hold the
    /// differences `base^(e_s) − base^(e_(s−1))`, see [`push_counter`]).
    pub fn counter_step<E: FieldElement>(r: &[E], at: usize, counter: &Counter, row: usize) -> E {
        let mut f = E::ONE;
        for (s, &(span, _)) in counter.steps.iter().enumerate() {
            if (row + 1).is_multiple_of(span) {
                f += r[at + 1 + s];
            }
        }
        f
    }
}

/// The values of a per-block power column over `len` rows, from its table (the start value, then
/// the step differences, as [`push_counter`] lays them out): the column the AIR's constraint
/// defines, and with one-row blocks the powers of a layer's outputs.
pub fn counter_column<E: FieldElement>(table: &[E], counter: &Counter, len: usize) -> Vec<E> {
    let mut value = table[0];
    let mut out = Vec::with_capacity(len);
    for row in 0..len {
        out.push(value);
        value *= Challenges::counter_step(table, 0, counter, row);
    }
    out
}

/// The table of `counter` over `base` ([`push_counter`]).
pub fn counter_table<E: FieldElement>(base: E, counter: &Counter) -> Vec<E> {
    let mut table = Vec::with_capacity(1 + counter.steps.len());
    push_counter(&mut table, base, counter);
    table
}

/// `x^e` for a signed `e` (`x^(−1)` is zero if `x` is, which happens with negligible probability).
pub fn pow_signed<E: FieldElement>(x: E, e: i64) -> E {
    if e >= 0 {
        x.exp((e as u64).into())
    } else {
        x.inv().exp(e.unsigned_abs().into())
    }
}

/// A counter's table: `base^start`, then per step `base^(e_s) − base^(e_(s−1))` (`e_(−1) = 0`),
/// so that the factor after a row is `1 + Σ_s flag_s·table[1 + s]` over the spans ending there
/// (the flags of a row's spans are nested, and the sum telescopes to the largest one's factor).
fn push_counter<E: FieldElement>(out: &mut Vec<E>, base: E, counter: &Counter) {
    out.push(pow_signed(base, counter.start));
    let mut previous = E::ONE;
    for &(_, exp) in &counter.steps {
        let f = pow_signed(base, exp);
        out.push(f - previous);
        previous = f;
    }
}

fn push_powers<E: FieldElement>(out: &mut Vec<E>, x: E, max: usize) {
    let mut p = E::ONE;
    for _ in 0..=max {
        out.push(p);
        p *= x;
    }
}
/// The winterfell trace shape of a proof laid out as `layout`: its main and auxiliary widths, the
/// challenges drawn for the auxiliary segment, its length, and no metadata (what the prover
/// proves and the verifier expects).
pub fn trace_info(layout: &Layout) -> TraceInfo {
    TraceInfo::new_multi_segment(
        layout.main_width,
        layout.aux.width,
        Challenges::new(layout).num_drawn,
        layout.trace_len,
        Vec::new(),
    )
}
