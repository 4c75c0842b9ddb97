//! Ed25519 checks of transaction signatures: exactly the signatures
//! `ed25519_dalek::VerifyingKey::verify_strict` (2.2.0, without
//! `legacy_compatibility`) accepts, at less cost. A signature check is most of
//! what a transfer costs every node (issue 13's profiles), and every node checks
//! every transaction, so its cost bounds throughput on every path.
//!
//! `verify_strict` accepts key `A`, message `M` and signature `R ‖ s` exactly when:
//! 1. `s < ℓ` (a canonical scalar);
//! 2. `A` and `R` decompress to points;
//! 3. neither `R` nor `A` has small order;
//! 4. `compress([k](−A) + [s]B)` equals `R`'s bytes, with `k = SHA-512(R ‖ A ‖ M) mod ℓ`.
//!
//! Its three field exponentiations are `A`'s decompression, `R`'s decompression
//! and the compression in 4, and its largest cost the product in 4. This module
//! keeps all but a share of the third exponentiation off the hot path (for a
//! known signer), halves the product's cost for a signer that signs often, and
//! accepts the same set:
//! - `A`'s decompression (with its small-order check) is a pure function of its
//!   32 bytes, so it is kept in a bounded cache ([`KEYS_CACHED_MAX`]) keyed by
//!   them once the key has verified a signature: a known signer's key is not
//!   decompressed again (a key the cache lacks, once per batch; if enough of
//!   its signatures follow in the batch to earn a table, its first is
//!   compared at once, and if it holds the key is cached then and the others
//!   are checked with its table). A batch looks each key up once. The challenge hashes `A`'s bytes as given,
//!   as dalek does.
//! - `R` is never decompressed. With `P = [k](−A) + [s]B`, 2–4 for `R` are checked
//!   as "`compress(P)` equals `R`'s bytes, and `P` is not of small order": when
//!   the bytes are equal they are the canonical encoding of the point `P`, which
//!   decompresses to `P` itself, so `R` decompresses, and has small order exactly
//!   when `P` does; when they differ, 4 fails on both sides.
//! - The compressions of a whole batch share one field inversion
//!   ([`verify_strict_batch`], curve25519-dalek 5.0.0's
//!   `EdwardsPoint::compress_batch_alloc`): each `P` is a curve point (`A`
//!   decompressed, `B` the base point), so its projective `Z` is never zero and
//!   each compression is exact, whatever else is in the batch.
//! - For a key that signs often (see [`super::ed25519_keys`] for which, and the
//!   limits), `P` is summed from fixed-base tables of `−A` and `B` rather than
//!   by dalek's `vartime_double_scalar_mul_basepoint`: the same point, since
//!   both multiply by the integers the scalars' bytes encode
//!   ([`super::ed25519_table`]), so the same verdict.
//!
//! `ed25519_tests` compares this with dalek over valid signatures, every
//! single-bit corruption, scalars at and past `ℓ`, small-order and mixed-order
//! keys and nonces (`R` the identity encoded with the sign bit set among them),
//! and non-canonical encodings of `R` and `A`, one signature at a time and in
//! batches of every case together and of a few at a time, each case also with
//! tables (a cache that builds a key's table on its first look-up after it is
//! cached).

use super::ed25519_keys::{self as cache, KeyCache};
use super::ed25519_table::{basepoint, FixedBase};
use curve25519_dalek_5::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek_5::scalar::Scalar;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use super::ed25519_keys::KEYS_CACHED_MAX;

/// One signature to check: the signer's key, the message and the signature.
pub type SignatureCase<'a> = (&'a [u8; 32], &'a [u8], &'a [u8; 64]);

/// `−A` for a key that decompresses and is not of small order; `None` otherwise.
fn usable_minus_key(key: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*key).decompress()?;
    if point.is_small_order() {
        return None;
    }
    Some(-point)
}

/// `−A` and its table from the cache, counting `uses` look-ups (and building
/// the table if the key has just earned one), or `None` for a key the cache
/// lacks.
fn cached_minus_key(
    keys: &Mutex<KeyCache>,
    key: &[u8; 32],
    uses: u32,
) -> Option<(EdwardsPoint, Option<Arc<FixedBase>>)> {
    let found = cache::lock(keys).find(key, uses)?;
    if !found.build {
        return Some((found.minus_a, found.table));
    }
    // Outside the lock: about 1 ms.
    let table = Arc::new(FixedBase::new(&found.minus_a));
    cache::lock(keys).install(key, table.clone());
    Some((found.minus_a, Some(table)))
}

/// A signer's key as a batch uses it.
#[derive(Clone)]
enum BatchSigner {
    /// In the cache: `−A`, and its table if it has one.
    Known(EdwardsPoint, Option<Arc<FixedBase>>),
    /// Not in the cache: `−A` decompressed for this batch (`None`: not usable).
    Fresh(Option<EdwardsPoint>),
}

/// The keys of one batch, each looked up in the cache once for all of its
/// signatures in the batch that reach the product (those with a canonical
/// `s`): one lock per key, not per signature, and a batch of 256 or more
/// such signatures from one signer earns its table before they are checked.
/// Bounded by the batch.
struct BatchKeys {
    /// Signatures per key in the batch with a canonical `s`: each gets a
    /// product, so each look-up counted pays for its share of a build.
    counts: HashMap<[u8; 32], u32>,
    signers: HashMap<[u8; 32], BatchSigner>,
}

impl BatchKeys {
    fn new(cases: &[SignatureCase<'_>]) -> Self {
        let mut counts: HashMap<[u8; 32], u32> = HashMap::new();
        for (key, _, signature) in cases {
            if canonical_s(signature).is_some() {
                *counts.entry(**key).or_default() += 1;
            }
        }
        BatchKeys {
            counts,
            signers: HashMap::new(),
        }
    }

    /// Signatures of `key` in the batch that reach the product.
    fn count(&self, key: &[u8; 32]) -> u32 {
        let count = self.counts.get(key).copied();
        count.expect("a case that reaches the product was counted")
    }

    /// The key of a case, and whether the caller should compare this case at
    /// once ([`BatchKeys::first_checked`]): the key's first case in the batch,
    /// a key the cache lacks, with enough cases after it to earn a table. If it
    /// holds, the rest are checked as a known key's, with its table.
    fn signer(&mut self, keys: &Mutex<KeyCache>, key: &[u8; 32]) -> (BatchSigner, bool) {
        if let Some(signer) = self.signers.get(key) {
            return (signer.clone(), false);
        }
        let count = self.count(key);
        let signer = match cached_minus_key(keys, key, count) {
            Some((minus_a, table)) => BatchSigner::Known(minus_a, table),
            None => BatchSigner::Fresh(usable_minus_key(key)),
        };
        self.signers.insert(*key, signer.clone());
        // Its other cases, `count − 1`, must be enough to earn a table:
        // otherwise the comparison (a field inversion) would buy nothing.
        let probe = matches!(signer, BatchSigner::Fresh(Some(_)))
            && count > cache::lock(keys).table_after_uses();
        (signer, probe)
    }

    /// A new key's first case held: the key is cached, and the batch looks
    /// it up once more, as a known key, for its other cases (which earns it a
    /// table, unless every slot is held by a key looked up as often).
    fn first_checked(&mut self, keys: &Mutex<KeyCache>, key: &[u8; 32], minus_a: EdwardsPoint) {
        cache::lock(keys).remember(key, minus_a);
        let rest = self.count(key) - 1;
        assert!(rest > 0, "only a key with more cases is compared at once");
        if let Some((minus_a, table)) = cached_minus_key(keys, key, rest) {
            self.signers
                .insert(*key, BatchSigner::Known(minus_a, table));
        }
    }
}

/// `s` as a scalar, if canonical (1).
fn canonical_s(signature: &[u8; 64]) -> Option<Scalar> {
    let s_bytes: [u8; 32] = signature[32..].try_into().expect("a signature is 64 bytes");
    Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
}

/// A signature that passed 1 and `A`'s half of 2–3: `P = [k](−A) + [s]B`, which
/// 4 compares with `R`, and `−A` if the cache does not hold it yet.
struct Recomputed {
    point: EdwardsPoint,
    fresh_key: Option<EdwardsPoint>,
    /// `point` came from fixed-base tables.
    tabled: bool,
}

/// 2–4 for `R`, given `P` (see the module docs).
fn holds(point: &EdwardsPoint, compressed: &CompressedEdwardsY, signature: &[u8; 64]) -> bool {
    compressed.as_bytes()[..] == signature[..32] && !point.is_small_order()
}

/// Everything but the comparison with `R`; `None` if 1 or `A`'s checks fail.
fn recompute(
    keys: &Mutex<KeyCache>,
    (key, message, signature): SignatureCase<'_>,
    batch: &mut BatchKeys,
) -> Option<Recomputed> {
    let s = canonical_s(signature)?;
    let (signer, probe) = batch.signer(keys, key);
    let (minus_a, table, fresh) = match signer {
        BatchSigner::Known(minus_a, table) => (minus_a, table, false),
        BatchSigner::Fresh(minus_a) => (minus_a?, None, true),
    };
    let hash: [u8; 64] = Sha512::new()
        .chain_update(&signature[..32])
        .chain_update(key)
        .chain_update(message)
        .finalize()
        .into();
    let k = Scalar::from_bytes_mod_order_wide(&hash);
    let (point, tabled) = match table.as_deref() {
        // The same point (see `ed25519_table`), at about half the cost.
        Some(table) => {
            let mut point = table.mul(&k);
            basepoint().add_multiple(&mut point, &s);
            (point, true)
        }
        None => {
            let point = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
            (point, false)
        }
    };
    if probe && holds(&point, &point.compress(), signature) {
        batch.first_checked(keys, key, minus_a);
    }
    Some(Recomputed {
        point,
        fresh_key: fresh.then_some(minus_a),
        tabled,
    })
}

/// Accepts exactly what `VerifyingKey::from_bytes(key)?.verify_strict(message,
/// signature)` accepts (see the module docs for why).
pub fn verify_strict(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    verify_strict_batch(&[(key, message, signature)])[0]
}

/// [`verify_strict`] of each case, in order, with one field inversion for the
/// whole batch: each verdict is the one the case would get on its own.
pub fn verify_strict_batch(cases: &[SignatureCase<'_>]) -> Vec<bool> {
    verify_strict_batch_in(cache::global(), cases)
}

/// [`verify_strict_batch`] with the keys and tables of `keys`.
pub(super) fn verify_strict_batch_in(
    keys: &Mutex<KeyCache>,
    cases: &[SignatureCase<'_>],
) -> Vec<bool> {
    // Bounded by the batch: a key the cache lacks is decompressed once in it.
    let mut batch = BatchKeys::new(cases);
    let recomputed: Vec<Option<Recomputed>> = (cases.iter())
        .map(|&case| recompute(keys, case, &mut batch))
        .collect();
    let tabled = recomputed.iter().flatten().filter(|r| r.tabled).count();
    if tabled > 0 {
        cache::lock(keys).count_tabled(tabled);
    }
    // A refused case still takes a slot (the identity), so slots stay in order.
    let points: Vec<EdwardsPoint> = (recomputed.iter())
        .map(|r| r.as_ref().map_or_else(EdwardsPoint::default, |r| r.point))
        .collect();
    let compressed = EdwardsPoint::compress_batch_alloc(&points);
    assert_eq!(compressed.len(), cases.len(), "one compression per case");
    (cases.iter().zip(&recomputed).zip(&compressed))
        .map(|((&(key, _, signature), recomputed), compressed)| {
            let Some(recomputed) = recomputed else {
                return false;
            };
            let held = holds(&recomputed.point, compressed, signature);
            if let (true, Some(minus_a)) = (held, recomputed.fresh_key) {
                cache::lock(keys).remember(key, minus_a);
            }
            held
        })
        .collect()
}

#[cfg(test)]
#[path = "ed25519_tests.rs"]
mod tests;
