//! Digital condominiums (Art. 35): joint ownership of distributed digital objects.
//! Each participant's share is a title record of its own (p.5); individual objects
//! stay with their participants and shared objects belong to the condominium's
//! own account (p.2); shared objects are disposed of only by a decision taken
//! under the agreement or a smart contract (p.3), directly or through a
//! representative (p.4).

#[cfg(feature = "execution")]
mod actions;
#[cfg(feature = "execution")]
mod create;
#[cfg(feature = "execution")]
mod decide;
mod error;
mod model;
#[cfg(feature = "execution")]
mod shares;

#[cfg(feature = "execution")]
pub(crate) use decide::approve_by_contract;
pub use error::CondoError;
pub use model::{
    account_of, Action, Allotment, Condo, CondoStatus, DecisionKind, Fraction, Governance, Mandate,
    Offer, Proposal, ProposalStatus, Thresholds,
};
// Read helpers for the node's views (RPC, `tx show`): no rule depends on these exports.
#[cfg(feature = "execution")]
pub use create::agreement_hash;
#[cfg(feature = "execution")]
pub use decide::tally;
#[cfg(feature = "execution")]
pub use shares::{governed_view, share_records, weights, GovernedView};

#[cfg(feature = "execution")]
use crate::execute::{ApplyError, TxContext};
#[cfg(feature = "execution")]
use crate::records::Event;
#[cfg(feature = "execution")]
use crate::state::{keys, Overlay, StateRead};
#[cfg(feature = "execution")]
use crate::types::Hash32;
use crate::types::Payload;

/// Whether `payload` is a condominium operation.
pub fn handles(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::CondoCreate { .. }
            | Payload::CondoAttach { .. }
            | Payload::CondoPropose { .. }
            | Payload::CondoVote { .. }
            | Payload::CondoAct { .. }
            | Payload::CondoOffer { .. }
            | Payload::CondoTake { .. }
    )
}

#[cfg(feature = "execution")]
pub fn apply(
    state: &mut Overlay,
    ctx: &TxContext,
    payload: &Payload,
) -> Result<Vec<Event>, ApplyError> {
    match payload {
        Payload::CondoCreate {
            agreement,
            denominator,
            participants,
            governance,
            preemption_blocks,
        } => {
            let founding = create::Founding {
                agreement,
                denominator: *denominator,
                participants,
                governance,
                preemption_blocks: *preemption_blocks,
            };
            create::create(state, ctx, founding)
        }
        Payload::CondoAttach {
            condo,
            record,
            shared,
        } => create::attach(state, ctx, condo, record, *shared),
        Payload::CondoPropose {
            condo,
            action,
            deadline_height,
        } => decide::propose(state, ctx, condo, action, *deadline_height),
        Payload::CondoVote { condo, proposal } => decide::vote(state, ctx, condo, *proposal),
        Payload::CondoAct { condo, action } => decide::act(state, ctx, condo, action),
        Payload::CondoOffer {
            condo,
            record,
            numerator,
            terms,
            open_blocks,
        } => {
            let offer = shares::OfferRequest {
                record: *record,
                numerator: *numerator,
                terms,
                open_blocks: *open_blocks,
            };
            shares::offer(state, ctx, condo, offer)
        }
        Payload::CondoTake { condo, offer } => shares::take(state, ctx, condo, *offer),
        other => unreachable!("execute::apply_tx sends {other:?} to its own module"),
    }
}

/// Loads a condominium that is not dissolved.
#[cfg(feature = "execution")]
fn load_active(state: &dyn StateRead, id: &Hash32) -> Result<Condo, ApplyError> {
    let condo: Condo =
        crate::state::get_typed(state, &keys::condo(id))?.ok_or(CondoError::NotFound(*id))?;
    if condo.status != CondoStatus::Active {
        return Err(CondoError::Dissolved(*id).into());
    }
    Ok(condo)
}

#[cfg(feature = "execution")]
fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), CondoError> {
    if text.trim().is_empty() {
        return Err(CondoError::TextEmpty { field });
    }
    if text.len() > max {
        let len = text.len();
        return Err(CondoError::TextTooLong { field, len, max });
    }
    Ok(())
}
