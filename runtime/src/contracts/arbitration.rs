//! Disputes and rulings (Art. 67 p.3). A party opens a dispute: the instance
//! freezes — no calls, nothing it holds moves. Only a ruling signed by a quorum of
//! the named arbiters (or, past the deadline, by the appeal arbiter) unfreezes or
//! ends it. No code path closes a dispute without a human signature.

use super::custody::move_held;
use super::error::ContractError;
use super::model::{ArbitrationClause, Decision, Dispute, InstanceStatus};
use super::{load_contract, load_instance};
use crate::execute::{ApplyError, TxContext};
use crate::pki::Role;
use crate::records::Event;
use crate::state::{keys, Overlay};
use crate::types::{Hash32, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

pub fn dispute(state: &mut Overlay, ctx: &TxContext, id: &Hash32, reason: Hash32) -> Outcome {
    let mut instance = load_instance(state, id)?;
    super::custody::require_caller(state, &instance, &ctx.signer, ctx.height)?;
    super::custody::require_active(&instance)?;
    let contract = load_contract(state, &instance.contract)?;
    let deadline_height = ctx
        .height
        .saturating_add(contract.arbitration.deadline_blocks);
    let dispute = Dispute {
        opened_by: ctx.signer,
        reason,
        opened_height: ctx.height,
        deadline_height,
    };
    instance.status = InstanceStatus::Frozen(dispute);
    state.put(keys::instance(id), &instance);
    Ok(vec![Event::DisputeOpened {
        instance: *id,
        by: ctx.signer,
        reason,
        deadline_height,
    }])
}

/// Whether `arbiter` signed this ruling with a certificate carrying the arbiter
/// role (a key of theirs certified for something else does not decide disputes).
fn signed_as_arbiter(ctx: &TxContext, arbiter: &SubjectId) -> bool {
    ctx.approvals
        .iter()
        .any(|a| a.subject == *arbiter && a.has_role(Role::Arbiter))
}

/// The humans whose signatures decide now: the arbiters until the deadline; after
/// it, the appeal arbiter if one is named, else still the arbiters.
fn deciders(
    clause: &ArbitrationClause,
    dispute: &Dispute,
    ctx: &TxContext,
) -> Result<Vec<SubjectId>, ContractError> {
    let signed: Vec<SubjectId> = clause
        .arbiters
        .iter()
        .filter(|a| signed_as_arbiter(ctx, a))
        .copied()
        .collect();
    let past_deadline = ctx.height > dispute.deadline_height;
    match clause.appeal {
        Some(appeal) if past_deadline => {
            if signed_as_arbiter(ctx, &appeal) {
                Ok(vec![appeal])
            } else {
                Err(ContractError::DeadlinePassed {
                    deadline: dispute.deadline_height,
                })
            }
        }
        _ if signed.len() as u32 >= clause.quorum => Ok(signed),
        _ => Err(ContractError::QuorumNotMet {
            quorum: clause.quorum,
            got: signed.len() as u32,
        }),
    }
}

pub fn rule(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    decision: &Decision,
    decision_text: Hash32,
) -> Outcome {
    let mut instance = load_instance(state, id)?;
    let InstanceStatus::Frozen(dispute) = instance.status.clone() else {
        return Err(ContractError::NoDispute(*id).into());
    };
    let contract = load_contract(state, &instance.contract)?;
    let arbiters = deciders(&contract.arbitration, &dispute, ctx)?;
    let (directions, terminated) = match decision {
        Decision::Resume => (&[][..], false),
        Decision::Transfer(directions) => (directions.as_slice(), false),
        Decision::Terminate(directions) => (directions.as_slice(), true),
    };
    let mut events = move_held(state, ctx, &mut instance, directions)?;
    // A terminated instance can never move anything again: it must hold nothing.
    if terminated && !instance.holdings.is_empty() {
        return Err(ContractError::HoldingsLeft {
            instance: *id,
            records: instance.holdings.len(),
        }
        .into());
    }
    instance.status = if terminated {
        InstanceStatus::Terminated
    } else {
        InstanceStatus::Active
    };
    state.put(keys::instance(id), &instance);
    events.push(Event::Ruled {
        instance: *id,
        decision_text,
        arbiters,
        terminated,
    });
    Ok(events)
}
