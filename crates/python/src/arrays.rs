//! numpy arrays in and out. A batch is read where it lies: a C-contiguous `float32` or `float64`
//! array (of any shape `N×…`, e.g. `N×C×H×W`, flattened per sample by a view) is quantized row
//! by row straight from numpy's buffer; other dtypes or layouts are converted once.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;

use crate::errors::{raise, InputError};

/// `x` as a C-contiguous 2-D float array view `N×width` (`width` = `None`: whatever each sample
/// holds), converting only when the dtype or layout requires it.
fn as_rows<'py>(x: &Bound<'py, PyAny>, width: Option<usize>) -> PyResult<Bound<'py, PyAny>> {
    let np = x.py().import("numpy")?;
    let mut a = np.call_method1("asarray", (x,))?;
    let dtype = a.getattr("dtype")?;
    let (kind, size): (String, usize) = (
        dtype.getattr("kind")?.extract()?,
        dtype.getattr("itemsize")?.extract()?,
    );
    if kind != "f" || !(size == 4 || size == 8) {
        if !matches!(kind.as_str(), "f" | "i" | "u" | "b") {
            return Err(raise::<InputError>(format!(
                "inputs must be numbers; got an array of dtype {}",
                dtype.str()?
            )));
        }
        a = np.call_method1("asarray", (a, "float32"))?;
    }
    let shape: Vec<usize> = a.getattr("shape")?.extract()?;
    let n = match shape.as_slice() {
        [] => {
            return Err(raise::<InputError>(
                "inputs must be an array of samples, not a scalar",
            ))
        }
        [len] if width.is_none_or(|w| w == *len) => 1,
        [_] => {
            return Err(raise::<InputError>(format!(
                "a 1-D input is one sample of {} values; got {} (pass a batch as N×{0})",
                width.unwrap_or(0),
                shape[0]
            )))
        }
        [n, ..] => *n,
    };
    let per_sample = shape.iter().product::<usize>().checked_div(n).unwrap_or(0);
    if n == 0 || per_sample == 0 {
        return Err(raise::<InputError>(format!(
            "the batch has no samples or no values (shape {shape:?})"
        )));
    }
    if let Some(w) = width.filter(|&w| w != per_sample) {
        return Err(raise::<InputError>(format!(
            "the model takes {w} values per sample; got {per_sample} (input shape {shape:?})"
        )));
    }
    a = a.call_method1("reshape", (n, per_sample))?;
    if !a
        .getattr("flags")?
        .get_item("C_CONTIGUOUS")?
        .extract::<bool>()?
    {
        a = np.call_method1("ascontiguousarray", (a,))?;
    }
    Ok(a)
}

/// Applies `row` to every sample of `x` as `f32` values (`float64` rows through one small
/// buffer), returning the results in order.
pub fn map_rows<T>(
    x: &Bound<'_, PyAny>,
    width: Option<usize>,
    mut row: impl FnMut(usize, &[f32]) -> PyResult<T>,
) -> PyResult<Vec<T>> {
    let a = as_rows(x, width)?;
    if let Ok(arr) = a.extract::<PyReadonlyArray2<'_, f32>>() {
        let w = arr.shape()[1];
        let data = arr.as_slice()?;
        return data.chunks(w).enumerate().map(|(i, r)| row(i, r)).collect();
    }
    let arr = a.extract::<PyReadonlyArray2<'_, f64>>()?;
    let w = arr.shape()[1];
    let mut buf = vec![0f32; w];
    let data = arr.as_slice()?;
    data.chunks(w)
        .enumerate()
        .map(|(i, r)| {
            for (b, &v) in buf.iter_mut().zip(r) {
                *b = v as f32;
            }
            row(i, &buf)
        })
        .collect()
}

/// A batch as owned float rows (calibration samples and the auditor's raw inputs, which the
/// library takes as `Vec<Vec<f32>>`).
pub fn float_rows(x: &Bound<'_, PyAny>, width: Option<usize>) -> PyResult<Vec<Vec<f32>>> {
    map_rows(x, width, |_, r| Ok(r.to_vec()))
}

/// Rows of equal length as a 2-D numpy array.
pub fn matrix<'py, T: numpy::Element>(
    py: Python<'py>,
    rows: impl ExactSizeIterator<Item = impl IntoIterator<Item = T>>,
    width: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let n = rows.len();
    let flat: Vec<T> = rows.flat_map(IntoIterator::into_iter).collect();
    let arr = Array2::from_shape_vec((n, width), flat)
        .map_err(|e| raise::<InputError>(format!("ragged rows: {e}")))?;
    Ok(arr.into_pyarray(py).into_any())
}

/// A vector as a 1-D numpy array.
pub fn vector<'py, T: numpy::Element>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyAny> {
    v.into_pyarray(py).into_any()
}
