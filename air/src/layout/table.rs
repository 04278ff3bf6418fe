//! Where an activation table's columns go (see [`crate::table`]).

/// The main columns of one activation table: its values beside the range table, and how often
/// each row's entry is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableColumns {
    /// The layer whose outputs pass through this table.
    pub layer: usize,
    /// `T[i]` on every row whose range-table value is `i`.
    pub values: usize,
    /// Lookups of each row's entry.
    pub multiplicity: usize,
}
