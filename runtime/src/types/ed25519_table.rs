//! Fixed-base tables: `[n]P` for a point `P` known in advance, by adding 32
//! precomputed multiples instead of the 253 doublings a variable-base
//! multiplication needs. A signature check computes `[k](−A) + [s]B`; for the
//! base point `B` and a signer's key `A` that signs often, both halves can come
//! from tables, which on the machines of issue 13 took about half the time of
//! curve25519-dalek's `vartime_double_scalar_mul_basepoint` (14 against 28 µs).
//!
//! Why it is exact: the table holds `[j·256^i]P` as points, and the product is
//! the sum over the scalar's signed base-256 digits `dᵢ` of `[dᵢ·256^i]P`,
//! which is `[n]P` for the integer `n = Σ dᵢ·256^i` the scalar's bytes encode.
//! Point addition is the group law, so the result is the same group element as
//! any other way of computing `[n]P`, for any point, torsion included (a
//! variable-base multiplication of dalek also multiplies by the integer the
//! scalar's bytes encode). Variable time is fine: every input is public.

use curve25519_dalek_5::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek_5::edwards::EdwardsPoint;
use curve25519_dalek_5::scalar::Scalar;
use curve25519_dalek_5::traits::Identity;
use std::sync::OnceLock;

/// Base-256 digits of a scalar, signed into `[−128, 128)`: one per byte. A
/// scalar is below ℓ < 2^253, so its last byte is at most 0x10 and carries
/// nothing out.
const DIGITS: usize = 32;

/// Multiples per digit position: `[1·256^i]P` to `[128·256^i]P`.
const MULTIPLES: usize = 128;

/// A table's size: 32 × 128 points of 160 bytes, 640 KiB.
#[cfg(test)]
const TABLE_BYTES: usize = DIGITS * MULTIPLES * std::mem::size_of::<EdwardsPoint>();

/// `[j·256^i]P` for `i < 32`, `1 ≤ j ≤ 128`, at `i·128 + j − 1`.
pub struct FixedBase {
    multiples: Vec<EdwardsPoint>,
}

impl FixedBase {
    /// The table of `point`: about 4,300 point additions (about 1 ms).
    pub fn new(point: &EdwardsPoint) -> Self {
        let mut multiples = Vec::with_capacity(DIGITS * MULTIPLES);
        let mut base = *point;
        for _ in 0..DIGITS {
            let mut multiple = base;
            for _ in 0..MULTIPLES {
                multiples.push(multiple);
                multiple += base;
            }
            // `multiple` is now [129·256^i]P; the next row starts at [256^(i+1)]P.
            for _ in 0..8 {
                base = base + base;
            }
        }
        assert_eq!(multiples.len(), DIGITS * MULTIPLES, "a full table");
        FixedBase { multiples }
    }

    /// Adds `[n]P` to `sum`, `n` the integer the scalar's bytes encode.
    ///
    /// The multiples are added by reference: taken by value, each 160-byte
    /// point was copied out of the table first (3-4 % of a product in a
    /// scratch loop of 20,000 products).
    pub fn add_multiple(&self, sum: &mut EdwardsPoint, scalar: &Scalar) {
        for (position, digit) in signed_digits(scalar).into_iter().enumerate() {
            let row = position * MULTIPLES;
            match digit {
                0 => {}
                1.. => *sum += &self.multiples[row + digit as usize - 1],
                _ => *sum -= &self.multiples[row + digit.unsigned_abs() as usize - 1],
            }
        }
    }

    /// `[n]P`.
    pub fn mul(&self, scalar: &Scalar) -> EdwardsPoint {
        let mut sum = EdwardsPoint::identity();
        self.add_multiple(&mut sum, scalar);
        sum
    }
}

/// The base point's table, built once (about 1 ms) and kept for the process.
pub fn basepoint() -> &'static FixedBase {
    static TABLE: OnceLock<FixedBase> = OnceLock::new();
    TABLE.get_or_init(|| FixedBase::new(&ED25519_BASEPOINT_POINT))
}

/// `n = Σ dᵢ·256^i` with `dᵢ ∈ [−128, 128)`: a byte of 128 or more becomes
/// `byte − 256`, carrying one into the next.
fn signed_digits(scalar: &Scalar) -> [i16; DIGITS] {
    let mut digits = [0i16; DIGITS];
    let mut carry = 0i16;
    for (digit, &byte) in digits.iter_mut().zip(scalar.as_bytes()) {
        let value = i16::from(byte) + carry;
        carry = i16::from(value >= 128);
        *digit = value - (carry << 8);
    }
    // Every `Scalar` is reduced below ℓ (dalek's constructors reduce), so its
    // last byte is at most 0x10: nothing is left to carry.
    assert_eq!(
        carry, 0,
        "a scalar below ℓ carries nothing out of its last byte"
    );
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(seed: u64) -> Scalar {
        let mut wide = [0u8; 64];
        for (i, byte) in wide.iter_mut().enumerate() {
            *byte = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 57)) as u8 ^ i as u8;
        }
        Scalar::from_bytes_mod_order_wide(&wide)
    }

    /// Scalars at the edges of the digits: zero, one, every byte 127, 128 or
    /// 255 where a reduced scalar allows it, and ℓ − 1.
    fn edge_scalars() -> Vec<Scalar> {
        let mut edges = vec![Scalar::ZERO, Scalar::ONE, -Scalar::ONE];
        for byte in [0x7F, 0x80, 0xFF] {
            let mut bytes = [byte; 32];
            bytes[31] = 0x0F;
            edges.push(Scalar::from_canonical_bytes(bytes).expect("below ℓ"));
        }
        edges
    }

    /// The eight points of order dividing 8 (dalek's own list of them).
    fn torsion() -> Vec<EdwardsPoint> {
        let points = curve25519_dalek_5::constants::EIGHT_TORSION.to_vec();
        assert!(points.iter().all(|p| p.is_small_order()));
        let distinct: std::collections::BTreeSet<[u8; 32]> =
            points.iter().map(|p| p.compress().to_bytes()).collect();
        assert_eq!(distinct.len(), 8, "eight distinct points");
        points
    }

    /// The size the key cache's limits are stated in.
    #[test]
    fn a_table_takes_640_kib() {
        assert_eq!(TABLE_BYTES, 640 << 10);
        assert_eq!(
            FixedBase::new(&ED25519_BASEPOINT_POINT).multiples.len() * 160,
            TABLE_BYTES
        );
    }

    /// The digits give back the scalar's integer exactly (not only modulo
    /// ℓ: a key's torsion part sees the integer), and stay in range.
    #[test]
    fn signed_digits_sum_to_the_scalar() {
        for s in edge_scalars().into_iter().chain((0..200).map(scalar)) {
            let digits = signed_digits(&s);
            assert!(digits.iter().all(|d| (-128..128).contains(d)));
            let mut bytes = [0u8; 32];
            let mut carry = 0i32;
            for (byte, &digit) in bytes.iter_mut().zip(&digits) {
                let value = i32::from(digit) + carry;
                *byte = value.rem_euclid(256) as u8;
                carry = value.div_euclid(256);
            }
            assert_eq!((bytes, carry), (*s.as_bytes(), 0));
        }
    }

    /// `[k](−A) + [s]B` from two tables is dalek's double-base product, for
    /// keys of prime order and keys with a torsion component alike.
    #[test]
    fn tables_give_the_double_base_product() {
        let base = basepoint();
        for (i, t) in torsion().iter().enumerate() {
            let minus_a = -(EdwardsPoint::mul_base(&scalar(1000 + i as u64)) + t);
            let table = FixedBase::new(&minus_a);
            let scalars = edge_scalars().into_iter().chain((0..24).map(scalar));
            for (j, k) in scalars.enumerate() {
                let s = scalar(5000 + j as u64);
                let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
                let mut sum = table.mul(&k);
                base.add_multiple(&mut sum, &s);
                assert_eq!(sum, expected, "torsion {i}, scalar {j}");
            }
        }
    }
}
