//! The exception hierarchy: `GlassboxError` and one subclass per kind of failure, each carrying
//! its reason (the message the CLI prints) as `reason`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::PyTypeInfo;

create_exception!(
    glassbox,
    GlassboxError,
    PyException,
    "Base class of every glassbox error; `reason` holds the message."
);
create_exception!(
    glassbox,
    ModelError,
    GlassboxError,
    "The model cannot be imported, compiled, loaded or laid out."
);
create_exception!(
    glassbox,
    InputError,
    GlassboxError,
    "Inputs of the wrong shape or width, or values that do not encode."
);
create_exception!(
    glassbox,
    ProvingError,
    GlassboxError,
    "Proving failed (an honest model and inputs never cause this past compile)."
);
create_exception!(
    glassbox,
    InvalidProof,
    GlassboxError,
    "The proof or bundle does not verify against the digest; `reason` says why."
);
create_exception!(
    glassbox,
    InputMismatch,
    InvalidProof,
    "The proofs are valid, but their inputs are not the auditor's inputs."
);

/// Adds the exception classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("GlassboxError", py.get_type::<GlassboxError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ProvingError", py.get_type::<ProvingError>())?;
    m.add("InvalidProof", py.get_type::<InvalidProof>())?;
    m.add("InputMismatch", py.get_type::<InputMismatch>())?;
    Ok(())
}

/// An exception of type `E` whose message and `reason` attribute are `reason`.
pub fn raise<E: PyTypeInfo>(reason: impl Into<String>) -> PyErr {
    let reason = reason.into();
    let err = PyErr::new::<E, _>(reason.clone());
    Python::with_gil(|py| {
        let _ = err.value(py).setattr("reason", reason);
    });
    err
}

/// An `OSError` for a file that cannot be read or written.
pub fn io(e: impl std::fmt::Display) -> PyErr {
    pyo3::exceptions::PyOSError::new_err(e.to_string())
}
