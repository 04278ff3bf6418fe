//! A quantized model compiled to the AIR's layout, with its digest.

use glassbox_air::hash::{self, State, RATE_START};
use glassbox_air::{Felt, LayerDescriptor, Layout, ModelDescriptor, ModelDigest, RANGE_TABLE_SIZE};
use glassbox_model::QuantizedModel;
use winter_math::FieldElement;

/// Why a model cannot be compiled or a batch cannot be executed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CompileError {
    /// The model does not fit any supported trace layout.
    #[error("the model does not fit a provable layout: {0}")]
    Layout(String),
    /// A weight or bias array has the wrong size.
    #[error("layer {layer} has {got} weights; expected {expected}")]
    WeightCount {
        /// Layer index.
        layer: usize,
        /// `n_out · n_in / groups`.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// An input sample has the wrong length.
    #[error("sample {sample} has {got} values; the model takes {expected}")]
    InputLength {
        /// Sample index.
        sample: usize,
        /// Model input length.
        expected: usize,
        /// Found.
        got: usize,
    },
    /// A quantized input is outside int8.
    #[error("sample {sample} has quantized value {value} outside -128..=127")]
    InputRange {
        /// Sample index.
        sample: usize,
        /// The value.
        value: i64,
    },
    /// An activation leaves the range the proof can represent.
    #[error("sample {sample}: activation {index} of layer {layer} overflows the provable range")]
    ActivationOverflow {
        /// Sample index.
        sample: usize,
        /// Layer index.
        layer: usize,
        /// Output index.
        index: usize,
    },
    /// The batch is empty or larger than one proof holds.
    #[error("a proof holds 1..={max} samples of this model; got {got}")]
    BatchSize {
        /// Largest batch.
        max: usize,
        /// Requested.
        got: usize,
    },
}

/// A compiled model: descriptor, weights and the commitment to both.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The public description (shapes, biases, multipliers, trace length).
    pub descriptor: ModelDescriptor,
    /// Per layer, row-major `[n_out][n_in]` int8 weights.
    pub weights: Vec<Vec<i8>>,
    /// Final state of each weight sponge (see [`glassbox_air::PublicInputs::hash_states`]).
    pub hash_states: Vec<[Felt; hash::STATE_WIDTH]>,
    digest: ModelDigest,
    /// The weight and sponge columns, which depend on the weights only: computed once here and
    /// copied into every trace.
    pub(crate) static_columns: std::sync::Arc<StaticColumns>,
}

/// Main-trace columns that do not depend on the inputs (weights and their sponges), starting at
/// the first weight column.
#[derive(Clone, PartialEq)]
pub(crate) struct StaticColumns {
    /// Index of the first column.
    pub(crate) start: usize,
    /// The columns.
    pub(crate) columns: Vec<Vec<Felt>>,
}

impl std::fmt::Debug for StaticColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StaticColumns({} columns from {})",
            self.columns.len(),
            self.start
        )
    }
}

impl Program {
    /// Compiles `model`, choosing the trace length that minimises the committed cells of a
    /// single-inference proof among those that fit at least 64 samples per proof (or, failing
    /// that, any sample).
    ///
    /// # Errors
    /// Inconsistent weight arrays, or no layout fits.
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
            })
            .collect();
        for (l, layer) in model.layers.iter().enumerate() {
            let expected = layer.n_out * (layer.n_in / layer.groups.max(1));
            if layer.weights.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: layer.weights.len(),
                });
            }
        }
        let base = ModelDescriptor {
            trace_len: RANGE_TABLE_SIZE,
            layers,
            input_scale: model.input_scale,
            output_scale: model.output_scale,
        };
        let mut best: Option<(bool, usize, usize)> = None;
        let mut n = RANGE_TABLE_SIZE;
        let mut last_err = String::from("no trace length tried");
        while n <= MAX_COMPILE_TRACE_LEN {
            let d = ModelDescriptor {
                trace_len: n,
                ..base.clone()
            };
            match Layout::new(&d, 1) {
                Ok(layout) => {
                    let cost = n * (layout.main_width + 2 * layout.aux.width + 14);
                    let roomy = Layout::new(&d, 64).is_ok();
                    let better = match best {
                        None => true,
                        Some((r, c, _)) => (roomy && !r) || (roomy == r && cost < c),
                    };
                    if better {
                        best = Some((roomy, cost, n));
                    }
                }
                Err(e) => last_err = e.to_string(),
            }
            n *= 2;
        }
        let (_, _, trace_len) = best.ok_or(CompileError::Layout(last_err))?;
        let descriptor = ModelDescriptor { trace_len, ..base };
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
        let layout =
            Layout::new(&descriptor, 1).map_err(|e| CompileError::Layout(e.to_string()))?;
        for (l, (layer, w)) in descriptor.layers.iter().zip(&weights).enumerate() {
            let expected = layer.n_out * (layer.n_in / layer.groups);
            if w.len() != expected {
                return Err(CompileError::WeightCount {
                    layer: l,
                    expected,
                    got: w.len(),
                });
            }
        }
        let mut program = Self {
            descriptor,
            weights,
            hash_states: Vec::new(),
            digest: ModelDigest([0; 32]),
            static_columns: std::sync::Arc::new(StaticColumns {
                start: 0,
                columns: Vec::new(),
            }),
        };
        let columns = program.weight_columns(&layout);
        program.hash_states = sponge_states(&layout, &columns);
        program.digest = ModelDigest::compute(&program.descriptor, &program.hash_states);
        program.static_columns =
            std::sync::Arc::new(crate::trace::static_columns(&layout, &columns));
        Ok(program)
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
    /// per committed base-field cell (main, auxiliary counted twice, and the degree-8
    /// composition polynomial), measured with winterfell 0.13 at blowup 8.
    ///
    /// # Errors
    /// The batch does not fit one proof.
    pub fn estimated_peak_bytes(&self, batch: usize) -> Result<u64, CompileError> {
        let layout = self.layout(batch)?;
        let cells = layout.trace_len * (layout.main_width + 2 * layout.aux.width + 14);
        Ok(cells as u64 * BYTES_PER_CELL + BASE_BYTES)
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
        let n = layout.trace_len;
        let mut cols = Vec::new();
        for (l, lay) in layout.layers.iter().enumerate() {
            let w = &self.weights[l];
            for t in 0..lay.k {
                let mut col = vec![0i8; n];
                for (row, cell) in col.iter_mut().enumerate() {
                    let (j, p) = (row / lay.block_len, row % lay.block_len);
                    // block j holds input j's weights to the outputs of its group
                    let local = lay.k * lay.block_len - 1 - (p * lay.k + t);
                    if local < lay.group_out && j < lay.n_in {
                        let (g, jj) = (j / lay.group_in, j % lay.group_in);
                        let i = g * lay.group_out + local;
                        *cell = w[i * lay.group_in + jj];
                    }
                }
                cols.push(col);
            }
        }
        cols
    }
}

/// Peak bytes per committed cell (see [`Program::estimated_peak_bytes`]).
const BYTES_PER_CELL: u64 = 150;
/// Fixed overhead of a proving process (binary, model, allocator).
const BASE_BYTES: u64 = 16 << 20;

/// Longest trace `compile` considers (2^18 rows: about 4.7 GB of proving memory at 128 columns).
const MAX_COMPILE_TRACE_LEN: usize = 1 << 18;

/// Runs every sponge over its packed weight stream; returns each one's state right after its last
/// block (see [`glassbox_air::hash`]).
fn sponge_states(layout: &Layout, columns: &[Vec<i8>]) -> Vec<State> {
    let n = layout.trace_len;
    let weight_cols = layout.weight_cols();
    layout
        .sponges
        .iter()
        .map(|sponge| {
            let idx: Vec<usize> = sponge
                .digits
                .iter()
                .map(|c| weight_cols.iter().position(|w| w == c).unwrap_or(0))
                .collect();
            let stream: Vec<Felt> = (0..n)
                .map(|r| hash::pack_weights(idx.iter().map(|&i| i64::from(columns[i][r]))))
                .collect();
            let mut s = [Felt::ZERO; hash::STATE_WIDTH];
            s[0] = Felt::new(layout.hashed_len() as u64);
            for (b, block) in stream.chunks(hash::RATE_WIDTH).enumerate() {
                if b > 0 {
                    winter_crypto::hashers::Rp64_256::apply_permutation(&mut s);
                }
                for (k, &e) in block.iter().enumerate() {
                    s[RATE_START + k] += e;
                }
            }
            s
        })
        .collect()
}
