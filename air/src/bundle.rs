//! A proof's place in its bundle.
//!
//! A batch larger than one proof holds is proven as a *bundle* of chunks, each its own proof.
//! So that a bundle is one statement ("sample `i` had input `x_i` and output `y_i`, for every
//! `i`"), every proof states, in its public inputs (and therefore in the Fiat–Shamir transcript):
//!
//! * the **bundle id**, [`bundle_id`]: Blake3-256 over a domain tag, the bundle's total sample
//!   count, the sample length and every sample's int8 inputs of the *whole* bundle, in order;
//! * its **chunk index** and the **chunk count**;
//! * the index of its **first sample** in the bundle, and the bundle's **total sample count**.
//!
//! A single proof is a bundle of one chunk: chunk 0 of 1, first sample 0, the total equal to its
//! batch and the id that of its own inputs, all of which [`BundlePosition::check`] enforces.
//! Several proofs form a valid bundle when they share one id, their chunk indexes are `0..n` in
//! order with `n` their stated count, their sample ranges are contiguous from 0 to the total, and
//! the id recomputed from all their inputs in order is the stated one (the verifier crate's
//! `verify_bundle`).

use winter_crypto::{hashers::Blake3_256, Digest, Hasher};

use crate::field::Felt;

/// Domain tag of [`bundle_id`].
pub const BUNDLE_ID_TAG: &[u8; 16] = b"glassbox-bundle1";

/// Where a proof sits in its bundle (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BundlePosition {
    /// [`bundle_id`] of the whole bundle's inputs.
    pub id: [u8; 32],
    /// This proof's chunk index, `0..chunks`.
    pub chunk: u32,
    /// Number of chunks (proofs) in the bundle.
    pub chunks: u32,
    /// Index of this proof's first sample in the bundle.
    pub first_sample: u32,
    /// Number of samples in the whole bundle.
    pub samples: u32,
}

impl BundlePosition {
    /// The position of a proof that is the whole bundle (one chunk holding `inputs`).
    pub fn single(inputs: &[alloc::vec::Vec<i64>]) -> Self {
        Self {
            id: bundle_id(inputs.iter().map(|x| x.as_slice())),
            chunk: 0,
            chunks: 1,
            first_sample: 0,
            samples: inputs.len() as u32,
        }
    }

    /// Checks the position against the proof's own `inputs` (its batch).
    ///
    /// # Errors
    /// The first inconsistency, as a human-readable reason.
    pub fn check(&self, inputs: &[alloc::vec::Vec<i64>]) -> Result<(), &'static str> {
        let batch = inputs.len() as u64;
        let (first, total) = (u64::from(self.first_sample), u64::from(self.samples));
        if self.chunks == 0 || self.chunk >= self.chunks {
            return Err("the bundle chunk index is not below the chunk count");
        }
        if u64::from(self.chunks) > total || first + batch > total {
            return Err("the proof's samples do not fit its bundle's sample count");
        }
        if (self.chunk == 0) != (first == 0) {
            return Err("only the first chunk of a bundle starts at sample 0");
        }
        if (self.chunk + 1 == self.chunks) != (first + batch == total) {
            return Err("only the last chunk of a bundle ends at its last sample");
        }
        if self.chunks == 1 && self.id != bundle_id(inputs.iter().map(|x| x.as_slice())) {
            return Err("the bundle id of a one-chunk bundle is not the hash of its inputs");
        }
        Ok(())
    }

    /// Index one past this proof's last sample, for a proof of `batch` samples.
    pub fn end_sample(&self, batch: usize) -> usize {
        self.first_sample as usize + batch
    }

    /// The field elements this position contributes to the public inputs.
    pub fn to_elements(&self) -> impl Iterator<Item = Felt> + '_ {
        crate::commitment::root_elements(&self.id).chain(
            [self.chunk, self.chunks, self.first_sample, self.samples]
                .into_iter()
                .map(|v| Felt::new(u64::from(v))),
        )
    }
}

/// The bundle id of `samples` (each an int8 vector, all of one length), in order: Blake3-256 over
/// [`BUNDLE_ID_TAG`], the sample count (u64 little-endian), the sample length (u64
/// little-endian) and every sample's values, one byte each (`v as i8`).
pub fn bundle_id<'a>(samples: impl ExactSizeIterator<Item = &'a [i64]> + Clone) -> [u8; 32] {
    let count = samples.len() as u64;
    let len = samples.clone().next().map_or(0, <[i64]>::len) as u64;
    let mut bytes = alloc::vec::Vec::with_capacity(32 + samples.len() * len as usize);
    bytes.extend_from_slice(BUNDLE_ID_TAG);
    bytes.extend_from_slice(&count.to_le_bytes());
    bytes.extend_from_slice(&len.to_le_bytes());
    for x in samples {
        bytes.extend(x.iter().map(|&v| v as i8 as u8));
    }
    Blake3_256::<Felt>::hash(&bytes).as_bytes()
}

/// Lowercase hex of a bundle id.
pub fn id_hex(id: &[u8; 32]) -> alloc::string::String {
    use core::fmt::Write;
    let mut s = alloc::string::String::with_capacity(64);
    for b in id {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    #[test]
    fn single_positions_check_and_others_do_not() {
        let inputs = vec![vec![1i64, -2], vec![3, 4]];
        let single = BundlePosition::single(&inputs);
        assert_eq!(single.check(&inputs), Ok(()));
        let other = vec![vec![1i64, -2], vec![3, 5]];
        assert!(single.check(&other).is_err());
        let bad = [
            BundlePosition { chunk: 1, ..single },
            BundlePosition {
                chunks: 0,
                ..single
            },
            BundlePosition {
                samples: 3,
                ..single
            },
            BundlePosition {
                first_sample: 1,
                ..single
            },
        ];
        for p in bad {
            assert!(p.check(&inputs).is_err(), "{p:?}");
        }
        // chunk 1 of 2, samples 2..4 of 4
        let middle = BundlePosition {
            id: [7; 32],
            chunk: 1,
            chunks: 2,
            first_sample: 2,
            samples: 4,
        };
        assert_eq!(middle.check(&inputs), Ok(()));
        assert!(BundlePosition {
            samples: 5,
            ..middle
        }
        .check(&inputs)
        .is_err());
        assert!(BundlePosition {
            chunks: 3,
            ..middle
        }
        .check(&inputs)
        .is_err());
    }

    #[test]
    fn the_id_binds_order_and_count() {
        let (a, b) = ([1i64, 2], [3i64, 4]);
        let id = |s: &[&[i64]]| bundle_id(s.iter().copied());
        assert_ne!(id(&[&a, &b]), id(&[&b, &a]));
        assert_ne!(id(&[&a, &b]), id(&[&a]));
        assert_eq!(id(&[&a, &b]), id(&[&a, &b]));
        assert_eq!(id_hex(&[0xab; 32]).len(), 64);
    }
}
