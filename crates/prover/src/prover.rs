//! The winterfell `Prover` for [`InferenceAir`].

use glassbox_air::commitment::CommitmentError;
use glassbox_air::{
    Felt, InferenceAir, Layout, ProofEnvelope, PublicInputs, QueryError, SecurityLevel,
};
use glassbox_trace::{CompileError, Program, Trace as MainTrace, WeightExtension};

use crate::lde::SegmentedTraceLde;
use winterfell::crypto::{hashers::Blake3_256, DefaultRandomCoin, MerkleTree};
use winterfell::math::FieldElement;
use winterfell::matrix::ColMatrix;
use winterfell::{
    Air, AuxRandElements, CompositionPoly, CompositionPolyTrace, ConstraintCompositionCoefficients,
    DefaultConstraintCommitment, DefaultConstraintEvaluator, EvaluationFrame, PartitionOptions,
    ProofOptions, Prover, StarkDomain, Trace, TraceInfo, TracePolyTable,
};

/// Why proving failed.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The batch could not be executed or laid out.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// winterfell refused to prove (an honest trace never causes this).
    #[error("the prover failed: {0}")]
    Prover(#[from] winterfell::ProverError),
    /// The proof's query positions could not be recomputed to open the weight commitment (an
    /// honest proof never causes this).
    #[error("the proof's query positions cannot be recomputed: {0}")]
    QueryPositions(QueryError),
    /// The weight commitment could not be opened at the proof's query positions (an honest
    /// trace never causes this).
    #[error("opening the weight commitment failed: {0:?}")]
    Opening(CommitmentError),
}

/// A laid-out main trace in winterfell's form.
pub struct ProverTrace {
    info: TraceInfo,
    main: ColMatrix<Felt>,
    layout: Layout,
    public: PublicInputs,
}

impl ProverTrace {
    fn new(trace: MainTrace) -> Self {
        Self {
            info: glassbox_air::trace_info(&trace.layout),
            main: ColMatrix::new(trace.columns),
            layout: trace.layout,
            public: trace.public,
        }
    }
}

impl Trace for ProverTrace {
    type BaseField = Felt;

    fn info(&self) -> &TraceInfo {
        &self.info
    }

    fn main_segment(&self) -> &ColMatrix<Felt> {
        &self.main
    }

    fn read_main_frame(&self, row_idx: usize, frame: &mut EvaluationFrame<Felt>) {
        let next = (row_idx + 1) % self.info.length();
        self.main.read_row_into(row_idx, frame.current_mut());
        self.main.read_row_into(next, frame.next_mut());
    }
}

struct InferenceProver {
    options: ProofOptions,
    aux_tamper: Option<AuxTamper>,
    /// The program's weight columns and their extension, reused where the trace still holds
    /// them.
    weights: Option<(std::ops::Range<usize>, std::sync::Arc<WeightExtension>)>,
}

/// An adversarial edit of one auxiliary cell after honest construction, for soundness tests:
/// a prover may put anything in the auxiliary segment, and the verifier must still reject.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct AuxTamper {
    /// Auxiliary column.
    pub column: usize,
    /// Row.
    pub row: usize,
    /// Overwrite with zero (`true`) or add one (`false`).
    pub zero: bool,
}

impl Prover for InferenceProver {
    type BaseField = Felt;
    type Air = InferenceAir;
    type Trace = ProverTrace;
    type HashFn = Blake3_256<Felt>;
    type VC = MerkleTree<Self::HashFn>;
    type RandomCoin = DefaultRandomCoin<Self::HashFn>;
    type TraceLde<E: FieldElement<BaseField = Felt>> = SegmentedTraceLde<E, Self::HashFn, Self::VC>;
    type ConstraintCommitment<E: FieldElement<BaseField = Felt>> =
        DefaultConstraintCommitment<E, Self::HashFn, Self::VC>;
    type ConstraintEvaluator<'a, E: FieldElement<BaseField = Felt>> =
        DefaultConstraintEvaluator<'a, InferenceAir, E>;

    fn get_pub_inputs(&self, trace: &ProverTrace) -> PublicInputs {
        trace.public.clone()
    }

    fn options(&self) -> &ProofOptions {
        &self.options
    }

    fn new_trace_lde<E: FieldElement<BaseField = Felt>>(
        &self,
        trace_info: &TraceInfo,
        main_trace: &ColMatrix<Felt>,
        domain: &StarkDomain<Felt>,
        partition_option: PartitionOptions,
    ) -> (Self::TraceLde<E>, TracePolyTable<E>) {
        SegmentedTraceLde::new(
            trace_info,
            main_trace,
            domain,
            partition_option,
            self.weights.clone(),
        )
    }

    fn new_evaluator<'a, E: FieldElement<BaseField = Felt>>(
        &self,
        air: &'a InferenceAir,
        aux_rand_elements: Option<AuxRandElements<E>>,
        composition_coefficients: ConstraintCompositionCoefficients<E>,
    ) -> Self::ConstraintEvaluator<'a, E> {
        DefaultConstraintEvaluator::new(air, aux_rand_elements, composition_coefficients)
    }

    fn build_constraint_commitment<E: FieldElement<BaseField = Felt>>(
        &self,
        composition_poly_trace: CompositionPolyTrace<E>,
        num_constraint_composition_columns: usize,
        domain: &StarkDomain<Felt>,
        partition_options: PartitionOptions,
    ) -> (Self::ConstraintCommitment<E>, CompositionPoly<E>) {
        DefaultConstraintCommitment::new(
            composition_poly_trace,
            num_constraint_composition_columns,
            domain,
            partition_options,
        )
    }

    fn build_aux_trace<E: FieldElement<BaseField = Felt>>(
        &self,
        trace: &ProverTrace,
        rand: &AuxRandElements<E>,
    ) -> ColMatrix<E> {
        let mut cols = crate::aux::build(&trace.layout, &trace.main, rand.rand_elements());
        if let Some(t) = self.aux_tamper {
            if let Some(cell) = cols.get_mut(t.column).and_then(|c| c.get_mut(t.row)) {
                *cell = if t.zero { E::ZERO } else { *cell + E::ONE };
            }
        }
        ColMatrix::new(cols)
    }
}

/// Proves a laid-out trace (the public inputs inside it are the statement).
///
/// # Errors
/// [`ProveError::Prover`] if winterfell fails.
pub fn prove_trace(trace: MainTrace, level: SecurityLevel) -> Result<ProofEnvelope, ProveError> {
    prove_trace_tampered(trace, level, None)
}

/// [`prove_trace`] with an optional adversarial edit of the auxiliary segment (soundness tests).
#[doc(hidden)]
pub fn prove_trace_tampered(
    trace: MainTrace,
    level: SecurityLevel,
    aux_tamper: Option<AuxTamper>,
) -> Result<ProofEnvelope, ProveError> {
    let public = trace.public.clone();
    let commitment = std::sync::Arc::clone(&trace.commitment);
    let prover = InferenceProver {
        options: level.options(),
        aux_tamper,
        weights: trace
            .weight_extension
            .clone()
            .map(|e| (trace.layout.weight_range(), e)),
    };
    let proof = prover.prove(ProverTrace::new(trace))?;
    // open the weight rows winterfell opened in the main trace
    let air = InferenceAir::new(
        proof.trace_info().clone(),
        public.clone(),
        proof.options().clone(),
    );
    let positions =
        glassbox_air::query_positions(&proof, &air).map_err(ProveError::QueryPositions)?;
    let weight_opening = commitment.open(&positions).map_err(ProveError::Opening)?;
    Ok(ProofEnvelope {
        public,
        security: level,
        proof: proof.to_bytes(),
        weight_opening,
    })
}

/// Proves that `program` maps each of `inputs` (int8 vectors) to its outputs, in one proof.
///
/// # Errors
/// The batch does not fit one proof, an input is malformed, or an activation overflows.
pub fn prove(
    program: &Program,
    inputs: &[Vec<i64>],
    level: SecurityLevel,
) -> Result<ProofEnvelope, ProveError> {
    prove_trace(program.trace(inputs)?, level)
}
