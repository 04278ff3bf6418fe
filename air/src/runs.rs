//! Biases as runs of equal values: how the digest and the proof file carry a layer's bias.
//!
//! A convolution's bias is one value per output channel, repeated over every position of the
//! channel; a pooling or mask layer's is all zeros. As a plain list LeNet-5's biases are 28,374
//! values, which made them most of a proof file (227 KB of 354 KB) and most of the verifier's
//! time (hashing them into the digest). As runs they are a few dozen.
//!
//! - **Digest** ([`crate::ModelDigest`]): a layer's biases are hashed as runs, marked by
//!   [`DIGEST_RUNS_MARK`] on the multiplier element, exactly when the runs are the shorter form
//!   (`1 + 2·runs < n_out`). The choice is a function of the biases, so every descriptor still
//!   has one element sequence, and a layer of distinct biases (most dense layers) hashes as
//!   before: the digests of models without repeated biases are unchanged.
//! - **Proof file**: always runs, each a LEB128 length and a zigzag LEB128 value (see
//!   `envelope::runs`).

use alloc::vec::Vec;

/// Added to a layer's multiplier in the digest's elements to mark biases hashed as runs
/// (multipliers are below 2^24 and the table mark is 2^32, so the mark is unambiguous): the
/// number of runs follows, then each run's length and value.
pub const DIGEST_RUNS_MARK: u64 = 1 << 33;

/// The maximal runs of equal values in `values`, in order: `(length, value)`, lengths at least 1
/// and adjacent values different.
pub fn runs(values: &[i64]) -> Vec<(usize, i64)> {
    let mut out: Vec<(usize, i64)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((len, last)) if *last == v => *len += 1,
            _ => out.push((1, v)),
        }
    }
    out
}

/// True if the digest hashes these biases as runs: the runs' elements (a count, then two per
/// run) are fewer than the plain list's.
pub fn hashed_as_runs(runs: &[(usize, i64)], n_out: usize) -> bool {
    1 + 2 * runs.len() < n_out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn runs_are_maximal_and_expand_back() {
        let values = vec![3, 3, 3, -1, 0, 0, 3];
        let r = runs(&values);
        assert_eq!(r, vec![(3, 3), (1, -1), (2, 0), (1, 3)]);
        let expanded: Vec<i64> = r
            .iter()
            .flat_map(|&(len, v)| core::iter::repeat_n(v, len))
            .collect();
        assert_eq!(expanded, values);
        assert!(runs(&[]).is_empty());
        // four runs over seven values: 9 elements, not shorter
        assert!(!hashed_as_runs(&r, values.len()));
        let channels = vec![5; 1024];
        assert!(hashed_as_runs(&runs(&channels), 1024));
        // distinct values never are
        let distinct: Vec<i64> = (0..100).collect();
        assert!(!hashed_as_runs(&runs(&distinct), 100));
    }
}
