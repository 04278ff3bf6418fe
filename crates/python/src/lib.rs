//! `glassbox` for Python: compile an ONNX model, run it, prove its outputs and verify proofs,
//! from numpy arrays, writing and reading the same files as the `glassbox` command.
//!
//! This crate is the native part (`glassbox._native`); the package around it
//! (`python/glassbox/`) re-exports it and adds the exporters (`from_sklearn`, `from_torch`),
//! progress bars and `glassbox.ray`. Every long call releases the GIL; proving a bundle checks
//! for Ctrl-C between proofs.

mod arrays;
mod compile;
mod errors;
mod model;
mod proof;
mod proving;
mod verify;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<model::Model>()?;
    m.add_class::<proof::Proof>()?;
    m.add_class::<proof::Bundle>()?;
    m.add_class::<verify::Claim>()?;
    m.add_function(wrap_pyfunction!(compile::compile, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
