//! A quantized model compiled to the AIR's layout, with its digest.

use std::sync::Arc;

use glassbox_air::{
    ActivationTable, DescriptorError, Felt, LayerDescriptor, Layout, ModelDescriptor, ModelDigest,
    WeightCommitment, RANGE_TABLE_SIZE,
};
use glassbox_model::QuantizedModel;

use crate::error::CompileError;
use crate::extension::WeightExtension;
use crate::weights::{
    commit, on_stencil, sketch, static_columns, stencil_shape, weight_columns, StaticColumns,
};

/// A compiled model: descriptor, weights and the commitment to both.
#[derive(Clone, Debug)]
pub struct Program {
    /// The public description (shapes, biases, multipliers, trace length).
    pub descriptor: ModelDescriptor,
    /// Per layer, row-major `[n_out][n_in]` int8 weights.
    pub weights: Vec<Vec<i8>>,
    digest: ModelDigest,
    /// The weight sketches the digest carries.
    pub(crate) sketch: [Felt; glassbox_air::commitment::SKETCHES],
    /// The weight and sketch columns, which depend on the weights only: computed once here and
    /// copied into every trace.
    pub(crate) static_columns: Arc<StaticColumns>,
    /// The Merkle commitment to the weight columns, opened by every proof.
    pub(crate) commitment: Arc<WeightCommitment>,
    /// The extension of the weight columns the commitment hashes, which the prover reuses.
    pub(crate) extension: Option<Arc<WeightExtension>>,
}

impl PartialEq for Program {
    fn eq(&self, other: &Self) -> bool {
        // the commitment is a function of the weights and the descriptor
        self.descriptor == other.descriptor
            && self.weights == other.weights
            && self.digest == other.digest
    }
}

impl Program {
    /// Compiles `model`, choosing the trace length (and, for convolutions, stencil or dense
    /// storage). With [`QuantizedModel::proof_batch`] `= Some(k)`, the layout that holds `k`
    /// samples per proof with the fewest committed cells; without, the one that minimises the
    /// committed cells of a single-inference proof among those that fit
    /// [`DEFAULT_PROOF_BATCH`] samples per proof within [`ROOMY_PEAK_BYTES`] of estimated
    /// proving memory (or, failing that, any sample: larger batches are then proven as bundles).
    ///
    /// # Errors
    /// Inconsistent weight arrays, no layout fits, or none holds `proof_batch` samples.
    pub fn compile(model: &QuantizedModel) -> Result<Self, CompileError> {
        let layers: Vec<LayerDescriptor> = model
            .layers
            .iter()
            .map(|l| LayerDescriptor {
                n_in: l.n_in,
                n_out: l.n_out,
                multiplier: l.multiplier,
                bias: l.bias.clone(),
                groups: l.groups,
                conv: None,
                patch: l.patch.as_ref().and_then(|g| g.shape()),
                table: l.table.clone().and_then(ActivationTable::new),
            })
            .collect();
        for (l, layer) in model.layers.iter().enumerate() {
            if layer.table.is_some() && layers[l].table.is_none() {
                return Err(CompileError::Table { layer: l });
            }
            if layer.patch.is_some() && layers[l].patch.is_none() {
                return Err(CompileError::PatchOrder { layer: l });
            }
            let expected = weight_count(&layers[l]);
            if layer.weights.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: layer.weights.len(),
                });
            }
        }
        // convolutions stored as stencils where the AIR can, or every layer dense: whichever
        // layout is cheaper
        let stencil: Vec<LayerDescriptor> = layers
            .iter()
            .zip(&model.layers)
            .map(|(d, q)| LayerDescriptor {
                conv: stencil_shape(q),
                ..d.clone()
            })
            .collect();
        let mut variants = vec![layers];
        if stencil != variants[0] {
            variants.push(stencil);
        }
        let mut candidates = Vec::new();
        for layers in variants {
            let mut n = RANGE_TABLE_SIZE;
            while n <= MAX_COMPILE_TRACE_LEN {
                candidates.push(ModelDescriptor {
                    trace_len: n,
                    layers: layers.clone(),
                    input_scale: model.input_scale,
                    output_scale: model.output_scale,
                    input_encoding: model.input_encoding.clone(),
                });
                n *= 2;
            }
        }
        // the batch whose proof cost is minimised: the one asked for, or a single inference
        let batch = model.proof_batch.map_or(1, |k| k as usize);
        let mut best: Option<(bool, usize, &ModelDescriptor)> = None;
        let mut last_err = None;
        for d in &candidates {
            match Layout::new(d, batch) {
                Ok(layout) => {
                    let cost = committed_cells(&layout);
                    let roomy = model.proof_batch.is_some() || roomy(d);
                    let better = match &best {
                        None => true,
                        Some((r, c, _)) => (roomy && !r) || (roomy == *r && cost < *c),
                    };
                    if better {
                        best = Some((roomy, cost, d));
                    }
                }
                Err(e) => last_err = Some(e),
            }
        }
        let descriptor = match (best, model.proof_batch) {
            (Some((_, _, d)), _) => d.clone(),
            (None, Some(k)) => {
                let max = candidates.iter().map(Layout::max_batch).max().unwrap_or(0);
                if max == 0 {
                    return Err(no_layout(last_err));
                }
                return Err(CompileError::ProofBatch {
                    wanted: k as usize,
                    max,
                });
            }
            (None, None) => return Err(no_layout(last_err)),
        };
        let weights = model.layers.iter().map(|l| l.weights.clone()).collect();
        Self::with_descriptor(descriptor, weights)
    }

    /// Builds a program for an explicit descriptor (used by tests and by tools that fix the
    /// trace length).
    ///
    /// # Errors
    /// The descriptor does not validate or the weights do not match it.
    pub fn with_descriptor(
        descriptor: ModelDescriptor,
        weights: Vec<Vec<i8>>,
    ) -> Result<Self, CompileError> {
        let layout = Layout::new(&descriptor, 1)?;
        for (l, (layer, w)) in descriptor.layers.iter().zip(&weights).enumerate() {
            let expected = weight_count(layer);
            if w.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: w.len(),
                });
            }
            if let Some(shape) = &layer.conv {
                if !on_stencil(shape, layer.n_in, w) {
                    return Err(CompileError::OffStencil { layer: l });
                }
            }
        }
        let mut static_columns = static_columns(&layout, &weight_columns(&weights, &layout));
        let (commitment, extension) = commit(&static_columns.columns)?;
        let root = commitment.root();
        let (sketch_cols, sketch) = sketch(&descriptor, &root, &static_columns.columns);
        // the sketch columns follow the weight columns
        static_columns.columns.extend(sketch_cols);
        Ok(Self {
            digest: ModelDigest::compute(&descriptor, &root, &sketch),
            descriptor,
            weights,
            sketch,
            static_columns: Arc::new(static_columns),
            commitment: Arc::new(commitment),
            extension: extension.map(Arc::new),
        })
    }

    /// The 32-byte commitment to this program.
    pub fn digest(&self) -> ModelDigest {
        self.digest
    }

    /// Largest batch one proof holds.
    pub fn max_batch(&self) -> usize {
        Layout::max_batch(&self.descriptor)
    }

    /// Estimated peak memory of proving `batch` samples in one proof, in bytes: about 150 bytes
    /// per committed base-field cell (main, auxiliary counted twice, and the composition
    /// polynomial), measured with winterfell 0.13 at blowup 8 (an overestimate since the weight
    /// sponges left the trace, which keeps `--max-memory` on the safe side).
    ///
    /// # Errors
    /// The batch does not fit one proof.
    pub fn estimated_peak_bytes(&self, batch: usize) -> Result<u64, CompileError> {
        let layout = self.layout(batch)?;
        Ok(committed_cells(&layout) as u64 * BYTES_PER_CELL + BASE_BYTES)
    }

    /// The largest batch per proof whose estimated peak memory stays within `limit` bytes
    /// (0 if not even one sample fits).
    pub fn max_batch_within(&self, limit: u64) -> usize {
        let mut best = 0;
        let mut batch = 1;
        while let Ok(bytes) = self.estimated_peak_bytes(batch) {
            if bytes > limit {
                break;
            }
            best = self
                .layout(batch)
                .map(|l| l.batch_capacity)
                .unwrap_or(batch);
            batch = best + 1;
        }
        best
    }

    /// The layout for `batch` samples.
    ///
    /// # Errors
    /// The batch is empty or too large for one proof.
    pub fn layout(&self, batch: usize) -> Result<Layout, CompileError> {
        if batch == 0 {
            return Err(CompileError::BatchSize {
                max: self.max_batch(),
                got: 0,
            });
        }
        Layout::new(&self.descriptor, batch).map_err(|_| CompileError::BatchSize {
            max: self.max_batch(),
            got: batch,
        })
    }

    /// The weight columns of `layout` (one `Vec` of `N` cells per weight column, in layout order).
    pub fn weight_columns(&self, layout: &Layout) -> Vec<Vec<i8>> {
        weight_columns(&self.weights, layout)
    }
}

/// The error of a model no candidate layout holds: the last layout error (every trace length
/// compile considers was tried, so there is one).
fn no_layout(last: Option<DescriptorError>) -> CompileError {
    last.map_or(
        CompileError::BatchSize { max: 0, got: 1 },
        CompileError::Layout,
    )
}

/// Base-field cells a proof of `layout` commits: the main trace, the auxiliary segment (extension
/// field, two cells per value) and the composition polynomial's columns (about 14). `compile`
/// minimises it and the memory estimate scales it.
fn committed_cells(layout: &Layout) -> usize {
    layout.trace_len * (layout.main_width + 2 * layout.aux.width + 14)
}

/// Peak bytes per committed cell (see [`Program::estimated_peak_bytes`]).
const BYTES_PER_CELL: u64 = 150;
/// Fixed overhead of a proving process (binary, model, allocator).
const BASE_BYTES: u64 = 16 << 20;

/// Samples per proof a default compile leaves room for (see [`Program::compile`]).
pub const DEFAULT_PROOF_BATCH: usize = 64;

/// The estimated proving memory within which a default compile leaves room for
/// [`DEFAULT_PROOF_BATCH`] samples per proof (2 GiB): beyond it, a larger trace would slow every
/// single inference for a proof few machines hold, and a bundle of smaller proofs serves big
/// batches.
pub const ROOMY_PEAK_BYTES: u64 = 2 << 30;

/// True if a proof of [`DEFAULT_PROOF_BATCH`] samples fits `d`'s layout within
/// [`ROOMY_PEAK_BYTES`] of estimated memory.
fn roomy(d: &ModelDescriptor) -> bool {
    Layout::new(d, DEFAULT_PROOF_BATCH).is_ok_and(|layout| {
        committed_cells(&layout) as u64 * BYTES_PER_CELL + BASE_BYTES <= ROOMY_PEAK_BYTES
    })
}

/// Longest trace `compile` considers (2^18 rows: about 4.7 GB of proving memory at 128 columns).
const MAX_COMPILE_TRACE_LEN: usize = 1 << 18;

/// The weights a layer holds: its kernel rows (`O·n_in`) for a patch layer, else `n_out` rows of
/// its group's inputs.
fn weight_count(layer: &LayerDescriptor) -> usize {
    match &layer.patch {
        Some(shape) => shape.out_channels * layer.n_in,
        None => layer.n_out * (layer.n_in / layer.groups.max(1)),
    }
}
