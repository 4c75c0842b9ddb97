//! `verify_strict` here against ed25519-dalek's own, case by case: they must
//! agree on every input, accepted and refused, one at a time and in batches.
//! The cases are built with the curve ed25519-dalek uses (4.1.3).

use super::*;
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT as B;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// ed25519-dalek's strict check: the reference.
fn dalek(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(key) else {
        return false;
    };
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(message, &signature).is_ok()
}

/// The two entry points the ledger uses agree on a 32-byte message (a tx id).
#[test]
fn the_ledger_entry_points_agree() {
    use crate::types::{verify_signature, verify_signature_reference, Hash32, PublicKey};
    let secret = SigningKey::from_bytes(&[5; 32]);
    let key = PublicKey(secret.verifying_key().to_bytes());
    let hash = Hash32([9; 32]);
    let good = crate::types::Signature(secret.sign(&hash.0).to_bytes());
    let mut bad = good;
    bad.0[40] ^= 1;
    for signature in [&good, &bad] {
        let expected = verify_signature_reference(&key, &hash, signature);
        assert_eq!(verify_signature(&key, &hash, signature), expected);
    }
    assert!(verify_signature(&key, &hash, &good));
}

/// A case as [`Tally`] keeps it: key, message, signature and dalek's verdict.
type Case = ([u8; 32], Vec<u8>, [u8; 64], bool);

/// What the comparison saw: how many cases each side accepted, and every case
/// with dalek's verdict, for [`Tally::compare_batches`]; and a key cache of its
/// own that builds a fixed-base table for a key on its first look-up (the
/// check after the one that cached it), so each case is also checked with
/// tables.
struct Tally {
    accepted: usize,
    refused: usize,
    cases: Vec<Case>,
    tabled: Mutex<KeyCache>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            accepted: 0,
            refused: 0,
            cases: vec![],
            tabled: Mutex::new(KeyCache::new(4, 1)),
        }
    }
}

impl Tally {
    fn compare(&mut self, what: &str, key: &[u8; 32], message: &[u8], signature: &[u8; 64]) {
        let expected = dalek(key, message, signature);
        // Twice: the second answer comes from the key cache.
        for round in 0..2 {
            assert_eq!(
                verify_strict(key, message, signature),
                expected,
                "{what}, round {round}: key {}, signature {}",
                hex::encode(key),
                hex::encode(signature)
            );
        }
        // Thrice: for a key not yet cached, the check that caches it, then the
        // look-up that builds its table and uses it, then the table kept.
        for round in 0..3 {
            assert_eq!(
                verify_strict_batch_in(&self.tabled, &[(key, message, signature)]),
                [expected],
                "{what}, with tables, round {round}: key {}, signature {}",
                hex::encode(key),
                hex::encode(signature)
            );
        }
        match expected {
            true => self.accepted += 1,
            false => self.refused += 1,
        }
        (self.cases).push((*key, message.to_vec(), *signature, expected));
    }

    /// Every case seen, checked again in batches: all of them together, then a
    /// few at a time (so accepted and refused cases share batches), each verdict
    /// dalek's.
    fn compare_batches(&self) {
        let tabled_before = cache::lock(&self.tabled).tabled_checks();
        for size in [self.cases.len().max(1), 3] {
            for chunk in self.cases.chunks(size) {
                let cases: Vec<SignatureCase<'_>> = (chunk.iter())
                    .map(|(key, message, signature, _)| (key, message.as_slice(), signature))
                    .collect();
                let expected: Vec<bool> = chunk.iter().map(|case| case.3).collect();
                assert_eq!(verify_strict_batch(&cases), expected, "batches of {size}");
                let tabled = verify_strict_batch_in(&self.tabled, &cases);
                assert_eq!(tabled, expected, "batches of {size}, with tables");
            }
        }
        if self.cases.iter().any(|case| case.3) {
            let tabled = cache::lock(&self.tabled).tabled_checks() - tabled_before;
            assert!(tabled > 0, "a key that verified was checked with its table");
        }
    }
}

/// The eight points of order dividing 8, from an order-8 point's multiples.
fn torsion() -> Vec<EdwardsPoint> {
    let bytes: [u8; 32] =
        hex::decode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
            .unwrap()
            .try_into()
            .unwrap();
    let t8 = CompressedEdwardsY(bytes).decompress().expect("a point");
    let points: Vec<EdwardsPoint> = (0u8..8).map(|i| t8 * Scalar::from(i)).collect();
    assert!(points.iter().all(|p| p.is_small_order()));
    let distinct: std::collections::BTreeSet<[u8; 32]> =
        points.iter().map(|p| p.compress().to_bytes()).collect();
    assert_eq!(distinct.len(), 8, "an order-8 point");
    points
}

/// `k = SHA-512(R ‖ A ‖ M) mod ℓ`, as both sides compute it.
fn challenge(r: &[u8; 32], key: &[u8; 32], message: &[u8]) -> Scalar {
    Scalar::from_hash(
        Sha512::new()
            .chain_update(r)
            .chain_update(key)
            .chain_update(message),
    )
}

fn signature_of(r: &[u8; 32], s: &[u8; 32]) -> [u8; 64] {
    let mut signature = [0u8; 64];
    signature[..32].copy_from_slice(r);
    signature[32..].copy_from_slice(s);
    signature
}

/// `s + ℓ` as 32 little-endian bytes (it fits: s < ℓ < 2^253).
fn plus_l(s: &[u8; 32]) -> [u8; 32] {
    // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
    let order: [u8; 32] =
        hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap()
            .try_into()
            .unwrap();
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = s[i] as u16 + order[i] as u16 + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

#[test]
fn valid_signatures_and_every_single_bit_corruption_agree() {
    let mut tally = Tally::default();
    for seed in 0u8..12 {
        let secret = SigningKey::from_bytes(&[seed; 32]);
        let key = secret.verifying_key().to_bytes();
        let message = [seed.wrapping_mul(7); 32];
        let signature = secret.sign(&message).to_bytes();
        tally.compare("valid", &key, &message, &signature);
        for bit in 0..512 {
            let mut bad = signature;
            bad[bit / 8] ^= 1 << (bit % 8);
            tally.compare("signature bit flipped", &key, &message, &bad);
        }
        for bit in (0..256).step_by(3) {
            let mut other = key;
            other[bit / 8] ^= 1 << (bit % 8);
            tally.compare("key bit flipped", &other, &message, &signature);
            let mut changed = message;
            changed[bit / 8] ^= 1 << (bit % 8);
            tally.compare("message bit flipped", &key, &changed, &signature);
        }
        let s: [u8; 32] = signature[32..].try_into().unwrap();
        let r: [u8; 32] = signature[..32].try_into().unwrap();
        tally.compare("s + l", &key, &message, &signature_of(&r, &plus_l(&s)));
    }
    tally.compare_batches();
    assert_eq!(tally.accepted, 12, "exactly the 12 valid signatures pass");
    assert!(tally.refused > 12 * 600);
}

/// Signatures whose equation holds but which `verify_strict` refuses for their
/// form: small-order `R` or `A`, and mixed-order keys (accepted when the torsion
/// part cancels, as the cofactorless equation says).
#[test]
fn small_and_mixed_order_points_agree() {
    let mut tally = Tally::default();
    let mut mixed = Tally::default();
    let torsion = torsion();
    for seed in 1u8..9 {
        let secret = SigningKey::from_bytes(&[seed; 32]);
        let a = secret.to_scalar();
        let key = secret.verifying_key().to_bytes();
        for (i, t) in torsion.iter().enumerate() {
            let message = [seed, i as u8];
            // R of small order with s = k·a: [s]B − [k]A = identity, and R = identity
            // (i = 0) satisfies the equation; only the small-order check refuses it.
            let r = t.compress().to_bytes();
            let s = (challenge(&r, &key, &message) * a).to_bytes();
            tally.compare("small-order R", &key, &message, &signature_of(&r, &s));
            // A of small order with R = [x]B, s = x: the equation holds.
            let small_key = t.compress().to_bytes();
            let x = Scalar::from(u64::from(seed) * 1000 + i as u64);
            let r = (B * x).compress().to_bytes();
            tally.compare(
                "small-order A",
                &small_key,
                &message,
                &signature_of(&r, &x.to_bytes()),
            );
            // A + T signed with a: valid under the cofactorless equation when [k]T = 0.
            let mixed_key = (B * a + t).compress().to_bytes();
            for nonce in 0u64..8 {
                let x = Scalar::from(u64::from(seed) * 100 + nonce + 1);
                let r = (B * x).compress().to_bytes();
                let message = [seed, i as u8, nonce as u8];
                let s = (x + challenge(&r, &mixed_key, &message) * a).to_bytes();
                let counted = if i == 0 { &mut tally } else { &mut mixed };
                counted.compare("mixed-order A", &mixed_key, &message, &signature_of(&r, &s));
                // R + T: mixed-order nonce.
                let r_mixed = (B * x + t).compress().to_bytes();
                let s = (x + challenge(&r_mixed, &key, &message) * a).to_bytes();
                tally.compare("mixed-order R", &key, &message, &signature_of(&r_mixed, &s));
            }
        }
        // (0, 1) and (0, −1) with the sign bit set: they decompress, the first
        // satisfies the equation with s = k·a, and only "small order" refuses both.
        for r in [x_zero_with_sign(1), x_zero_with_sign(-1)] {
            let message = [seed, 0xEE];
            let s = (challenge(&r, &key, &message) * a).to_bytes();
            tally.compare("x = 0 R, sign set", &key, &message, &signature_of(&r, &s));
        }
    }
    tally.compare_batches();
    mixed.compare_batches();
    assert!(
        mixed.accepted > 0 && mixed.refused > 0,
        "a key with a torsion part verifies exactly when [k]T = 0: {} held, {} did not",
        mixed.accepted,
        mixed.refused
    );
    assert!(tally.refused > 8 * 8, "small-order cases are refused");
}

/// `(0, y)` for `y = ±1`, encoded with the sign bit set (non-canonical: `x = 0`).
fn x_zero_with_sign(y: i8) -> [u8; 32] {
    let mut bytes = match y {
        1 => Scalar::ONE.to_bytes(),
        _ => {
            let mut minus_one = [0xFF; 32];
            minus_one[0] = 0xEC;
            minus_one[31] = 0x7F;
            minus_one
        }
    };
    bytes[31] |= 0x80;
    assert!(CompressedEdwardsY(bytes).decompress().is_some());
    bytes
}

/// Every encoding with `y ≥ p` (`y = p + j`, both signs) that decompresses.
fn non_canonical_y() -> Vec<[u8; 32]> {
    let mut found = Vec::new();
    for low in 0xEDu8..=0xFF {
        for sign in [0u8, 0x80] {
            let mut bytes = [0xFF; 32];
            bytes[0] = low;
            bytes[31] = 0x7F | sign;
            if CompressedEdwardsY(bytes).decompress().is_some() {
                found.push(bytes);
            }
        }
    }
    found
}

/// Non-canonical encodings of `R` and of `A`, and scalars at and past `ℓ`: both
/// sides refuse them (dalek's compression never yields a non-canonical `R`).
#[test]
fn non_canonical_encodings_and_scalars_agree() {
    let mut tally = Tally::default();
    let secret = SigningKey::from_bytes(&[77; 32]);
    let a = secret.to_scalar();
    let key = secret.verifying_key().to_bytes();
    let message = b"encodings";
    let signature = secret.sign(message).to_bytes();
    let mut odd_encodings = non_canonical_y();
    odd_encodings.extend([x_zero_with_sign(1), x_zero_with_sign(-1)]);
    assert!(odd_encodings.len() > 4);
    for bytes in &odd_encodings {
        let s = (challenge(bytes, &key, message) * a).to_bytes();
        tally.compare("non-canonical R", &key, message, &signature_of(bytes, &s));
        tally.compare("non-canonical A", bytes, message, &signature);
    }
    let r: [u8; 32] = signature[..32].try_into().unwrap();
    let s: [u8; 32] = signature[32..].try_into().unwrap();
    let order = plus_l(&[0; 32]);
    let mut order_minus_one = order;
    order_minus_one[0] -= 1;
    let mut high_bit = s;
    high_bit[31] |= 0x80;
    let mut two_252 = [0u8; 32];
    two_252[31] = 0x10;
    for scalar in [order, order_minus_one, high_bit, two_252, [0xFF; 32]] {
        tally.compare("edge scalar", &key, message, &signature_of(&r, &scalar));
    }
    tally.compare("valid", &key, message, &signature);
    tally.compare_batches();
    assert_eq!(tally.accepted, 1, "only the valid signature passes");
}

/// One batch holding keys the cache lacks several times each, signatures
/// valid and forged between them, and a key that is not a point: each verdict
/// is dalek's (a fresh key is decompressed once for the batch).
#[test]
fn a_batch_repeating_keys_the_cache_lacks_agrees() {
    let mut tally = Tally::default();
    let signers: Vec<SigningKey> = (0u8..3)
        .map(|i| SigningKey::from_bytes(&[0xA0 + i; 32]))
        .collect();
    let mut not_a_point = [0xFF; 32];
    not_a_point[31] = 0x7F;
    not_a_point[0] = 0xEC - 2;
    for n in 0u8..24 {
        let signer = &signers[usize::from(n) % signers.len()];
        let key = signer.verifying_key().to_bytes();
        let message = [n; 32];
        let mut signature = signer.sign(&message).to_bytes();
        if n % 4 == 1 {
            signature[n as usize % 32] ^= 0x10;
        }
        tally.cases.push((
            key,
            message.to_vec(),
            signature,
            dalek(&key, &message, &signature),
        ));
        let refused = dalek(&not_a_point, &message, &signature);
        (tally.cases).push((not_a_point, message.to_vec(), signature, refused));
    }
    let verdicts: Vec<bool> = tally.cases.iter().map(|case| case.3).collect();
    assert!(verdicts.contains(&true) && verdicts.contains(&false));
    tally.compare_batches();
}

/// Many signers' keys empty the cache; verification still agrees. A key whose
/// signature fails is not kept.
#[test]
fn the_key_cache_stays_bounded_and_exact() {
    let secret = SigningKey::from_bytes(&[42; 32]);
    let key = secret.verifying_key().to_bytes();
    let signature = secret.sign(b"kept").to_bytes();
    let stranger = SigningKey::from_bytes(&[43; 32]).verifying_key().to_bytes();
    assert!(!verify_strict(&stranger, b"kept", &signature));
    let known = |key: &[u8; 32]| cache::lock(cache::global()).contains(key);
    assert!(!known(&stranger), "a failed key is not kept");
    for i in 0..(KEYS_CACHED_MAX as u32 + 10) {
        let other = SigningKey::from_bytes(&{
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            seed
        });
        let other_key = other.verifying_key().to_bytes();
        assert!(verify_strict(
            &other_key,
            b"kept",
            &other.sign(b"kept").to_bytes()
        ));
        assert!(!verify_strict(&other_key, b"kept", &signature));
        assert!(cache::lock(cache::global()).len() <= KEYS_CACHED_MAX);
    }
    assert!(verify_strict(&key, b"kept", &signature));
}
