//! Taking decisions (Art. 35 p.3-4): a participant proposes, participants vote
//! with their shares, and the decision is carried out at the height its
//! threshold is reached, never before and never after its deadline. A
//! representative acts alone within its mandate; a governing contract
//! approves proposals instead of votes.

use super::actions::carry_out;
use super::error::CondoError;
use super::load_active;
use super::model::{Action, Condo, DecisionKind, Governance, Proposal, ProposalStatus};
use super::shares::{require_participant, weights};
use crate::execute::{ApplyError, TxContext};
use crate::limits::{
    CONDO_OPEN_PROPOSALS_MAX, CONDO_PROPOSALS_PER_PROPOSER_MAX, CONDO_WINDOW_BLOCKS_MAX,
};
use crate::records::Event;
use crate::state::{keys, Overlay, StateRead};
use crate::types::{Hash32, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

pub(super) fn propose(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    action: &Action,
    deadline_height: u64,
) -> Outcome {
    let mut condo = load_active(state, id)?;
    require_participant(state, &condo, &ctx.signer)?;
    let max_blocks = CONDO_WINDOW_BLOCKS_MAX;
    if deadline_height <= ctx.height || deadline_height - ctx.height > max_blocks {
        return Err(CondoError::BadDeadline {
            deadline_height,
            max_blocks,
        }
        .into());
    }
    if let Action::Admit { subject, .. } = action {
        if !ctx.approved_by(subject) {
            return Err(CondoError::AdmitteeSignatureMissing(*subject).into());
        }
    }
    super::actions::check(state, &condo, action)?;
    let proposers = prune_expired(state, &mut condo, ctx.height)?;
    let own = proposers.iter().filter(|p| **p == ctx.signer).count();
    if own >= CONDO_PROPOSALS_PER_PROPOSER_MAX {
        return Err(CondoError::TooManyOwnProposals(ctx.signer).into());
    }
    if condo.open_proposals.len() >= CONDO_OPEN_PROPOSALS_MAX {
        let max = CONDO_OPEN_PROPOSALS_MAX;
        return Err(CondoError::TooManyProposals { condo: *id, max }.into());
    }
    let number = condo.next_proposal;
    condo.next_proposal += 1;
    condo.open_proposals.push(number);
    let by_contract = matches!(condo.governance, Governance::Contract { .. });
    let proposal = Proposal {
        id: number,
        condo: *id,
        action: action.clone(),
        proposer: ctx.signer,
        opened_height: ctx.height,
        deadline_height,
        voters: if by_contract {
            vec![]
        } else {
            vec![ctx.signer]
        },
        status: ProposalStatus::Open,
    };
    let mut events = vec![Event::CondoProposed {
        condo: *id,
        proposal: number,
        by: ctx.signer,
    }];
    if by_contract {
        state.put(keys::condo_proposal(id, number), &proposal);
        state.put(keys::condo(id), &condo);
        return Ok(events);
    }
    events.extend(count(state, ctx, condo, proposal)?);
    Ok(events)
}

/// Drops from the open list the proposals whose deadline has passed; returns
/// the proposers of those still open.
fn prune_expired(
    state: &Overlay,
    condo: &mut Condo,
    height: u64,
) -> Result<Vec<SubjectId>, ApplyError> {
    let mut open = Vec::with_capacity(condo.open_proposals.len());
    let mut proposers = Vec::with_capacity(condo.open_proposals.len());
    for number in &condo.open_proposals {
        let proposal = load_proposal(state, &condo.id, *number)?;
        if proposal.deadline_height >= height {
            open.push(*number);
            proposers.push(proposal.proposer);
        }
    }
    condo.open_proposals = open;
    Ok(proposers)
}

pub(super) fn load_proposal(
    state: &dyn StateRead,
    condo: &Hash32,
    number: u64,
) -> Result<Proposal, ApplyError> {
    Ok(
        crate::state::get_typed(state, &keys::condo_proposal(condo, number))?.ok_or(
            CondoError::ProposalNotFound {
                condo: *condo,
                proposal: number,
            },
        )?,
    )
}

/// A proposal that can still be taken at `height`.
fn require_open(proposal: &Proposal, height: u64) -> Result<(), CondoError> {
    if let ProposalStatus::Executed { .. } = proposal.status {
        return Err(CondoError::ProposalExecuted(proposal.id));
    }
    if height > proposal.deadline_height {
        let deadline_height = proposal.deadline_height;
        return Err(CondoError::ProposalExpired {
            proposal: proposal.id,
            deadline_height,
        });
    }
    Ok(())
}

pub(super) fn vote(state: &mut Overlay, ctx: &TxContext, id: &Hash32, number: u64) -> Outcome {
    let condo = load_active(state, id)?;
    if let Governance::Contract { instance } = condo.governance {
        return Err(CondoError::DecidedByContract(instance).into());
    }
    let mut proposal = load_proposal(state, id, number)?;
    require_open(&proposal, ctx.height)?;
    require_participant(state, &condo, &ctx.signer)?;
    if !proposal.voters.contains(&ctx.signer) {
        proposal.voters.push(ctx.signer);
        return count(state, ctx, condo, proposal);
    }
    // A vote counts once. Voting again only re-counts: shares that changed hands
    // since (a voter bought more) may have carried the proposal over its threshold.
    let events = count(state, ctx, condo, proposal)?;
    if !events
        .iter()
        .any(|e| matches!(e, Event::CondoDecided { .. }))
    {
        return Err(CondoError::AlreadyVoted(ctx.signer).into());
    }
    Ok(events)
}

/// Tallies the voters' shares as they stand now; at the threshold, carries the
/// decision out in this same transaction.
fn count(
    state: &mut Overlay,
    ctx: &TxContext,
    mut condo: Condo,
    mut proposal: Proposal,
) -> Outcome {
    let thresholds = match &condo.governance {
        Governance::Voting { thresholds } | Governance::Representative { thresholds, .. } => {
            *thresholds
        }
        Governance::Contract { instance } => {
            unreachable!("contract {instance} decides; votes are refused before counting")
        }
    };
    let tally = tally(&weights(state, &condo)?, &proposal.voters);
    let mut events = vec![Event::CondoVoted {
        condo: condo.id,
        proposal: proposal.id,
        by: ctx.signer,
        tally,
    }];
    let threshold = thresholds.of(proposal.action.kind());
    if threshold.reached_by(tally, condo.denominator) {
        events.extend(execute(state, ctx, &mut condo, &mut proposal, ctx.signer)?);
    }
    state.put(keys::condo_proposal(&condo.id, proposal.id), &proposal);
    state.put(keys::condo(&condo.id), &condo);
    Ok(events)
}

/// The numerator of the shares `voters` hold now.
pub fn tally(weights: &[(SubjectId, u64)], voters: &[SubjectId]) -> u64 {
    weights
        .iter()
        .filter(|(who, _)| voters.contains(who))
        .map(|(_, n)| n)
        .sum()
}

fn execute(
    state: &mut Overlay,
    ctx: &TxContext,
    condo: &mut Condo,
    proposal: &mut Proposal,
    by: SubjectId,
) -> Outcome {
    let events = carry_out(state, ctx, condo, &proposal.action, Some(proposal.id), by)?;
    proposal.status = ProposalStatus::Executed { height: ctx.height };
    condo.open_proposals.retain(|n| *n != proposal.id);
    Ok(events)
}

/// The representative decides alone, within its mandate (Art. 35 p.4).
pub(super) fn act(state: &mut Overlay, ctx: &TxContext, id: &Hash32, action: &Action) -> Outcome {
    let mut condo = load_active(state, id)?;
    let Governance::Representative { mandate, .. } = &condo.governance else {
        return Err(CondoError::NotRepresentative(ctx.signer).into());
    };
    if mandate.representative != ctx.signer {
        return Err(CondoError::NotRepresentative(ctx.signer).into());
    }
    let kind: DecisionKind = action.kind();
    if action.counterparty() == Some(ctx.signer) {
        return Err(CondoError::SelfDealing.into());
    }
    // A termination gives up the whole object: only an unlimited mandate covers it.
    let within_value = match action {
        Action::Terminate { .. } => mandate.value_max == u64::MAX,
        _ => action.value() <= mandate.value_max,
    };
    if !mandate.kinds.contains(&kind) || !within_value {
        return Err(CondoError::OutsideMandate {
            kind,
            value: action.value(),
            kinds: mandate.kinds.clone(),
            value_max: mandate.value_max,
        }
        .into());
    }
    super::actions::check(state, &condo, action)?;
    let events = carry_out(state, ctx, &mut condo, action, None, ctx.signer)?;
    state.put(keys::condo(id), &condo);
    Ok(events)
}

/// A governing contract instance approved proposal `number` of the condominium
/// it governs (Art. 35 p.3: shared objects used "in accordance with the terms
/// set forth in ... a smart contract"): carried out now, if still open.
pub(crate) fn approve_by_contract(
    state: &mut Overlay,
    ctx: &TxContext,
    instance: &Hash32,
    condo_id: &Hash32,
    number: u64,
) -> Outcome {
    let mut condo = load_active(state, condo_id)?;
    if condo.governance
        != (Governance::Contract {
            instance: *instance,
        })
    {
        let (instance, condo) = (*instance, *condo_id);
        return Err(CondoError::NotGoverningInstance { instance, condo }.into());
    }
    let mut proposal = load_proposal(state, condo_id, number)?;
    require_open(&proposal, ctx.height)?;
    let by = crate::contracts::account_of(instance);
    let events = execute(state, ctx, &mut condo, &mut proposal, by)?;
    state.put(keys::condo_proposal(condo_id, number), &proposal);
    state.put(keys::condo(condo_id), &condo);
    Ok(events)
}
