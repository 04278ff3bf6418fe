//! Work and size limits shared by the float kernels and the spatial (convolution) kernels.
//!
//! A leaf module: both [`crate::exec::float`] and [`crate::exec::conv`] import it, neither imports
//! the other's limits.

/// Largest tensor (in elements) a kernel will produce.
pub(crate) const MAX_TENSOR_ELEMENTS: usize = 1 << 26;
/// Largest number of multiply-adds in one matrix product (bounds constant folding work).
pub(crate) const MAX_GEMM_WORK: usize = 1 << 32;

/// Largest number of multiply-adds (or window reads) one convolution or pooling node may do.
pub const MAX_CONV_WORK: usize = MAX_GEMM_WORK;
