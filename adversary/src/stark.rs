//! winterfell's proving protocol for glassbox's AIR, written out step by step with a hook at every
//! step a prover could lie in. The honest path follows `winter_prover::Prover::prove` exactly
//! (same transcript, same commitments, same proof layout), reusing winterfell's public trace
//! LDE, constraint evaluator and constraint commitment; the out-of-domain frame, the DEEP
//! composition, FRI, grinding and the openings are computed here.

use glassbox_air::{
    Challenges, Felt, InferenceAir, Proof, ProofContext, ProofEnvelope, PublicInputs,
    SecurityLevel, WeightCommitment,
};
use glassbox_trace::Trace as MainTrace;
use winter_air::proof::{merge_ood_evaluations, Commitments, OodFrame, QuotientOodFrame};
use winter_prover::ConstraintCommitment;
use winterfell::crypto::{ElementHasher, MerkleTree, RandomCoin};
use winterfell::math::fields::{CubeExtension, QuadExtension};
use winterfell::math::{FieldElement, ToElements};
use winterfell::matrix::ColMatrix;
use winterfell::{
    Air, ConstraintEvaluator, DefaultConstraintCommitment, DefaultConstraintEvaluator,
    DefaultTraceLde, EvaluationFrame, FieldExtension, PartitionOptions, StarkDomain, TraceInfo,
    TraceLde,
};

use crate::fri::{self, CommitForgery};
use crate::{ood, Coin, Forgery, Hash};

/// Proves `trace` at `level`, deviating from the protocol as `forgery` says. `other_tree` is the
/// commitment [`Forgery::WeightOpeningOtherTree`] opens instead of the trace's own.
pub fn prove(
    trace: &MainTrace,
    level: SecurityLevel,
    forgery: Forgery,
    other_tree: Option<&WeightCommitment>,
) -> ProofEnvelope {
    match level.options().field_extension() {
        FieldExtension::None => prove_in::<Felt>(trace, level, forgery, other_tree),
        FieldExtension::Quadratic => {
            prove_in::<QuadExtension<Felt>>(trace, level, forgery, other_tree)
        }
        FieldExtension::Cubic => prove_in::<CubeExtension<Felt>>(trace, level, forgery, other_tree),
    }
}

/// The statement the forged proof claims.
fn statement(trace: &MainTrace, forgery: Forgery) -> PublicInputs {
    let mut public = trace.public.clone();
    match forgery {
        Forgery::FalseInput => {
            public.inputs[0][0] = if public.inputs[0][0] == 5 { 6 } else { 5 };
            // a one-chunk bundle's id is the hash of its inputs: keep the statement well-formed
            if public.bundle.chunks == 1 {
                public.bundle.id = glassbox_air::bundle_id(public.inputs.iter().map(Vec::as_slice));
            }
        }
        f if f.claims_false_output() => public.outputs[0][0] += 1,
        _ => {}
    }
    public
}

fn prove_in<E: FieldElement<BaseField = Felt>>(
    trace: &MainTrace,
    level: SecurityLevel,
    forgery: Forgery,
    other_tree: Option<&WeightCommitment>,
) -> ProofEnvelope {
    let layout = &trace.layout;
    let options = level.options();
    let info = glassbox_air::trace_info(layout);
    let public = statement(trace, forgery);
    let air = InferenceAir::new(info.clone(), public.clone(), options.clone());
    let constraints = air.context().num_assertions() + air.context().num_transition_constraints();
    let context = ProofContext::new::<Felt>(info.clone(), options.clone(), constraints);
    let mut seed = context.to_elements();
    seed.extend(public.to_elements());
    let mut coin = Coin::new(&seed);

    // 1. main trace, auxiliary challenges, auxiliary trace
    let domain = StarkDomain::new(&air);
    let main = ColMatrix::new(trace.columns.clone());
    let (mut lde, mut polys) = DefaultTraceLde::<E, Hash, MerkleTree<Hash>>::new(
        &info,
        &main,
        &domain,
        PartitionOptions::default(),
    );
    let main_root = lde.get_main_trace_commitment();
    coin.reseed(main_root);
    let aux_rands = air
        .get_aux_rand_elements::<E, _>(&mut coin)
        .expect("the coin draws");
    let aux = glassbox_prover::aux_segment(layout, &main, aux_rands.rand_elements());
    let (aux_polys, aux_root) = lde.set_aux_trace(&ColMatrix::new(aux), &domain);
    polys.add_aux_segment(aux_polys);
    coin.reseed(aux_root);

    // 2. constraint composition
    let coeffs = air
        .get_constraint_composition_coefficients::<E, _>(&mut coin)
        .expect("the coin draws");
    let evaluations =
        DefaultConstraintEvaluator::new(&air, Some(aux_rands.clone()), coeffs.clone())
            .evaluate(&lde, &domain);
    let num_quotients = air.context().num_constraint_composition_columns();
    let (quotients, quotient_poly) = DefaultConstraintCommitment::<E, Hash, MerkleTree<Hash>>::new(
        evaluations,
        num_quotients,
        &domain,
        PartitionOptions::default(),
    );
    coin.reseed(quotients.commitment());
    let z: E = coin.draw().expect("the coin draws");

    // 3. out-of-domain frame: honest, or the first quotient value fitted to the constraint check
    let trace_ood = polys.get_ood_frame(z);
    let mut quotient_ood = quotient_poly.get_ood_frame(z);
    if forgery.fits_ood() {
        let target = ood::constraint_value(&air, &coeffs, &trace_ood, &aux_rands, z);
        let mut current = quotient_ood.current_row().to_vec();
        let n = air.trace_length() as u64;
        let rest = current
            .iter()
            .enumerate()
            .skip(1)
            .fold(E::ZERO, |acc, (i, &v)| {
                acc + z.exp((i as u64 * n).into()) * v
            });
        current[0] = target - rest;
        quotient_ood = QuotientOodFrame::new(current, quotient_ood.next_row().to_vec());
    }
    // what the proof sends: the same, or with the quotients' values at z·g off by one
    let sent_quotient_ood = if forgery == Forgery::DeepFromOtherOod {
        let mut next = quotient_ood.next_row().to_vec();
        next[0] += E::ONE;
        QuotientOodFrame::new(quotient_ood.current_row().to_vec(), next)
    } else {
        QuotientOodFrame::new(
            quotient_ood.current_row().to_vec(),
            quotient_ood.next_row().to_vec(),
        )
    };
    let mut ood_frame = OodFrame::default();
    ood_frame.set_trace_states(&trace_ood);
    ood_frame.set_quotient_states(&sent_quotient_ood);
    coin.reseed(Hash::hash_elements(&merge_ood_evaluations(
        &trace_ood,
        &sent_quotient_ood,
    )));

    // 4. DEEP composition over the LDE domain, and FRI's commit phase
    let deep_coeffs = air
        .get_deep_composition_coefficients::<E, _>(&mut coin)
        .expect("the coin draws");
    let quotient_lde = quotient_values(quotient_poly.data(), &domain);
    let deep = deep_values(
        &air,
        &lde,
        &quotient_lde,
        [trace_ood.current_row(), trace_ood.next_row()],
        [quotient_ood.current_row(), quotient_ood.next_row()],
        z,
        &deep_coeffs,
    );
    let lde_size = air.lde_domain_size();
    let fri_layers = options.to_fri_options().num_fri_layers(lde_size);
    let commit_forgery = match forgery {
        Forgery::LayerNotFolded => CommitForgery::NotFolded,
        Forgery::RemainderTooLong => CommitForgery::LongRemainder,
        _ => CommitForgery::None,
    };
    let committed = fri::commit(
        &mut coin,
        deep,
        fri_layers,
        domain.offset(),
        options.blowup_factor(),
        commit_forgery,
    );

    // 5. grinding and query positions
    let grinding = options.grinding_factor();
    let mut nonce = (0u64..)
        .find(|&n| coin.check_leading_zeros(n) >= grinding)
        .expect("a nonce exists");
    if forgery == Forgery::WeakNonce {
        nonce = (0u64..)
            .find(|&n| coin.check_leading_zeros(n) < grinding)
            .expect("a weak nonce exists");
    }
    let mut positions = coin
        .draw_integers(options.num_queries(), lde_size, nonce)
        .expect("the coin draws");
    positions.sort_unstable();
    positions.dedup();
    let shifted = {
        let mut other: Vec<usize> = positions.iter().map(|&p| (p + 1) % lde_size).collect();
        other.sort_unstable();
        other.dedup();
        other
    };
    let at = |f: Forgery| if forgery == f { &shifted } else { &positions };

    // 6. openings
    let remainder = if forgery == Forgery::RemainderFitted {
        let last = fri::final_positions(&positions, fri_layers, lde_size);
        fri::fitted_remainder(
            &committed.last,
            domain.offset(),
            &last,
            committed.remainder.len(),
        )
    } else {
        committed.remainder.clone()
    };
    let fri_proof = fri::proof(&committed, at(Forgery::ShiftedFriQueries), &remainder);
    let proof = Proof {
        context,
        num_unique_queries: positions.len() as u8,
        commitments: Commitments::new::<Hash>(
            vec![main_root, aux_root],
            quotients.commitment(),
            committed.roots.clone(),
        ),
        trace_queries: lde.query(at(Forgery::ShiftedQueries)),
        constraint_queries: quotients.query(at(Forgery::ShiftedQuotientQueries)),
        ood_frame,
        fri_proof,
        pow_nonce: nonce,
    };
    let weight_rows = at(Forgery::WeightOpeningOtherRows);
    let tree = match (forgery, other_tree) {
        (Forgery::WeightOpeningOtherTree, Some(other)) => other,
        _ => trace.commitment.as_ref(),
    };
    ProofEnvelope {
        public,
        security: level,
        proof: proof.to_bytes(),
        weight_opening: tree.open(weight_rows).expect("positions are in range"),
    }
}

/// Every quotient column evaluated over the LDE domain, row by row.
fn quotient_values<E: FieldElement<BaseField = Felt>>(
    coefficients: &ColMatrix<E>,
    domain: &StarkDomain<Felt>,
) -> Vec<Vec<E>> {
    let columns = coefficients.evaluate_columns_over(domain);
    (0..columns.num_rows())
        .map(|r| (0..columns.num_cols()).map(|c| columns.get(c, r)).collect())
        .collect()
}

/// `Σ_i c_i ((T_i(x) − T_i(z)) / (x − z) + (T_i(x) − T_i(z·g)) / (x − z·g))` over the trace and
/// quotient columns, at every point of the LDE domain (the verifier's DEEP rule, with the
/// out-of-domain values the proof sends).
fn deep_values<E: FieldElement<BaseField = Felt>>(
    air: &InferenceAir,
    lde: &DefaultTraceLde<E, Hash, MerkleTree<Hash>>,
    quotients: &[Vec<E>],
    trace_ood: [&[E]; 2],
    quotient_ood: [&[E]; 2],
    z: E,
    coeffs: &winterfell::DeepCompositionCoefficients<E>,
) -> Vec<E> {
    let info = air.trace_info();
    let (main_w, aux_w) = (info.main_trace_width(), info.aux_segment_width());
    let zs = [z, z * E::from(air.trace_domain_generator())];
    let g = air.lde_domain_generator();
    let offset = air.domain_offset();
    let mut main_frame = EvaluationFrame::<Felt>::new(main_w);
    let mut aux_frame = EvaluationFrame::<E>::new(aux_w);
    (0..air.lde_domain_size())
        .map(|i| {
            let x = E::from(g.exp_vartime(i as u64) * offset);
            lde.read_main_trace_frame_into(i, &mut main_frame);
            lde.read_aux_trace_frame_into(i, &mut aux_frame);
            let row = main_frame
                .current()
                .iter()
                .map(|&v| E::from(v))
                .chain(aux_frame.current().iter().copied());
            // one numerator per out-of-domain point, then two divisions
            let mut num = [E::ZERO; 2];
            for (k, v) in row.enumerate() {
                for (s, n) in num.iter_mut().enumerate() {
                    *n += coeffs.trace[k] * (v - trace_ood[s][k]);
                }
            }
            for (k, &v) in quotients[i].iter().enumerate() {
                for (s, n) in num.iter_mut().enumerate() {
                    *n += coeffs.constraints[k] * (v - quotient_ood[s][k]);
                }
            }
            num[0] / (x - zs[0]) + num[1] / (x - zs[1])
        })
        .collect()
}
