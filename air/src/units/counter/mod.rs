//! The counter unit: per-block power columns. Each region's `A` holds `δ^(j+1)` (the input
//! region) or `ρ_(l−1)^(i+1)` for the natural index `i` of block `j`'s output; each grouped or
//! stencil layer's `G` holds its per-block factor (`ρ^(g·m)` for the group of a grouped layer's
//! block, `ρ^(y·Wo + x)` for a stencil's). A column starts at its table's first value and, after
//! the last row of every span in its [`Counter`](crate::layout::Counter), is multiplied by that
//! digit's step factor.

pub mod constraints;

#[cfg(test)]
mod tests;
