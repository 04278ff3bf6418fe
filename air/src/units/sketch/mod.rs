//! The sketch unit: the trace's weight columns meet the digest's weight sketches. Per sketch
//! `(λ, μ)`, a running Horner sum `H` (`H[0] = 0`, `H[r+1] = T[r]`) and its row total
//! `T[r] = λ·H[r] + Σ_t μ^t W[r][t]`, whose last value is asserted to be the sketch (see
//! [`crate::commitment`] for why this binds the weights).

pub mod constraints;

#[cfg(test)]
mod tests;

pub use constraints::Sketches;
