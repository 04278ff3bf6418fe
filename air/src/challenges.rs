//! The verifier's random challenges and the powers the constraints use.
//!
//! Drawn after the main-trace commitment: `γ` (LogUp), `δ` (input binding), and per layer `ρ_l`
//! (output index) and `β_l` (batch lane). [`InferenceAir`](crate::InferenceAir) expands them once
//! per proof into a flat table of powers so that constraint evaluation never exponentiates.

use alloc::vec::Vec;

use winter_math::FieldElement;

use crate::layout::Layout;

/// Positions of each challenge and power in the flat element list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenges {
    /// LogUp challenge.
    pub gamma: usize,
    /// Input-binding challenge.
    pub delta: usize,
    /// Per layer: `ρ_l`.
    pub rho: Vec<usize>,
    /// Per layer: `β_l`.
    pub beta: Vec<usize>,
    /// Per layer: start of `ρ_l^0 ..= ρ_l^{k_l}`.
    pub rho_pows: Vec<usize>,
    /// Per layer: start of `β_l^0 ..= β_l^{m}` with `m` the widest lane count of regions `l`, `l+1`.
    pub beta_pows: Vec<usize>,
    /// Per layer: `ρ_l^(group_out)`, the factor between consecutive groups of a grouped layer.
    pub rho_group: Vec<usize>,
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
        let num_drawn = 2 + 2 * num_layers;
        let mut at = num_drawn;
        let mut rho_pows = Vec::new();
        let mut beta_pows = Vec::new();
        for l in 0..num_layers {
            rho_pows.push(at);
            at += layout.layers[l].k + 1;
            beta_pows.push(at);
            at += Self::beta_span(layout, l) + 1;
        }
        let rho_group = (0..num_layers).map(|l| at + l).collect();
        at += num_layers;
        Self {
            gamma,
            delta,
            rho,
            beta,
            rho_pows,
            beta_pows,
            rho_group,
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
            push_powers(&mut out, rho, layout.layers[l].k);
            let beta = out[self.beta[l]];
            push_powers(&mut out, beta, Self::beta_span(layout, l));
        }
        for l in 0..layout.layers.len() {
            let m = layout.layers[l].group_out as u64;
            let rho = out[self.rho[l]];
            out.push(rho.exp(m.into()));
        }
        out
    }
}

fn push_powers<E: FieldElement>(out: &mut Vec<E>, x: E, max: usize) {
    let mut p = E::ONE;
    for _ in 0..=max {
        out.push(p);
        p *= x;
    }
}
