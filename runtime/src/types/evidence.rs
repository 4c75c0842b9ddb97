//! Evidence of equivocation: one validator's two signatures on conflicting
//! consensus messages for the same height and round. Each side carries what the
//! validator signed and its signature, so anyone can check the evidence offline
//! with the validator's public key and the chain id, and nothing else.

use super::block::{proposal_sign_bytes, vote_sign_bytes, VoteKind};
use super::{Hash32, PublicKey, Signature};
use serde::{Deserialize, Serialize};

/// One signed vote: for a block, or nil (`None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SignedVoteSide {
    pub block: Option<Hash32>,
    pub signature: Signature,
}

/// One signed proposal of a block (with its proof-of-lock round, -1 for none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct SignedProposalSide {
    pub block: Hash32,
    pub pol_round: i64,
    pub signature: Signature,
}

/// What a validator signed twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Equivocation {
    /// Two different votes of one kind in one round.
    DoubleVote {
        kind: VoteKind,
        first: SignedVoteSide,
        second: SignedVoteSide,
    },
    /// Two different proposals in one round.
    DoubleProposal {
        first: SignedProposalSide,
        second: SignedProposalSide,
    },
}

/// Evidence against `validator` at (`height`, `round`), noted when the node
/// finalized height `seen_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Evidence {
    pub validator: PublicKey,
    pub height: u64,
    pub round: i64,
    pub seen_at: u64,
    pub equivocation: Equivocation,
}

impl Evidence {
    /// Whether both signatures verify under the validator's key on `chain_id`
    /// and the two messages really conflict.
    pub fn verify(&self, chain_id: &str) -> bool {
        let check = |hash: Hash32, signature: &Signature| {
            super::verify_signature(&self.validator, &hash, signature)
        };
        match &self.equivocation {
            Equivocation::DoubleVote {
                kind,
                first,
                second,
            } => {
                let bytes = |side: &SignedVoteSide| {
                    vote_sign_bytes(
                        chain_id,
                        *kind,
                        self.height,
                        self.round,
                        side.block.as_ref(),
                    )
                };
                first.block != second.block
                    && check(bytes(first), &first.signature)
                    && check(bytes(second), &second.signature)
            }
            Equivocation::DoubleProposal { first, second } => {
                let bytes = |side: &SignedProposalSide| {
                    proposal_sign_bytes(
                        chain_id,
                        self.height,
                        self.round,
                        side.pol_round,
                        &side.block,
                    )
                };
                (first.block, first.pol_round) != (second.block, second.pol_round)
                    && check(bytes(first), &first.signature)
                    && check(bytes(second), &second.signature)
            }
        }
    }
}
