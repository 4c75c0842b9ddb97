//! The ledger's vocabulary: ids, keys, transactions, blocks, and the one canonical
//! encoding and hashing scheme every validator uses for them.

mod block;
pub mod encoding;
pub mod hashing;
mod ids;
mod tx;

pub use block::{
    proposal_sign_bytes, txs_hash, vote_sign_bytes, Block, BlockHeader, Commit, CommitSig, VoteKind,
};
pub use ids::{Bytes, Hash32, PublicKey, Signature};
pub use tx::{
    Cosignature, EncumbranceKind, ObjectCategory, Payload, Quantity, SignedTx, Transaction,
};
