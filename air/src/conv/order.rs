//! Mixed-radix block orders: block `b`'s natural index is `Σ_s d_s(b)·coef_s` for groups of
//! binary digits `d_s(b)` of `b`, lowest first (see [`super`] for where they are used).

use alloc::vec::Vec;

/// `bits` binary digits of a block index that count in steps of `coef` in the natural index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digit {
    /// Binary digits (the digit's radix is `2^bits`).
    pub bits: u32,
    /// Natural-index weight of one unit of this digit.
    pub coef: u64,
}

/// The natural order of `blocks` (a power of two) blocks: one digit of weight 1.
pub fn natural_order(blocks: usize) -> Vec<Digit> {
    alloc::vec![Digit {
        bits: blocks.trailing_zeros(),
        coef: 1,
    }]
}

/// True if `order` maps `0..len` (`len` a power of two) one-to-one onto `0..len`: every digit has
/// at least one bit, the bits add up, and sorted by weight each digit's weight is the product of
/// the radices below it.
pub fn order_is_valid(order: &[Digit], len: usize) -> bool {
    if order.len() > 32 || order.iter().any(|d| d.bits == 0 || d.bits > 32) {
        return false;
    }
    let total: u32 = order.iter().map(|d| d.bits).sum();
    if !len.is_power_of_two() || total != len.trailing_zeros() {
        return false;
    }
    let mut sorted: Vec<Digit> = order.to_vec();
    sorted.sort_by_key(|d| d.coef);
    let mut place = 1u64;
    for d in sorted {
        if d.coef != place {
            return false;
        }
        place <<= d.bits;
    }
    true
}

/// The natural index of block `b`.
pub fn natural_index(order: &[Digit], b: usize) -> u64 {
    let mut shift = 0;
    let mut out = 0u64;
    for d in order {
        let digit = (b >> shift) & ((1usize << d.bits) - 1);
        out = out.wrapping_add((digit as u64).wrapping_mul(d.coef));
        shift += d.bits;
    }
    out
}

/// The order of windows of `2^bits` consecutive blocks: window `w`'s natural index is that of
/// its first block, `natural_index(order, w << bits)` (the digits below `bits` are dropped, and a
/// digit cut by it keeps its upper part).
pub fn windows_of(order: &[Digit], bits: u32) -> Vec<Digit> {
    let mut drop = bits;
    let mut out = Vec::new();
    for d in order {
        if d.bits <= drop {
            drop -= d.bits;
            continue;
        }
        out.push(Digit {
            bits: d.bits - drop,
            coef: d.coef << drop,
        });
        drop = 0;
    }
    out
}

/// Per digit `s`: the row span after which it increments (`block_len·2^(bits below s)`) and the
/// exponent of the factor applied then, `coef_s − Σ_{t<s} (2^bits_t − 1)·coef_t`. Digits whose
/// factor equals the one below (so that the flag's term vanishes) are left out.
pub fn order_steps(order: &[Digit], block_len: usize) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    let mut span = block_len;
    let mut below = 0i64;
    let mut previous = 0i64;
    for d in order {
        let exp = d.coef as i64 - below;
        if exp != previous {
            out.push((span, exp));
        }
        previous = exp;
        below += ((1i64 << d.bits) - 1) * d.coef as i64;
        span <<= d.bits;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn a_pooling_order_is_a_valid_mixed_radix_order() {
        // 8 channels of 4×4, 2×2 windows made consecutive: bits [dx, dy, px, py, c]
        let order = vec![
            Digit { bits: 1, coef: 1 },
            Digit { bits: 1, coef: 4 },
            Digit { bits: 1, coef: 2 },
            Digit { bits: 1, coef: 8 },
            Digit { bits: 3, coef: 16 },
        ];
        assert!(order_is_valid(&order, 128));
        let mut seen: Vec<u64> = (0..128).map(|b| natural_index(&order, b)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..128).collect::<Vec<u64>>());
        // stepping by the order's factors reproduces every natural index
        let steps = order_steps(&order, 1);
        let mut value = 0i64;
        for b in 0..127usize {
            assert_eq!(value, natural_index(&order, b) as i64);
            let level = steps
                .iter()
                .rposition(|&(span, _)| (b + 1).is_multiple_of(span))
                .map_or(0, |s| steps[s].1);
            value += level;
        }
        // its windows of four: bits [px, py, c] of the window index
        let windows = windows_of(&order, 2);
        for w in 0..32usize {
            assert_eq!(natural_index(&windows, w), natural_index(&order, 4 * w));
        }
        // a digit cut by the window keeps its upper part
        let natural = natural_order(64);
        let cut = windows_of(&natural, 2);
        assert_eq!(cut, vec![Digit { bits: 4, coef: 4 }]);
        assert_eq!(natural_index(&cut, 5), 20);
        // two digits of one weight, or a gap, are not one-to-one
        let mut twice = order.clone();
        twice[1].coef = 1;
        assert!(!order_is_valid(&twice, 128));
        assert!(!order_is_valid(&order, 256));
    }
}
