//! A layer's biases in the proof file: a LEB128 run count, then per run its LEB128 length and
//! its zigzag LEB128 value (see [`crate::runs`]). The reader accepts exactly one encoding per
//! bias vector: canonical varints, lengths of at least 1 summing to the layer's outputs, and
//! adjacent runs of different values.

use alloc::vec::Vec;

use super::error::EnvelopeError;
use super::read::Reader;
use crate::runs::runs;

const FIELD: &str = "bias";

/// Writes `bias` as runs.
pub(super) fn write_bias(w: &mut Vec<u8>, bias: &[i64]) {
    let runs = runs(bias);
    write_varint(w, runs.len() as u64);
    for (len, v) in runs {
        write_varint(w, len as u64);
        write_varint(w, zigzag(v));
    }
}

/// Reads the `n_out` biases [`write_bias`] wrote.
pub(super) fn read_bias(r: &mut Reader<'_>, n_out: usize) -> Result<Vec<i64>, EnvelopeError> {
    let count = read_varint(r)?;
    if count == 0 || count > n_out as u64 {
        return Err(EnvelopeError::Invalid { field: FIELD });
    }
    // each run takes at least two bytes
    r.need(2 * count as usize, FIELD)?;
    let mut bias = Vec::with_capacity(n_out);
    let mut last = None;
    for _ in 0..count {
        let len = read_varint(r)?;
        let v = unzigzag(read_varint(r)?);
        let room = (n_out - bias.len()) as u64;
        if len == 0 || len > room || last == Some(v) {
            return Err(EnvelopeError::Invalid { field: FIELD });
        }
        bias.extend(core::iter::repeat_n(v, len as usize));
        last = Some(v);
    }
    if bias.len() != n_out {
        return Err(EnvelopeError::Invalid { field: FIELD });
    }
    Ok(bias)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn write_varint(w: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        w.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    w.push(v as u8);
}

/// A canonical LEB128 `u64`: at most ten bytes, no trailing zero group, no bits past 64.
fn read_varint(r: &mut Reader<'_>) -> Result<u64, EnvelopeError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = r.u8(FIELD)?;
        let group = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return Err(EnvelopeError::Invalid { field: FIELD });
        }
        v |= group << (7 * i);
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return Err(EnvelopeError::Invalid { field: FIELD });
            }
            return Ok(v);
        }
    }
    Err(EnvelopeError::Invalid { field: FIELD })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn round_trip(bias: &[i64]) -> Vec<u8> {
        let mut w = Vec::new();
        write_bias(&mut w, bias);
        let mut r = Reader { bytes: &w, pos: 0 };
        assert_eq!(read_bias(&mut r, bias.len()).as_deref(), Ok(bias));
        assert_eq!(r.pos, w.len());
        w
    }

    fn read(bytes: &[u8], n_out: usize) -> Result<Vec<i64>, EnvelopeError> {
        read_bias(&mut Reader { bytes, pos: 0 }, n_out)
    }

    #[test]
    fn biases_round_trip_and_repeats_shrink() {
        round_trip(&[0]);
        round_trip(&[i64::MIN, i64::MAX, -1, 1, 0]);
        let channels: Vec<i64> = (0..6).flat_map(|c| vec![c * 1000 - 2500; 1024]).collect();
        // 6 runs: the count, then a 2-byte length and a 1- or 2-byte value each
        assert!(round_trip(&channels).len() < 30);
    }

    #[test]
    fn only_the_canonical_encoding_is_read() {
        // one run of 3 zeros
        assert_eq!(read(&[1, 3, 0], 3), Ok(vec![0; 3]));
        let invalid = Err(EnvelopeError::Invalid { field: FIELD });
        // a varint with a trailing zero group
        assert_eq!(read(&[1, 0x83, 0x00, 0], 3), invalid);
        // runs too short, too long, empty, or not maximal
        assert_eq!(read(&[1, 2, 0], 3), invalid);
        assert_eq!(read(&[1, 4, 0], 3), invalid);
        assert_eq!(read(&[2, 0, 0, 3, 2], 3), invalid);
        assert_eq!(read(&[2, 1, 2, 2, 2], 3), invalid);
        assert_eq!(read(&[0], 3), invalid);
        // more runs than outputs, a varint past 64 bits, bytes missing
        assert_eq!(read(&[4, 1, 0, 1, 2, 1, 4, 1, 6], 3), invalid);
        let long = [
            1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02,
        ];
        assert_eq!(read(&long, 1), invalid);
        assert_eq!(
            read(&[2, 1, 0], 3),
            Err(EnvelopeError::Truncated { field: FIELD })
        );
    }
}
