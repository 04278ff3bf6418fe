//! EZKL-style input JSON: `{"input_data": [[sample 0 floats...], [sample 1 floats...]]}`. A
//! sample may also be nested, as numpy's `X.tolist()` writes an `N×C×H×W` batch: its numbers are
//! read in row-major order.

use serde_json::Value;

use crate::error::{ModelError, Result};

/// Parses EZKL-style input JSON into samples.
///
/// Every sample must have the same length, equal to `expected_len` when given; a nested sample
/// (`[[[...], ...], ...]`) is flattened in row-major order. Values must be finite numbers that fit
/// `f32`.
///
/// # Errors
/// [`ModelError::InputJson`] with the reason (not JSON, not an object, missing `input_data`, no samples,
/// a sample that is not an array, a non-number, a value beyond `f32`); [`ModelError::InputLength`] for a
/// ragged or wrong-length sample.
pub fn parse_input_json(text: &str, expected_len: Option<usize>) -> Result<Vec<Vec<f32>>> {
    let bad = |m: String| ModelError::InputJson(m);
    let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| bad("top level must be an object".into()))?;
    let data = obj
        .get("input_data")
        .ok_or_else(|| bad("missing `input_data`".into()))?
        .as_array()
        .ok_or_else(|| bad("`input_data` must be an array of samples".into()))?;
    if data.is_empty() {
        return Err(bad("`input_data` has no samples".into()));
    }
    let mut want = expected_len;
    let mut out = Vec::with_capacity(data.len());
    for (s, sample) in data.iter().enumerate() {
        if !sample.is_array() {
            return Err(bad(format!("sample {s} is not an array of numbers")));
        }
        let mut row = Vec::new();
        flatten(sample, &mut row).map_err(|(i, v)| match v {
            Some(x) => bad(format!("sample {s}, value {i} is not a finite f32: {x}")),
            None => bad(format!("sample {s}, value {i} is not a number")),
        })?;
        match want {
            Some(n) if n != row.len() => {
                return Err(ModelError::InputLength {
                    expected: n,
                    got: row.len(),
                })
            }
            Some(_) => {}
            None => want = Some(row.len()),
        }
        out.push(row);
    }
    Ok(out)
}

/// Appends the numbers of `v` (a number or nested arrays of numbers) to `row` in row-major order;
/// on failure, the index of the offending value and the number if it was one. serde_json's
/// recursion limit bounds the nesting.
fn flatten(v: &Value, row: &mut Vec<f32>) -> std::result::Result<(), (usize, Option<f64>)> {
    match v {
        Value::Array(items) => items.iter().try_for_each(|item| flatten(item, row)),
        _ => {
            let x = v.as_f64().ok_or((row.len(), None))?;
            let f = x as f32;
            if !f.is_finite() {
                return Err((row.len(), Some(x)));
            }
            row.push(f);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_samples() {
        let v =
            parse_input_json(r#"{"input_data": [[0.5, 1, -2e-3], [0, 0, 0]]}"#, Some(3)).unwrap();
        assert_eq!(v, vec![vec![0.5, 1.0, -0.002], vec![0.0, 0.0, 0.0]]);
    }

    #[test]
    fn nested_samples_are_read_in_row_major_order() {
        // two samples of shape 1×2×2, as `X.tolist()` writes an N×C×H×W batch
        let v = parse_input_json(
            r#"{"input_data": [[[[1, 2], [3, 4]]], [[[5, 6], [7, 8]]]]}"#,
            Some(4),
        )
        .unwrap();
        assert_eq!(v, vec![vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0, 7.0, 8.0]]);
        assert!(matches!(
            parse_input_json(r#"{"input_data": [[[1, 2], [3, "x"]]]}"#, None),
            Err(ModelError::InputJson(m)) if m.contains("value 3")
        ));
    }

    #[test]
    fn errors() {
        let json_err = |t: &str| matches!(parse_input_json(t, None), Err(ModelError::InputJson(_)));
        assert!(json_err("not json"));
        assert!(json_err("[[1, 2]]"));
        assert!(json_err(r#"{"data": [[1]]}"#));
        assert!(json_err(r#"{"input_data": []}"#));
        assert!(json_err(r#"{"input_data": [1, 2]}"#));
        assert!(json_err(r#"{"input_data": [[1, "2"]]}"#));
        assert!(json_err(r#"{"input_data": [[1, null]]}"#));
        assert!(json_err(r#"{"input_data": [[1e300]]}"#));
        assert!(matches!(
            parse_input_json(r#"{"input_data": [[1, 2], [3]]}"#, None),
            Err(ModelError::InputLength {
                expected: 2,
                got: 1
            })
        ));
        assert!(matches!(
            parse_input_json(r#"{"input_data": [[1, 2]]}"#, Some(3)),
            Err(ModelError::InputLength {
                expected: 3,
                got: 2
            })
        ));
    }
}
