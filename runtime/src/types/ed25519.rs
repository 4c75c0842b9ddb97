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
//! and the compression in 4. This module keeps two of them off the hot path and
//! accepts the same set:
//! - `A`'s decompression (with its small-order check) is a pure function of its
//!   32 bytes, so it is kept in a bounded cache ([`KEYS_CACHED_MAX`]) keyed by
//!   them once the key has verified a signature: a known signer's key is not
//!   decompressed again. The challenge hashes `A`'s bytes as given, as dalek does.
//! - 4 is checked as the projective equality `[k](−A) + [s]B == decompress(R)`
//!   together with "`R`'s `y` is canonical" (`y < p`). The two checks are the same
//!   because compression is injective on points and always yields canonical
//!   bytes, and `compress(decompress(R))` gives back `R`'s bytes exactly when its
//!   `y < p` and not (`x = 0` with the sign bit set); `x = 0` only at `(0, ±1)`,
//!   which have small order and are refused by 3 already.
//!
//! `ed25519_tests` compares the two over valid signatures, every single-bit
//! corruption, scalars at and past `ℓ`, small-order and mixed-order keys and
//! nonces (`R` the identity encoded with the sign bit set among them), and
//! non-canonical encodings of `R` and `A`. A signature whose equation holds with
//! a non-canonical `R` would need the discrete log of a point with `y < 19`, so
//! [`matches_encoding`] is also tested on its own against the compression for
//! every non-canonical encoding that decompresses.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Signers' keys whose decompression is kept (only keys that have verified a
/// signature). Past this the cache is emptied and refilled: a stranger who signs
/// with many keys costs the node no more than it would without the cache, and no
/// memory beyond it.
pub const KEYS_CACHED_MAX: usize = 4096;

/// Usable keys (decompressed, not of small order) by their bytes, negated: the
/// verification equation uses `−A`.
fn keys() -> MutexGuard<'static, HashMap<[u8; 32], EdwardsPoint>> {
    static KEYS: OnceLock<Mutex<HashMap<[u8; 32], EdwardsPoint>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| Mutex::new(HashMap::with_capacity(KEYS_CACHED_MAX)));
    // The map holds only finished entries: a panic elsewhere leaves it usable.
    keys.lock().unwrap_or_else(|e| e.into_inner())
}

fn cached_minus_key(key: &[u8; 32]) -> Option<EdwardsPoint> {
    keys().get(key).copied()
}

/// `−A` for a key that decompresses and is not of small order; `None` otherwise.
fn usable_minus_key(key: &[u8; 32]) -> Option<EdwardsPoint> {
    let point = CompressedEdwardsY(*key).decompress()?;
    if point.is_small_order() {
        return None;
    }
    Some(-point)
}

/// Keeps a key that has just verified a signature: a stranger cannot fill the
/// cache with keys that sign nothing.
fn remember(key: &[u8; 32], minus_a: EdwardsPoint) {
    let mut keys = keys();
    if keys.len() >= KEYS_CACHED_MAX {
        keys.clear();
    }
    keys.insert(*key, minus_a);
}

/// Whether a compressed point's `y` (its low 255 bits) is below `p = 2^255 − 19`.
pub(crate) fn canonical_y(bytes: &[u8; 32]) -> bool {
    // y ≥ p only when the top 250 bits are all ones and the low byte ≥ 0xED.
    let top_ones = bytes[31] & 0x7F == 0x7F && bytes[1..31].iter().all(|&b| b == 0xFF);
    !(top_ones && bytes[0] >= 0xED)
}

/// The equation's last step: `recomputed` is `R` given as `r_bytes` (which
/// decompress to `r`). For an `r` not of small order this is exactly
/// `recomputed.compress() == r_bytes` (see the module docs).
pub(crate) fn matches_encoding(
    r_bytes: &[u8; 32],
    r: &EdwardsPoint,
    recomputed: &EdwardsPoint,
) -> bool {
    canonical_y(r_bytes) && recomputed == r
}

/// Accepts exactly what `VerifyingKey::from_bytes(key)?.verify_strict(message,
/// signature)` accepts (see the module docs for why).
pub fn verify_strict(key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let mut r_bytes = [0u8; 32];
    let mut s_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature[..32]);
    s_bytes.copy_from_slice(&signature[32..]);
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
        return false;
    };
    if r.is_small_order() {
        return false;
    }
    let cached = cached_minus_key(key);
    let Some(minus_a) = cached.or_else(|| usable_minus_key(key)) else {
        return false;
    };
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key)
            .chain_update(message),
    );
    let recomputed = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &minus_a, &s);
    let holds = matches_encoding(&r_bytes, &r, &recomputed);
    if holds && cached.is_none() {
        remember(key, minus_a);
    }
    holds
}

#[cfg(test)]
#[path = "ed25519_tests.rs"]
mod tests;
