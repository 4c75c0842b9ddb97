//! Blocks and commits. The header carries the state root *after* its own
//! transactions, so a header plus its commit proves state.

use super::{encoding, hashing, Hash32, PublicKey, Signature, SignedTx};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: u64,
    /// Block time in milliseconds since the Unix epoch; strictly increasing.
    pub time_ms: u64,
    pub prev_hash: Hash32,
    /// Commitment to the block's transactions in order, each in full: payload,
    /// signature and co-signatures. So the certified block id binds every byte a
    /// block carries, and no relay can add or strip a consent unnoticed.
    pub txs_hash: Hash32,
    /// Root of the authenticated state after this block's transactions.
    pub state_root: Hash32,
    pub proposer: PublicKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Block {
    pub header: BlockHeader,
    pub txs: Vec<SignedTx>,
}

/// One validator's signature over a decided block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct CommitSig {
    pub validator: PublicKey,
    pub signature: Signature,
}

/// The commit certificate: precommit signatures, for `block_hash` in `round`, of
/// validators holding > 2/3 of the power.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Commit {
    pub height: u64,
    pub round: u32,
    pub block_hash: Hash32,
    pub signatures: Vec<CommitSig>,
}

/// The two votes of a Tendermint round.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum VoteKind {
    Prevote,
    Precommit,
}

impl BlockHeader {
    pub fn hash(&self) -> Hash32 {
        hashing::hash(&hashing::DOMAIN_BLOCK, &[&encoding::encode(self)])
    }
}

/// The bytes a validator signs for a vote; `block` is `None` for a nil vote and
/// `round` is `-1` for none. Chain id first: a vote never replays on another chain.
pub fn vote_sign_bytes(
    chain_id: &str,
    kind: VoteKind,
    height: u64,
    round: i64,
    block: Option<&Hash32>,
) -> Hash32 {
    let kind_tag: &[u8] = match kind {
        VoteKind::Prevote => b"prevote",
        VoteKind::Precommit => b"precommit",
    };
    let block: &[u8] = block.map_or(&[], |hash| &hash.0);
    hashing::hash(
        &hashing::DOMAIN_VOTE,
        &[
            chain_id.as_bytes(),
            kind_tag,
            &height.to_le_bytes(),
            &round.to_le_bytes(),
            block,
        ],
    )
}

/// The bytes a proposer signs for proposing `block` at `height`/`round`.
pub fn proposal_sign_bytes(
    chain_id: &str,
    height: u64,
    round: i64,
    pol_round: i64,
    block: &Hash32,
) -> Hash32 {
    hashing::hash(
        &hashing::DOMAIN_PROPOSAL,
        &[
            chain_id.as_bytes(),
            &height.to_le_bytes(),
            &round.to_le_bytes(),
            &pol_round.to_le_bytes(),
            &block.0,
        ],
    )
}

impl Commit {
    /// The bytes each validator signed: its precommit for `block_hash`.
    pub fn sign_bytes(chain_id: &str, height: u64, round: u32, block_hash: &Hash32) -> Hash32 {
        vote_sign_bytes(
            chain_id,
            VoteKind::Precommit,
            height,
            i64::from(round),
            Some(block_hash),
        )
    }
}

/// Hash of one transaction exactly as signed and carried: unlike its id (the
/// signing hash), it changes when any signature or co-signature changes.
pub fn signed_tx_hash(tx: &SignedTx) -> Hash32 {
    hashing::hash(&hashing::DOMAIN_SIGNED_TX, &[&encoding::encode(tx)])
}

/// Commitment to a block's transactions, in order, signatures included.
pub fn txs_hash<'a>(txs: impl IntoIterator<Item = &'a SignedTx>) -> Hash32 {
    let mut hasher = hashing::DOMAIN_TXS.hasher();
    for tx in txs {
        hasher.update(&signed_tx_hash(tx).0);
    }
    Hash32(*hasher.finalize().as_bytes())
}
