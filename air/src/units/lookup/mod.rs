//! The lookup unit: LogUp range checks against the table `0..256`. Each group of values has one
//! helper column `h = Σ 1/(γ − v)`, checked as `h·Π(γ − v) = Σ_v Π_{w≠v}(γ − w)`; a table
//! helper `m / (γ − table)` weighs each table entry by its multiplicity, and the running sum
//! `S` (total `T`, zero) makes the two sides cancel. The table column itself steps by 0 or 1
//! from 0 to 255, value `i` pinned to row `i·N/256`.
//!
//! Activation tables ([`crate::table`]) share the bus: a tabled activation's key is
//! `x + λ·y + λ²·(k + 1)`, and each table `k` has a value column (pinned like the range table,
//! changing only where it steps) and a helper `m_k / (γ − key_k)` of its own.

pub mod constraints;

#[cfg(test)]
mod tests;

pub use constraints::{fraction_sum, lookup_key, lookup_value, table_key};
