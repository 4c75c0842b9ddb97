//! The ledger's vocabulary: ids, keys, transactions, blocks, and the one canonical
//! encoding and hashing scheme every validator uses for them.

mod block;
pub mod ed25519;
mod ed25519_keys;
mod ed25519_table;
pub mod encoding;
mod evidence;
pub mod hashing;
mod ids;
mod tx;

pub use block::{
    proposal_sign_bytes, signed_tx_hash, txs_hash, vote_sign_bytes, Block, BlockHeader, Commit,
    CommitSig, VoteKind,
};
pub use evidence::{Equivocation, Evidence, SignedProposalSide, SignedVoteSide};
pub use ids::{Bytes, Hash32, ParseIdError, PublicKey, Signature, SubjectId};
pub use tx::{
    Cosignature, EncumbranceKind, Founder, ObjectCategory, Payload, Quantity, SignedTx, Transaction,
};

/// A check of a signature over a transaction id: [`verify_signature`], or the
/// reference it is tested against.
pub type SignatureCheck = fn(&PublicKey, &Hash32, &Signature) -> bool;

/// Strict ed25519: the key must be a usable point, and the signature canonical
/// (exactly `verify_strict`'s set; see [`ed25519`]).
pub fn verify_signature(key: &PublicKey, hash: &Hash32, signature: &Signature) -> bool {
    ed25519::verify_strict(&key.0, &hash.0, &signature.0)
}

/// The same check through ed25519-dalek's `verify_strict` itself: the reference
/// [`verify_signature`] is tested against, and what the benchmark's one-core
/// limit verifies with (the limit as it was defined, before [`ed25519`]).
pub fn verify_signature_reference(key: &PublicKey, hash: &Hash32, signature: &Signature) -> bool {
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    let signature = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify_strict(&hash.0, &signature).is_ok()
}
