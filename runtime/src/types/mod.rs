//! The ledger's vocabulary: ids, keys, transactions, blocks, and the one canonical
//! encoding and hashing scheme every validator uses for them.

mod block;
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
