//! Lowering of small convolutional networks to the integer layers the proof checks.
//!
//! A chain `Conv → Relu/Clip(0, 6)/LeakyRelu → [MaxPool 2×2 | AveragePool k×k | GlobalAveragePool]
//! → … → Flatten → Gemm (→ activation → Gemm …)`, with identity skip connections (`Add` of an
//! earlier value; BatchNormalization already folded by the importer), becomes:
//! - **Conv / Gemm**: a dense layer. A convolution's matrix is its Toeplitz matrix; a stride-1
//!   convolution also records its geometry ([`ConvGeometry`]: shape, and its output order once a
//!   pool permutes its rows) as long as its rows are exactly that convolution, so that the prover
//!   may store it as a stencil layer, whose weight cells grow with the multiply-accumulates rather
//!   than with `inputs × outputs`.
//! - **MaxPool** (any kernel, stride and padding), exactly. Every window becomes `S` consecutive
//!   activations (`S` a power of two ≥ 4): the previous layer's output rows are reordered, repeated
//!   where windows overlap, and a window short of `S` (cut by padding, or 9 for 3×3) repeats its
//!   first value, which leaves the maximum unchanged. Then block-diagonal layers at the identity
//!   multiplier `2^16` run a tournament: `[a, b, c, d] ↦ [relu(a−b), b, relu(c−d), d]`, then
//!   `[u1, v1, u2, v2] ↦ [relu(u1 + v1 − u2 − v2), u2 + v2]` until one pair per window is left. The
//!   window maximum is the sum of that pair, so the next dense layer reads both with one weight.
//! - **AveragePool** (any kernel, stride and padding) and **GlobalAveragePool**: one block-diagonal
//!   layer of ones (zeros on the repeats that pad short windows) with `M = round(2^16 / d)` for the
//!   divisor `d` (`k_h·k_w` if `count_include_pad`, else the window size, which must then be the
//!   same for every window). The result is `floor((Σ·M + 2^15) / 2^16)`: exactly `Σ / d` rounded
//!   half up when `d` is a power of two; otherwise it rounds `Σ / d + e` with
//!   `|e| = Σ·|M·d − 2^16| / (2^16·d) ≤ 255·|M·d − 2^16| / 2^16` for u8 values (at most 0.008 for
//!   `d = 9`, 0.09 for `d = 49`), so it differs only near a rounding boundary.
//! - **Relu** is the activations' clamp; **Clip(0, 6)** sets the activation scale so that 255 is 6.
//! - **LeakyRelu(α)** after a Conv/Gemm `z`: the layer also outputs `−z`, both are ReLU'd, and the
//!   next layer reads `relu(z) − α·relu(−z)` (α folded into its weights before quantization).
//! - **Add** of the current value and an earlier one `s` (a residual skip): every layer between
//!   them gets extra rows that carry `s` (`relu(λ·s)`, and `relu(−λ·s)` too if `s` may be negative,
//!   with `λ` scaling the rows to the layer's largest weight). If the Add follows a Conv/Gemm
//!   before its activation (`Conv → Add → Relu`), `s` is folded into that layer's weights, so the
//!   activation applies to the sum, and the carrying rows end there.
//!
//! Every value is a weighted sum of the current activations ([`Parts`]), so pooling, LeakyRelu and
//! skips compose without extra layers. Refused with a reason: branches other than identity skips,
//! pooling inside a residual block, a Conv/Gemm without activation feeding another layer, an
//! average pool that would need a divisor per window, and a non-folded BatchNormalization.

mod builder;
mod calibration;
mod clear;
mod patches;
mod recognition;
mod stages;
#[cfg(test)]
mod tests;
mod windows;

use crate::error::{ModelError, Result};
use crate::ir::graph::{Graph, Op};
use crate::lower::convnet::calibration::{fidelity, quantize};
use crate::lower::convnet::recognition::float_stages;
use crate::quant::fidelity::FidelityReport;
use crate::quant::model::QuantizedModel;

/// Lowers the CNN of `graph`, if it has a `Conv`; `Ok(None)` for other graphs.
///
/// # Errors
/// [`ModelError::Unsupported`] naming the op for what the lowering cannot express, shape errors,
/// and errors of the float model on calibration samples.
pub(crate) fn lower_graph(
    graph: &Graph,
    calibration: Option<&[Vec<f32>]>,
) -> Result<Option<(QuantizedModel, Option<FidelityReport>)>> {
    if !graph.nodes.iter().any(|n| matches!(n.op, Op::Conv { .. })) {
        return Ok(None);
    }
    if graph.binary_head {
        return Err(ModelError::Unsupported {
            op: "Sigmoid".into(),
            node: "(binary head)".into(),
            reason: "a convolutional network with a binary sigmoid head (end it in two logits)"
                .into(),
        });
    }
    // A plain chain becomes patch layers (kernels stored once) when the stencil path cannot
    // serve it: an image side that is not a power of two, or a Toeplitz matrix too large. With
    // power-of-two sides the stencil layers are cheaper (no spare box cells), so they go first.
    let stages = if pow2_images(graph) {
        match float_stages(graph) {
            Ok(stages) => stages,
            Err(e) => patches::patch_stages(graph)?.ok_or(e)?,
        }
    } else {
        match patches::patch_stages(graph)? {
            Some(stages) => stages,
            None => float_stages(graph)?,
        }
    };
    let samples = calibration.filter(|c| !c.is_empty());
    let (model, activations) = quantize(graph, &stages, samples)?;
    let report = samples
        .map(|s| fidelity(graph, &model, s))
        .transpose()?
        .map(|r| FidelityReport { activations, ..r });
    Ok(Some((model, report)))
}

/// True if the input image's sides are powers of two (the stencil layers' requirement; later
/// images of a pooled chain halve them).
fn pow2_images(graph: &Graph) -> bool {
    matches!(graph.input_shape.as_slice(), [1, _, h, w] if h.is_power_of_two() && w.is_power_of_two())
}
