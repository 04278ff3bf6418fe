//! The AIR's units: each owns its row-level relations (and their tests); `air.rs` wires them
//! into winterfell's transition constraints. A new model family adds a unit here.

pub mod lookup;
pub mod product;
pub mod requant;
