//! Executors: the float reference (kernels and the graph executor), the work limits both share, and
//! the integer reference executor whose semantics the STARK proves.

pub(crate) mod conv;
pub(crate) mod features;
pub(crate) mod float;
pub(crate) mod int;
pub(crate) mod int_layers;
pub(crate) mod kernels;
pub(crate) mod limits;
pub(crate) mod patch;
