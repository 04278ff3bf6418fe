//! Smooth activations (`Sigmoid`, `Tanh`, GELU, SiLU, `HardSwish`, `Softplus`, …) of dense
//! networks: read off the graph as scalar functions ([`scalar`]) and proven as sums of ramps
//! ([`ramps`]; [`expand`] rewrites the float network before quantization).

pub(crate) mod expand;
pub mod ramps;
pub mod scalar;
