//! Lowering of classic tabular models ([`TreeEnsemble`], [`LinearModel`]) to the integer dense
//! layers the proof checks, so they get the same digest binding, batching and hardening as MLPs.
//!
//! # Tree ensembles: three layers, exact comparisons
//! Features are encoded with [`InputEncoding::Thresholds`]: feature `f`'s code is
//! `2·#{c < x} + [x ∈ c] − 128` over its sorted distinct split thresholds `c`, so every split
//! `x ⋚ c_i` becomes `code ≥ K` for an integer `K` ([`threshold_code`]).
//! 1. **Comparisons.** One neuron per distinct `(feature, K)` (per tree in the grouped shape): `acc = q_f + 129 − K` with the step
//!    multiplier `M = 255·2^16`, so the activation is `255·[code ≥ K]` (a *bit*).
//! 2. **Paths.** One neuron per leaf: its path's conditions are literals `c + Σ ±bit/255` (`<=`, `<`,
//!    `>=`, `>` use one bit, `==`/`!=` the difference of two), and with `D` conditions
//!    `acc = Σ ±bit + 255·(Σc − D + 1)` and `M = 2^16` (identity), so the activation is 255 exactly
//!    when every condition holds (the leaf is reached) and 0 otherwise. Two shapes, whichever
//!    the layout would give fewer cells at a batch of 64: *dense* (comparisons shared by all trees, every leaf
//!    reads all of them; best for a few deep trees) or *grouped* (a block-diagonal layer with one
//!    group per tree, comparisons padded to a power of two and leaves to the largest tree; it
//!    costs `Σ_trees bits × leaves`, best for many shallow trees).
//! 3. **Scores.** The output layer sums the reached leaves' values (int8, one scale for the whole
//!    ensemble) into one score per class or target: `out = 255·Σ value_q + bias`.
//!
//! The weights (which feature each comparison reads, the path structure, the leaf values) are
//! committed by the model digest like any weights. The comparison constants `129 − K` are biases,
//! public in the descriptor; they are codes (ranks), not the float thresholds, which stay in the
//! prover's artifact.
//!
//! # Linear models: one layer
//! Features are encoded with [`InputEncoding::Affine`] (calibrated per-feature range mapped to
//! `−127..=127`) and the per-feature steps and offsets are folded into the int8 weights and the
//! bias.
//!
//! # Preprocessing and SVMs
//! Affine preprocessing in front of a linear model or an SVM (scalers, constant arithmetic, PCA,
//! feature selection and concatenation) is folded into the first layer ([`prefix`]), so the raw
//! features are what is encoded and the digest commits the folded weights. One-vs-one SVMs with
//! the linear kernel become one layer (two classes) or a step layer over the class pairs and a
//! vote-counting layer ([`svm`]).
//!
//! Preprocessing in front of a tree ensemble is folded into the encoding instead
//! ([`preprocessed`]): per-feature steps (scalers) into the raw thresholds, exactly against
//! onnxruntime's `f32` ([`chains`]); a map that mixes features (a PCA) into a committed
//! [`InputEncoding::Projected`] encoding. A `Normalizer` on the raw features becomes a committed
//! normalized encoding before any lowering (`crate::lower::normalize`); one after other
//! preprocessing is refused ([`prefix::check_affine`]).
//!
//! # Labels
//! The outputs are a *decision vector* whose first maximum is the label, for every
//! `post_transform` that preserves the order of scores (`NONE`, `SOFTMAX`, `LOGISTIC`, `PROBIT`).
//! A binary classifier with a single score column `v` gets the outputs `[T, v]`, where `T` is
//! onnxruntime's cut (`0.5` for `NONE` with non-negative leaf weights, else `0`).

mod chains;
mod classic;
mod head;
pub(crate) mod kernel;
pub(crate) mod linear;
mod paths;
mod per_feature;
pub(crate) mod prefix;
mod preprocessed;
mod rbf;
mod splits;
mod svm;
mod trees;

pub(crate) use classic::lower_graph;
pub use classic::ClassicModel;
pub use head::STEP_MULTIPLIER;
pub use trees::{lower_trees_with, PathShape};
