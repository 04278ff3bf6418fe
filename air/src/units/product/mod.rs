//! The product unit: the randomized matrix-product check. For layer `l`, with
//! `f_j = Σ_i ρ^{i+1} W_ij`, `g_j = Σ_b β^b X_jb` and `q_i = Σ_b β^b Y_ib`, the auxiliary
//! Horner sums `U` (weights), `V` (inputs) and `Q` (accumulators) build each block's terms and
//! the accumulator `Z` collects `Σ_j f_j g_j − Σ_i ρ^{i+1} q_i`, which must equal
//! `−Σ_i ρ^{i+1} b_i · Σ_b β^b` plus the public outputs' and inputs' terms (see
//! [`constraints::expected_z`]). The per-block powers `A` and factors `G` it multiplies by are
//! the counter unit's.

pub mod constraints;
pub mod rows;

pub use rows::{
    accumulator_row_sum, input_row_sum, inverse_multipliers, weight_row_sum, weight_step,
};
