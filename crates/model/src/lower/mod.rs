//! Lowering: from the float [graph](crate::ir::graph) to integer layers. Dense MLP chains go through
//! [`dense::FloatMlp`] and [quantization](crate::quant); convolutional networks ([`convnet`]) and
//! classic tabular models ([`tabular`]) lower straight to a [`QuantizedModel`](crate::QuantizedModel).

pub(crate) mod convnet;
pub(crate) mod dense;
pub(crate) mod dense_layer;
pub(crate) mod normalize;
pub(crate) mod pipeline;
pub mod smooth;
pub mod tabular;
