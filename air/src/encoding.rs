//! The input encoding a digest commits for dense and convolutional models: the rule the prover
//! applies to raw features and the auditor's `verify --inputs` applies again, written once.

/// `q = clamp(round(x / input_scale), -128, 127)`, rounding half away from zero; `None` if the
/// quotient is not finite.
pub fn encode_symmetric(x: f32, input_scale: f64) -> Option<i64> {
    let q = libm::round(f64::from(x) / input_scale);
    q.is_finite().then(|| q.clamp(-128.0, 127.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_away_from_zero_and_saturates() {
        assert_eq!(encode_symmetric(0.5, 1.0), Some(1));
        assert_eq!(encode_symmetric(-0.5, 1.0), Some(-1));
        assert_eq!(encode_symmetric(0.49, 1.0), Some(0));
        assert_eq!(encode_symmetric(1.0, 1.0 / 127.0), Some(127));
        assert_eq!(encode_symmetric(-2.0, 1.0 / 127.0), Some(-128));
        assert_eq!(encode_symmetric(f32::NAN, 1.0), None);
        assert_eq!(encode_symmetric(1.0, 0.0), None);
        for x in [-1.3f32, -0.25, 0.0, 0.1, 0.75, 2.5] {
            let q = (f64::from(x) / 0.01).round().clamp(-128.0, 127.0) as i64;
            assert_eq!(encode_symmetric(x, 0.01), Some(q), "{x}");
        }
    }
}
