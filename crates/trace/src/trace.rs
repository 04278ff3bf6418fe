//! Main-trace generation: the recorded execution laid out as [`Layout`] says.

use std::sync::Arc;

use glassbox_air::{
    felt_from_i64 as descriptor_felt, felt_to_i64, lookup_value, ActivationCells, BundlePosition,
    Felt, Layout, LookupValue, PublicInputs, RegionKind, WeightCommitment, ACT_CELLS,
    RANGE_TABLE_SIZE,
};
use winter_math::FieldElement;

use crate::error::CompileError;
use crate::exec::BatchExecution;
use crate::extension::WeightExtension;
use crate::program::Program;
use crate::weights::{commit, sketch};

/// A generated main trace with the public inputs it proves.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Column layout.
    pub layout: Layout,
    /// Main-trace columns (`layout.main_width` columns of `layout.trace_len` rows).
    pub columns: Vec<Vec<Felt>>,
    /// The statement.
    pub public: PublicInputs,
    /// The commitment to the weight columns, which the proof opens.
    pub commitment: Arc<WeightCommitment>,
    /// The extension of the weight columns [`Trace::commitment`] was built from, for the prover
    /// to reuse while the trace's weight columns are still those (see
    /// [`WeightExtension::extends`]).
    pub weight_extension: Option<Arc<WeightExtension>>,
}

impl Program {
    /// Executes `inputs` (int8 vectors, one per sample) and generates the main trace of a proof
    /// that is a whole bundle of one chunk: exactly these inputs
    /// ([`BundlePosition::single`]).
    ///
    /// # Errors
    /// See [`Program::execute`] and [`Program::layout`].
    pub fn trace(&self, inputs: &[Vec<i64>]) -> Result<Trace, CompileError> {
        self.trace_chunk(inputs, BundlePosition::single(inputs))
    }

    /// Executes `inputs`, one chunk of a bundle, and generates the main trace of the proof that
    /// states `position` (see [`glassbox_air::bundle`]; [`BundlePosition::check`] is left to the
    /// verifier, so tests can state inconsistent positions).
    ///
    /// # Errors
    /// See [`Program::execute`] and [`Program::layout`].
    pub fn trace_chunk(
        &self,
        inputs: &[Vec<i64>],
        position: BundlePosition,
    ) -> Result<Trace, CompileError> {
        let layout = self.layout(inputs.len())?;
        let exec = self.execute(inputs, layout.batch_capacity)?;
        let mut trace = self.trace_from_execution(layout, &exec);
        trace.public.bundle = position;
        Ok(trace)
    }

    /// Lays out a recorded execution (its lane count must equal the layout's batch capacity),
    /// as a one-chunk bundle of its samples.
    pub fn trace_from_execution(&self, layout: Layout, exec: &BatchExecution) -> Trace {
        let n = layout.trace_len;
        let mut columns = vec![vec![Felt::ZERO; n]; layout.main_width];

        // weights: the same for every batch, computed once at compile time
        let cached = &self.static_columns;
        for (k, col) in cached.columns.iter().enumerate() {
            columns[cached.start + k].clone_from(col);
        }

        // regions; lanes beyond the capacity are dead (outside every product check) and hold
        // zero: a zero input, or the requantization witness of a zero accumulator
        let live = layout.batch_capacity;
        for region in &layout.regions {
            let cap = region.lanes();
            for row in 0..n {
                let (j, p) = (row / region.block_len, row % region.block_len);
                for t in 0..region.lanes_per_row {
                    let b = cap - 1 - (p * region.lanes_per_row + t);
                    let base = region.lane_col(t);
                    match region.kind {
                        RegionKind::Input => {
                            let v = exec
                                .inputs
                                .get(b)
                                .and_then(|x| x.get(j))
                                .copied()
                                .unwrap_or(0);
                            columns[base][row] = descriptor_felt(v);
                        }
                        RegionKind::Activation { layer, window, .. } => {
                            // a window's activations (one unless the layer is pooled) and
                            // their maximum
                            let mut max = 0;
                            let mut x = 0;
                            for k in 0..window {
                                let cells = if b >= live {
                                    ActivationCells::zero()
                                } else {
                                    let q = exec.hidden[layer][b][j * window + k];
                                    x = q.x;
                                    ActivationCells::witness(q.t, q.remainder)
                                };
                                max = max.max(cells.x);
                                for (col, v) in region.window_activation(t, k).zip(cells) {
                                    columns[col][row] = descriptor_felt(v);
                                }
                            }
                            if let Some(col) = region.window_max(t) {
                                columns[col][row] = descriptor_felt(max);
                            }
                            if let Some(col) = region.table_output(t) {
                                let table = self.descriptor.layers[layer].table.as_ref();
                                let y = table.map_or(0, |tb| tb.get(x));
                                columns[col][row] = descriptor_felt(y);
                            }
                        }
                    }
                }
            }
        }

        let public = PublicInputs {
            descriptor: self.descriptor.clone(),
            inputs: exec.inputs[..exec.batch].to_vec(),
            outputs: exec.outputs[..exec.batch].to_vec(),
            padding_outputs: self.padding_outputs(&layout, exec),
            weight_root: self.commitment.root(),
            weight_sketch: self.sketch,
            bundle: BundlePosition::single(&exec.inputs[..exec.batch]),
        };
        let mut trace = Trace {
            layout,
            columns,
            public,
            commitment: Arc::clone(&self.commitment),
            weight_extension: self.extension.clone(),
        };
        trace.recount_lookups();
        trace
    }
}

impl Trace {
    /// Fills the range-table column (value `i` on rows `i·N/256 ..`) and each activation
    /// table's value column, and recounts every looked-up value into the multiplicity columns
    /// (values outside a table, or pairs that are not a table's entry, are not counted, so they
    /// cannot balance).
    pub fn recount_lookups(&mut self) {
        let layout = &self.layout;
        let columns = &mut self.columns;
        let n = layout.trace_len;
        let tables = self.public.descriptor.tables();
        // count with the AIR's own definition of each looked-up value, so the multiplicities
        // balance exactly what the constraints check
        let mut counts = vec![0u64; RANGE_TABLE_SIZE];
        let mut table_counts = vec![vec![0u64; RANGE_TABLE_SIZE]; tables.len()];
        let mut cells = vec![Felt::ZERO; layout.main_width];
        for row in 0..n {
            for (cell, col) in cells.iter_mut().zip(columns.iter()) {
                *cell = col[row];
            }
            for v in layout.lookup_groups.iter().flatten() {
                let x = felt_to_i64(lookup_value(&cells, v));
                let Ok(i) = usize::try_from(x) else { continue };
                let slot = match *v {
                    LookupValue::Tabled { base, table } => {
                        let y = felt_to_i64(cells[base + ACT_CELLS]);
                        let entry = tables.get(table).map(|t| t.get(x));
                        if i >= RANGE_TABLE_SIZE || entry != Some(y) {
                            continue;
                        }
                        table_counts.get_mut(table).and_then(|c| c.get_mut(i))
                    }
                    _ => counts.get_mut(i),
                };
                if let Some(slot) = slot {
                    *slot += 1;
                }
            }
        }
        let stride = layout.table_stride();
        for row in 0..n {
            let i = (row / stride).min(RANGE_TABLE_SIZE - 1);
            // each entry's multiplicity sits on the first row of its run
            let at = |c: &[u64]| Felt::new(if row % stride == 0 { c[i] } else { 0 });
            columns[layout.table][row] = Felt::new(i as u64);
            columns[layout.multiplicity][row] = at(&counts);
            for ((cols, table), c) in layout.tables.iter().zip(&tables).zip(&table_counts) {
                columns[cols.values][row] = descriptor_felt(table.values()[i]);
                columns[cols.multiplicity][row] = at(c);
            }
        }
    }

    /// Recommits the current weight columns and updates the public weight root to match (what a
    /// prover claiming a *different* model does).
    ///
    /// # Panics
    /// Never for a trace built by [`Program::trace`] (its trace length is a power of two).
    pub fn recommit(&mut self) {
        let columns = &self.columns[self.layout.weight_range()];
        #[allow(clippy::expect_used)]
        let (commitment, extension) = commit(columns).expect("a trace commits like its program");
        self.public.weight_root = commitment.root();
        self.commitment = Arc::new(commitment);
        self.weight_extension = extension.map(Arc::new);
        self.resketch();
    }

    /// Recomputes the sketch columns and the public sketches from the current weight columns,
    /// under the current public weight root.
    pub fn resketch(&mut self) {
        let layout = &self.layout;
        let columns = &self.columns[layout.weight_range()];
        let (sketch_cols, values) =
            sketch(&self.public.descriptor, &self.public.weight_root, columns);
        for (k, col) in sketch_cols.into_iter().enumerate() {
            self.columns[layout.sketch + k] = col;
        }
        self.public.weight_sketch = values;
    }
}

impl Program {
    /// Outputs of the all-zero input (what the unused batch lanes compute), or nothing when the
    /// batch fills every lane (then no lane would prove them).
    fn padding_outputs(&self, layout: &Layout, exec: &BatchExecution) -> Vec<i64> {
        if exec.batch >= layout.batch_capacity {
            return Vec::new();
        }
        if exec.outputs.len() > exec.batch {
            return exec.outputs.last().cloned().unwrap_or_default();
        }
        self.execute(&[], 1)
            .ok()
            .and_then(|e| e.outputs.into_iter().next())
            .unwrap_or_default()
    }
}
