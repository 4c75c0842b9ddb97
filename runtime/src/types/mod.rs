//! The ledger's vocabulary: ids, keys, transactions, blocks, and the one canonical
//! encoding and hashing scheme every validator uses for them.

mod block;
pub mod encoding;
pub mod hashing;
mod ids;
mod tx;

pub use block::{txs_hash, Block, BlockHeader, Commit, CommitSig};
pub use ids::{Bytes, Hash32, PublicKey, Signature};
pub use tx::{
    Cosignature, EncumbranceKind, ObjectCategory, Payload, Quantity, SignedTx, Transaction,
};
