//! A structural pre-scan of winterfell proof bytes.
//!
//! winterfell's `Proof::from_bytes` trusts two kinds of data that strangers control: the proof
//! context (its constructors panic on bad values) and the length prefixes of query openings
//! (`Vec::with_capacity(len)` with `len` from the input can abort the process on allocation
//! failure, which no `catch_unwind` can catch). Before parsing, we therefore require the context
//! to be byte-for-byte the one the model implies, and walk every length prefix up to the point
//! where winterfell's own reads are bounds-checked.

/// Why the bytes were refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// The proof context differs from the expected one.
    Context,
    /// A length prefix points past the end of the bytes.
    Length(&'static str),
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ScanError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                self.pos = end;
                Ok(())
            }
            _ => Err(ScanError::Length(what)),
        }
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, ScanError> {
        let b = *self.bytes.get(self.pos).ok_or(ScanError::Length(what))?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self, what: &'static str) -> Result<usize, ScanError> {
        let lo = self.byte(what)?;
        let hi = self.byte(what)?;
        Ok(usize::from(u16::from_le_bytes([lo, hi])))
    }

    /// winter-utils' variable-length usize: the number of trailing zeros of the first byte plus
    /// one is the encoded length; nine means a marker byte followed by a plain u64.
    fn vint(&mut self, what: &'static str) -> Result<u64, ScanError> {
        let first = *self.bytes.get(self.pos).ok_or(ScanError::Length(what))?;
        let len = first.trailing_zeros() as usize + 1;
        if len == 9 {
            self.skip(1, what)?;
            let b = self
                .bytes
                .get(self.pos..self.pos + 8)
                .ok_or(ScanError::Length(what))?;
            self.pos += 8;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            return Ok(u64::from_le_bytes(a));
        }
        let b = self
            .bytes
            .get(self.pos..self.pos + len)
            .ok_or(ScanError::Length(what))?;
        self.pos += len;
        let mut a = [0u8; 8];
        a[..len].copy_from_slice(b);
        Ok(u64::from_le_bytes(a) >> len)
    }

    fn byte_vec(&mut self, what: &'static str) -> Result<&[u8], ScanError> {
        let len = self.vint(what)?;
        let len = usize::try_from(len).map_err(|_| ScanError::Length(what))?;
        let start = self.pos;
        self.skip(len, what)?;
        Ok(self.bytes.get(start..start + len).unwrap_or_default())
    }

    fn u32_vec(&mut self, what: &'static str) -> Result<&[u8], ScanError> {
        let mut a = [0u8; 4];
        for b in a.iter_mut() {
            *b = self.byte(what)?;
        }
        let len = u32::from_le_bytes(a) as usize;
        let start = self.pos;
        self.skip(len, what)?;
        Ok(self.bytes.get(start..start + len).unwrap_or_default())
    }

    fn u16_vec(&mut self, what: &'static str) -> Result<(), ScanError> {
        let n = self.u16(what)?;
        self.skip(n, what)
    }
}

/// Walks a serialized batch Merkle proof (winter-crypto's `BatchMerkleProof`): a depth byte, a
/// varint number of node vectors, then per vector a varint count of 32-byte digests. winterfell
/// reserves memory for both counts before reading, so both must fit in the bytes that remain.
fn merkle_proof(bytes: &[u8], what: &'static str) -> Result<(), ScanError> {
    let mut c = Cursor { bytes, pos: 0 };
    c.byte(what)?;
    let vectors = c.vint(what)?;
    if vectors > bytes.len() as u64 {
        return Err(ScanError::Length(what));
    }
    for _ in 0..vectors {
        let count = c.vint(what)?;
        let len = count
            .checked_mul(32)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(ScanError::Length(what))?;
        c.skip(len, what)?;
    }
    Ok(())
}

/// Checks `bytes` against the expected serialized context, then walks every length prefix
/// winterfell would trust: the commitments, the query openings of the `num_segments` trace
/// segments and of the constraints (values and Merkle paths), the out-of-domain frame, every FRI
/// layer (values and Merkle paths), the FRI remainder and the proof-of-work nonce. Nothing may
/// follow.
pub fn scan(bytes: &[u8], context: &[u8], num_segments: usize) -> Result<(), ScanError> {
    if !bytes.starts_with(context) {
        return Err(ScanError::Context);
    }
    let mut c = Cursor {
        bytes,
        pos: context.len(),
    };
    c.byte("unique query count")?;
    c.u16_vec("commitments")?;
    for _ in 0..=num_segments {
        c.byte_vec("query values")?;
        let paths = c.byte_vec("query paths")?;
        merkle_proof(paths, "query Merkle paths")?;
    }
    c.u16_vec("out-of-domain trace frame")?;
    c.u16_vec("out-of-domain constraint frame")?;
    let layers = c.byte("FRI layer count")?;
    for _ in 0..layers {
        c.u32_vec("FRI layer values")?;
        let paths = c.u32_vec("FRI layer paths")?;
        merkle_proof(paths, "FRI Merkle paths")?;
    }
    c.u16_vec("FRI remainder")?;
    c.byte("FRI partitions")?;
    c.skip(8, "proof-of-work nonce")?;
    if c.pos != bytes.len() {
        return Err(ScanError::Length("trailing bytes after the STARK proof"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vint_decodes_and_bounds() {
        // value 5 in one byte: (5 << 1) | 1
        let mut c = Cursor {
            bytes: &[11],
            pos: 0,
        };
        assert_eq!(c.vint("x"), Ok(5));
        let huge = [0u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut c = Cursor {
            bytes: &huge,
            pos: 0,
        };
        assert_eq!(c.vint("x"), Ok(u64::MAX));
        let mut c = Cursor {
            bytes: &huge,
            pos: 0,
        };
        assert_eq!(c.byte_vec("x"), Err(ScanError::Length("x")));
        let mut c = Cursor {
            bytes: &[0x00],
            pos: 0,
        };
        assert!(c.vint("x").is_err());
    }

    #[test]
    fn context_must_match() {
        assert_eq!(scan(b"abcdef", b"abd", 1), Err(ScanError::Context));
        assert_eq!(
            scan(b"abc", b"abc", 1),
            Err(ScanError::Length("unique query count"))
        );
    }
}
