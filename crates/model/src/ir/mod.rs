//! The intermediate representation between import and lowering: the float [`graph::Graph`] and the
//! classic (non-neural) model types it can hold, [`tree::TreeEnsemble`], [`linear::LinearModel`]
//! and [`svm::SvmModel`].

pub(crate) mod graph;
pub(crate) mod linear;
pub(crate) mod scores;
pub(crate) mod svm;
pub(crate) mod tree;
mod tree_check;
pub(crate) mod unary;
