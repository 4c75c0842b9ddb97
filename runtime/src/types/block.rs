//! Blocks and commits. The header carries the state root *after* its own
//! transactions, so a header plus its commit proves state.

use super::{encoding, hashing, Hash32, PublicKey, Signature, SignedTx};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: u64,
    /// Block time in milliseconds since the Unix epoch; strictly increasing.
    pub time_ms: u64,
    pub prev_hash: Hash32,
    /// Commitment to the ordered ids of the block's transactions.
    pub txs_hash: Hash32,
    /// Root of the authenticated state after this block's transactions.
    pub state_root: Hash32,
    pub proposer: PublicKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

/// One validator's signature over a decided block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSig {
    pub validator: PublicKey,
    pub signature: Signature,
}

/// The commit certificate: signatures of validators holding > 2/3 of the power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    pub height: u64,
    pub block_hash: Hash32,
    pub signatures: Vec<CommitSig>,
}

impl BlockHeader {
    pub fn hash(&self) -> Hash32 {
        hashing::hash(hashing::DOMAIN_BLOCK, &[&encoding::encode(self)])
    }
}

impl Commit {
    /// The bytes a validator signs to commit `block_hash` at `height`.
    pub fn sign_bytes(chain_id: &str, height: u64, block_hash: &Hash32) -> Hash32 {
        hashing::hash(
            hashing::DOMAIN_COMMIT,
            &[chain_id.as_bytes(), &height.to_le_bytes(), &block_hash.0],
        )
    }
}

/// Commitment to the ordered transaction ids of a block.
pub fn txs_hash(ids: impl Iterator<Item = Hash32>) -> Hash32 {
    let mut hasher = blake3::Hasher::new_derive_key(hashing::DOMAIN_TXS);
    for id in ids {
        hasher.update(&id.0);
    }
    Hash32(*hasher.finalize().as_bytes())
}
