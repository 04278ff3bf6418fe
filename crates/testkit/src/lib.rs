//! Test builders shared by glassbox's test suites: a deterministic generator, synthetic dense
//! models and int8 inputs. A dev-dependency only; nothing here is part of the product.

use glassbox_model::{InputEncoding, QuantizedDense, QuantizedModel};

/// A small deterministic generator (64-bit LCG, high bits): test data without a dependency.
#[derive(Clone, Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    /// The next pseudo-random 31-bit value.
    pub fn next_value(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// The next value in `lo..hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_value() % (hi - lo) as u64) as i64
    }
}

/// The next value of the generator seeded by `seed` (which it advances), as an `i64`.
pub fn lcg(seed: &mut u64) -> i64 {
    let mut g = Lcg(*seed);
    let v = g.next_value() as i64;
    *seed = g.0;
    v
}

/// A random dense int8 model of the given widths, with ReLU (multiplier 300) between layers.
pub fn model(shape: &[usize], seed: u64) -> QuantizedModel {
    let mut rng = Lcg(seed);
    let layers = shape
        .windows(2)
        .enumerate()
        .map(|(l, w)| QuantizedDense {
            n_in: w[0],
            n_out: w[1],
            weights: (0..w[0] * w[1])
                .map(|_| rng.range(-128, 128) as i8)
                .collect(),
            bias: (0..w[1]).map(|_| rng.range(-1000, 1000)).collect(),
            multiplier: (l + 2 < shape.len()).then_some(300),
            groups: 1,
            conv: None,
            patch: None,
            table: None,
        })
        .collect();
    QuantizedModel {
        name: "synthetic".into(),
        input_len: shape[0],
        input_scale: 1.0 / 127.0,
        input_encoding: InputEncoding::Symmetric,
        layers,
        output_scale: 1e-4,
        classifier: true,
        proof_batch: None,
    }
}

/// `n` random int8 input vectors of length `len`.
pub fn inputs(n: usize, len: usize, seed: u64) -> Vec<Vec<i64>> {
    let mut rng = Lcg(seed);
    (0..n)
        .map(|_| (0..len).map(|_| rng.range(-128, 128)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let a = inputs(3, 5, 9);
        assert_eq!(a, inputs(3, 5, 9));
        assert!(a.iter().flatten().all(|v| (-128..128).contains(v)));
        let mut s = 9;
        let mut g = Lcg(9);
        assert_eq!(lcg(&mut s), g.next_value() as i64);
        assert_eq!(s, g.0);
    }
}
