//! Smooth activations (`Sigmoid`, `Tanh`, GELU, SiLU, `HardSwish`, `Softplus`, …) of dense
//! networks: read off the graph as scalar functions ([`scalar`]) and proven through activation
//! tables ([`table`]; [`expand`] calibrates each table's range before quantization).

pub(crate) mod expand;
pub mod scalar;
pub mod table;
