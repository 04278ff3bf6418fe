//! The in-AIR sponge: Rescue-Prime `Rp64_256` (12 elements, x^7 S-box, 7 rounds) absorbing the
//! weight columns, eight rows per permutation, in 12 round columns and 6 buffer columns.
//!
//! Only the *round helpers* are stored. Writing `S_p` for the state before round `p` of a cycle,
//! round `p` is `u_p^7 = MDS·S_p^7 + ARK1[p]`, `S_{p+1} = MDS·u_p + ARK2[p]`, so the state is a
//! linear function of the previous row and need not be committed. Row layout of one hash cycle
//! (positions 0..8), column group `V`:
//! - positions 0..=6 hold `u_0 … u_6`;
//! - position 7 holds `Y = MDS⁻¹·(S_7 + A)`, where `A` puts the cycle's eight packed elements (six
//!   from the buffer columns, the rows at positions 6 and 7 directly) on the rate, so the next
//!   cycle starts from `S_0 = MDS·Y`.
//!
//! Transitions: at positions 0..=5 and 7, `V'^7 = MDS·(MDS·V + ARK2'[p])^7 + ARK1'[p]` with the
//! shifted constants `ARK2' = (ARK2[0..6], ARK2[6], 0)` and `ARK1' = (ARK1[1..7], 0, ARK1[0])`
//! (periodic constants inside the power only add lower-degree terms); at position 6,
//! `MDS·(V' − V) = ARK2[6] + A`. This halves the committed state of the previous layout (state and
//! helper columns) at the same constraint degree.
//!
//! The sponge starts from `P⁻¹(IV)`, so the first permutation (cycle 0) yields the initial state
//! `IV = [len, 0, …, 0]`. Every row's element is absorbed, the last cycle's too: the public
//! result is the full state `X` right after the last block is added (no final permutation), pinned
//! by asserting `Y = MDS⁻¹·X` on the last row. Two weight streams with equal `X` either share all
//! but the last block (and then the last block too, since adding it is injective) or collide on
//! the four capacity elements of a Rescue permutation output, which is as hard as a 256-bit
//! collision. So no weight needs to be published, and the digest hashes all twelve elements.

use winter_crypto::hashers::Rp64_256;
use winter_math::FieldElement;

use crate::Felt;

/// Elements in the Rescue state.
pub const STATE_WIDTH: usize = 12;
/// Elements absorbed per permutation.
pub const RATE_WIDTH: usize = 8;
/// First rate element.
pub const RATE_START: usize = 4;
/// Rescue rounds per permutation.
pub const NUM_ROUNDS: usize = 7;
/// Inverse of the S-box exponent 7 modulo p − 1.
const INV_ALPHA: u64 = 10540996611094048183;

/// A Rescue state.
pub type State = [Felt; STATE_WIDTH];

/// Packs up to seven int8 weights into one field element: `Σ (w_u + 128)·256^u`.
pub fn pack_weights(weights: impl IntoIterator<Item = i64>) -> Felt {
    let mut acc = 0u64;
    for (u, w) in weights.into_iter().enumerate() {
        acc += ((w + 128) as u64 & 0xff) << (8 * u);
    }
    Felt::new(acc)
}

/// The MDS matrix of Rp64_256 as small integers (every entry is below 2^6).
const MDS_SMALL: [[u64; STATE_WIDTH]; STATE_WIDTH] = {
    let mut m = [[0u64; STATE_WIDTH]; STATE_WIDTH];
    let mut i = 0;
    while i < STATE_WIDTH {
        let mut j = 0;
        while j < STATE_WIDTH {
            m[i][j] = Rp64_256::MDS[i][j].as_int();
            j += 1;
        }
        i += 1;
    }
    m
};

/// Reduces a sum of at most 2^96 modulo p = 2^64 − 2^32 + 1.
fn reduce_u128(x: u128) -> u64 {
    const P: u128 = 0xffff_ffff_0000_0001;
    // 2^64 ≡ 2^32 − 1 (mod p), applied twice brings x below 2^64 + 2^32
    let t = (x >> 64) * 0xffff_ffff + (x as u64 as u128);
    let mut r = (t >> 64) * 0xffff_ffff + (t as u64 as u128);
    while r >= P {
        r -= P;
    }
    r as u64
}

/// `MDS·x` on raw (Montgomery) representations: every entry is below 2^5, so splitting each
/// value into 32-bit halves keeps every partial sum below 2^41 and the whole product in `u64`
/// lanes (which the compiler vectorises); the halves are recombined and reduced once per output.
/// Montgomery form is linear, so the result is the Montgomery form of the product.
#[inline]
fn mds_raw(x: &[u64; STATE_WIDTH]) -> [u64; STATE_WIDTH] {
    let lo: [u64; STATE_WIDTH] = core::array::from_fn(|j| x[j] & 0xffff_ffff);
    let hi: [u64; STATE_WIDTH] = core::array::from_fn(|j| x[j] >> 32);
    core::array::from_fn(|i| {
        let row = &MDS_SMALL[i];
        let mut acc_lo = 0u64;
        let mut acc_hi = 0u64;
        for j in 0..STATE_WIDTH {
            acc_lo += row[j] * lo[j];
            acc_hi += row[j] * hi[j];
        }
        reduce_u128((u128::from(acc_hi) << 32) + u128::from(acc_lo))
    })
}

/// `MDS·v`, coordinate by coordinate on the base field (see [`mds_raw`]).
pub fn mds<E: FieldElement<BaseField = Felt>>(v: &[E; STATE_WIDTH]) -> [E; STATE_WIDTH] {
    let d = E::EXTENSION_DEGREE;
    let base = E::slice_as_base_elements(v);
    let mut out = [Felt::ZERO; 3 * STATE_WIDTH];
    for c in 0..d {
        let x: [u64; STATE_WIDTH] = core::array::from_fn(|j| base[j * d + c].inner());
        for (i, y) in mds_raw(&x).into_iter().enumerate() {
            out[i * d + c] = Felt::from_mont(y);
        }
    }
    let out = E::slice_from_base_elements(&out[..STATE_WIDTH * d]);
    core::array::from_fn(|i| out[i])
}

/// `MDS⁻¹·v`.
pub fn inv_mds<E: FieldElement + From<Felt>>(v: &[E; STATE_WIDTH]) -> [E; STATE_WIDTH] {
    mat_mul(&Rp64_256::INV_MDS, v)
}

/// A dense matrix-vector product (reference implementation, and for `MDS⁻¹`).
pub fn mat_mul<E: FieldElement + From<Felt>>(
    m: &[[Felt; STATE_WIDTH]; STATE_WIDTH],
    v: &[E; STATE_WIDTH],
) -> [E; STATE_WIDTH] {
    let mut out = [E::ZERO; STATE_WIDTH];
    for (o, row) in out.iter_mut().zip(m.iter()) {
        for (&a, &x) in row.iter().zip(v.iter()) {
            *o += E::from(a) * x;
        }
    }
    out
}

/// `x^7`.
pub fn pow7<E: FieldElement>(x: E) -> E {
    let x2 = x.square();
    let x4 = x2.square();
    x4 * x2 * x
}

/// One Rescue round applied to `s`; returns the helper state `u` the AIR checks
/// (`u^7 = MDS·s^7 + ARK1[round]`, `s_next = MDS·u + ARK2[round]`).
pub fn round_with_helper(s: &mut State, round: usize) -> State {
    let mut m = *s;
    for x in m.iter_mut() {
        *x = pow7(*x);
    }
    let mut m = mds(&m);
    for (x, c) in m.iter_mut().zip(Rp64_256::ARK1[round].iter()) {
        *x += *c;
    }
    let mut u = m;
    for x in u.iter_mut() {
        *x = x.exp(INV_ALPHA);
    }
    let next = mds(&u);
    for ((y, x), c) in s
        .iter_mut()
        .zip(next.iter())
        .zip(Rp64_256::ARK2[round].iter())
    {
        *y = *x + *c;
    }
    u
}

/// The inverse of the Rescue permutation.
pub fn inverse_permutation(s: &mut State) {
    for round in (0..NUM_ROUNDS).rev() {
        for (x, c) in s.iter_mut().zip(Rp64_256::ARK2[round].iter()) {
            *x -= *c;
        }
        let mut m = inv_mds(s);
        for x in m.iter_mut() {
            *x = pow7(*x);
        }
        for (x, c) in m.iter_mut().zip(Rp64_256::ARK1[round].iter()) {
            *x -= *c;
        }
        let mut v = inv_mds(&m);
        for x in v.iter_mut() {
            *x = x.exp(INV_ALPHA);
        }
        *s = v;
    }
}

/// The round constants of the compressed schedule at cycle position `p`: `(ARK1'[p], ARK2'[p])`
/// (see the [module docs](self)).
pub fn shifted_constants(p: usize) -> (State, State) {
    let zero = [Felt::ZERO; STATE_WIDTH];
    let ark1 = match p {
        0..=5 => Rp64_256::ARK1[p + 1],
        7 => Rp64_256::ARK1[0],
        _ => zero,
    };
    let ark2 = match p {
        0..=6 => Rp64_256::ARK2[p],
        _ => zero,
    };
    (ark1, ark2)
}

/// The round helper `u` of round `round` applied to `s` (without changing `s`).
pub fn round_helper(s: &State, round: usize) -> State {
    let mut t = *s;
    round_with_helper(&mut t, round)
}

/// The sponge state asserted on row 0 for a stream of `len` absorbed elements.
pub fn row0_state(len: usize) -> State {
    let mut s = [Felt::ZERO; STATE_WIDTH];
    s[0] = Felt::new(len as u64);
    inverse_permutation(&mut s);
    s
}

/// The element a sponge absorbs from one row: its weight cells packed as bytes.
pub fn packed_element<E: FieldElement<BaseField = Felt>>(row: &[E], digits: &[usize]) -> E {
    let mut acc = E::ZERO;
    let mut scale = E::ONE;
    let base = E::from(256u32);
    for &c in digits {
        acc += (row[c] + E::from(128u32)) * scale;
        scale *= base;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use winter_crypto::ElementHasher;

    const HASH_CYCLE_LEN: usize = crate::HASH_CYCLE;

    #[test]
    fn inverse_permutation_inverts() {
        let mut s: State = core::array::from_fn(|i| Felt::new(i as u64 * 77 + 5));
        let orig = s;
        Rp64_256::apply_permutation(&mut s);
        inverse_permutation(&mut s);
        assert_eq!(s, orig);
    }

    #[test]
    fn rounds_with_helper_match_winter_crypto_and_hash_elements() {
        // simulate the AIR schedule natively: P^-1(IV), then per block: permute, absorb
        let stream: Vec<Felt> = (0..24u64).map(|i| Felt::new(i * i + 3)).collect();
        let mut s = row0_state(stream.len());
        let mut blocks = stream.chunks(RATE_WIDTH);
        loop {
            for r in 0..NUM_ROUNDS {
                let before = s;
                let u = round_with_helper(&mut s, r);
                let mut check = before;
                Rp64_256::apply_round(&mut check, r);
                assert_eq!(check, s);
                let lhs: State = core::array::from_fn(|i| pow7(u[i]));
                let mut m: State = core::array::from_fn(|i| pow7(before[i]));
                m = mds(&m);
                for i in 0..STATE_WIDTH {
                    assert_eq!(lhs[i], m[i] + Rp64_256::ARK1[r][i]);
                }
            }
            match blocks.next() {
                Some(block) => {
                    for (i, &e) in block.iter().enumerate() {
                        s[RATE_START + i] += e;
                    }
                }
                None => break,
            }
        }
        let expected = Rp64_256::hash_elements(&stream);
        assert_eq!(&s[4..8], expected.as_elements());
    }

    #[test]
    fn compressed_schedule_satisfies_its_transitions_and_ends_in_hash_elements() {
        // three cycles of eight rows, as the trace generator lays them out
        let n = 3 * HASH_CYCLE_LEN;
        let packed: Vec<Felt> = (0..n as u64).map(|i| Felt::new(i * 7919 + 11)).collect();
        let mut rows = alloc::vec![[Felt::ZERO; STATE_WIDTH]; n];
        let mut s = row0_state(n - HASH_CYCLE_LEN);
        let mut finals = Vec::new();
        for cycle in (0..n).step_by(HASH_CYCLE_LEN) {
            for p in 0..NUM_ROUNDS {
                rows[cycle + p] = round_with_helper(&mut s, p);
            }
            finals.push(s);
            for k in 0..RATE_WIDTH {
                s[RATE_START + k] += packed[cycle + k];
            }
            rows[cycle + HASH_CYCLE_LEN - 1] = inv_mds(&s);
        }
        for r in 0..n - 1 {
            let p = r % HASH_CYCLE_LEN;
            let (ark1, ark2) = shifted_constants(p);
            if p == HASH_CYCLE_LEN - 2 {
                let delta: State = core::array::from_fn(|k| rows[r + 1][k] - rows[r][k]);
                let m = mds(&delta);
                let cycle = r - p;
                for k in 0..STATE_WIDTH {
                    let input = if k < RATE_START {
                        Felt::ZERO
                    } else {
                        packed[cycle + k - RATE_START]
                    };
                    assert_eq!(m[k], ark2[k] + input, "absorb, row {r}");
                }
            } else {
                let mut state = mds(&rows[r]);
                for (x, c) in state.iter_mut().zip(ark2.iter()) {
                    *x += *c;
                }
                let s7 = mds(&state.map(pow7));
                for k in 0..STATE_WIDTH {
                    assert_eq!(pow7(rows[r + 1][k]), s7[k] + ark1[k], "round, row {r}");
                }
            }
        }
        // the last row pins X = (state after the last permutation) + (last block)
        let x = mds(&rows[n - 1]);
        let mut expected = finals[2];
        for k in 0..RATE_WIDTH {
            expected[RATE_START + k] += packed[n - HASH_CYCLE_LEN + k];
        }
        assert_eq!(x, expected);
        // and the state after the second cycle is the standard hash of the first two blocks
        let digest = Rp64_256::hash_elements(&packed[..n - HASH_CYCLE_LEN]);
        assert_eq!(&finals[2][RATE_START..RATE_START + 4], digest.as_elements());
        assert_eq!(round_helper(&row0_state(n - HASH_CYCLE_LEN), 0), rows[0]);
    }

    #[test]
    fn fast_mds_matches_the_dense_product() {
        use winter_math::fields::QuadExtension;
        let v: State = core::array::from_fn(|i| Felt::new(u64::MAX - 977 * i as u64));
        assert_eq!(mds(&v), mat_mul(&Rp64_256::MDS, &v));
        let w: [QuadExtension<Felt>; STATE_WIDTH] = core::array::from_fn(|i| {
            QuadExtension::new(Felt::new(3 + i as u64), Felt::new(u64::MAX - i as u64))
        });
        assert_eq!(mds(&w), mat_mul(&Rp64_256::MDS, &w));
        assert_eq!(
            reduce_u128(u128::MAX >> 32),
            ((u128::MAX >> 32) % 0xffff_ffff_0000_0001) as u64
        );
    }

    #[test]
    fn packing_is_positional() {
        assert_eq!(
            pack_weights([-128, 0, 127]),
            Felt::new(128 << 8 | 255 << 16)
        );
    }
}
