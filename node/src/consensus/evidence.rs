//! Equivocation evidence, as Malachite reports it when a height is finalized:
//! both signed messages of each validator that signed two conflicting votes or
//! proposals in one round. Kept in the node's store under the height where it was
//! seen, served by `evidence_list` and beside that height's block in `block_get`,
//! and checkable offline by anyone ([`Evidence::verify`]).

use super::context::{TamgaContext, Vote};
use crate::app::App;
use arc_malachitebft_app_channel::app::types::MisbehaviorEvidence;
use arc_malachitebft_core_types::{NilOrVal, SignedMessage, VoteType};
use tamga_runtime::types::{Equivocation, Evidence, SignedProposalSide, SignedVoteSide, VoteKind};
use tamga_runtime::{Hash32, PublicKey, Signature};

fn vote_side(vote: &SignedMessage<TamgaContext, Vote>) -> SignedVoteSide {
    SignedVoteSide {
        block: match &vote.message.value {
            NilOrVal::Nil => None,
            NilOrVal::Val(id) => Some(Hash32(id.0)),
        },
        signature: Signature(vote.signature.0),
    }
}

/// Malachite's evidence in Tamga's form.
pub fn convert(seen_at: u64, evidence: &MisbehaviorEvidence<TamgaContext>) -> Vec<Evidence> {
    let mut out = Vec::new();
    for (address, pairs) in &evidence.votes {
        for (first, second) in pairs {
            let kind = match first.message.kind {
                VoteType::Prevote => VoteKind::Prevote,
                VoteType::Precommit => VoteKind::Precommit,
            };
            out.push(Evidence {
                validator: PublicKey(address.0),
                height: first.message.height.0,
                round: first.message.round.as_i64(),
                seen_at,
                equivocation: Equivocation::DoubleVote {
                    kind,
                    first: vote_side(first),
                    second: vote_side(second),
                },
            });
        }
    }
    for (address, pairs) in &evidence.proposals {
        for (first, second) in pairs {
            let side =
                |p: &SignedMessage<TamgaContext, super::context::Proposal>| SignedProposalSide {
                    block: Hash32(p.message.value.0),
                    pol_round: p.message.pol_round.as_i64(),
                    signature: Signature(p.signature.0),
                };
            out.push(Evidence {
                validator: PublicKey(address.0),
                height: first.message.height.0,
                round: first.message.round.as_i64(),
                seen_at,
                equivocation: Equivocation::DoubleProposal {
                    first: side(first),
                    second: side(second),
                },
            });
        }
    }
    out
}

/// Stores what Malachite reported at the finalization of `height`, if anything.
pub fn keep(
    app: &App,
    height: super::context::Height,
    evidence: &MisbehaviorEvidence<TamgaContext>,
) -> eyre::Result<()> {
    if evidence.is_empty() {
        return Ok(());
    }
    let items = convert(height.0, evidence);
    for item in &items {
        tracing::warn!(validator = %item.validator, height = item.height, round = item.round, "equivocation evidence kept");
    }
    app.storage.save_evidence(height.0, &items)?;
    Ok(())
}
