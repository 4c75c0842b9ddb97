//! Carrying a decision out. The condominium acts through its own account, with
//! the executing transaction's signers alongside (so a pledgee of a shared object
//! can consent by co-signing), under the same record rules as anyone: a lease or
//! pledge is an encumbrance, a sale a transfer, a termination a termination.

use super::check_text;
use super::error::CondoError;
use super::model::{Action, Allotment, Condo, CondoStatus};
use super::shares::{mint, share_records, weights};
use crate::execute::{ApplyError, TxContext};
use crate::limits::{AGREEMENT_BYTES_MAX, CONDO_DENOMINATOR_MAX, TEXT_BYTES_MAX};
use crate::pki::{self, Approval};
use crate::records::{self, Event, RecordStatus};
use crate::state::{keys, Overlay, StateRead};
use crate::types::{hashing, EncumbranceKind, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

/// What can be checked before the decision is taken: the object is shared, the
/// texts fit, an admission or a dissolution makes sense.
pub(super) fn check(
    state: &dyn StateRead,
    condo: &Condo,
    action: &Action,
) -> Result<(), ApplyError> {
    if let Some(object) = action.object() {
        if !condo.shared.contains(&object) {
            return Err(CondoError::NotShared(object).into());
        }
    }
    if let Some(who) = action.counterparty() {
        pki::require_subject(state, &who)?;
    }
    match action {
        Action::Use { terms, .. } => check_text("terms", terms, TEXT_BYTES_MAX)?,
        Action::ChangeAgreement { agreement } => {
            check_text("agreement", agreement, AGREEMENT_BYTES_MAX)?
        }
        Action::Admit { subject, numerator } => check_admit(state, condo, subject, *numerator)?,
        Action::Dissolve { distribution } => check_distribution(state, condo, distribution)?,
        Action::Lease { .. }
        | Action::Pledge { .. }
        | Action::Sell { .. }
        | Action::Terminate { .. } => {}
    }
    Ok(())
}

fn check_admit(
    state: &dyn StateRead,
    condo: &Condo,
    subject: &SubjectId,
    numerator: u64,
) -> Result<(), ApplyError> {
    pki::require_subject(state, subject)?;
    if weights(state, condo)?.iter().any(|(who, _)| who == subject) {
        return Err(CondoError::AlreadyParticipant(*subject).into());
    }
    if numerator == 0 {
        return Err(CondoError::ZeroShare(*subject).into());
    }
    if condo.denominator.saturating_add(numerator) > CONDO_DENOMINATOR_MAX {
        return Err(CondoError::DenominatorTooLarge {
            max: CONDO_DENOMINATOR_MAX,
        }
        .into());
    }
    Ok(())
}

/// Every shared object allotted exactly once, each to a participant.
fn check_distribution(
    state: &dyn StateRead,
    condo: &Condo,
    distribution: &[Allotment],
) -> Result<(), ApplyError> {
    let participants = weights(state, condo)?;
    for (index, allotment) in distribution.iter().enumerate() {
        let repeated = distribution[..index]
            .iter()
            .any(|a| a.object == allotment.object);
        if repeated || !condo.shared.contains(&allotment.object) {
            return Err(CondoError::BadDistribution(allotment.object).into());
        }
        if !participants.iter().any(|(who, _)| *who == allotment.to) {
            return Err(CondoError::NotParticipant(allotment.to).into());
        }
    }
    if let Some(missing) = condo
        .shared
        .iter()
        .find(|s| !distribution.iter().any(|a| a.object == **s))
    {
        return Err(CondoError::BadDistribution(*missing).into());
    }
    Ok(())
}

/// Carries out `action` now, as the condominium's own act.
pub(super) fn carry_out(
    state: &mut Overlay,
    ctx: &TxContext,
    condo: &mut Condo,
    action: &Action,
    proposal: Option<u64>,
    by: SubjectId,
) -> Outcome {
    check(state, condo, action)?;
    let as_condo = acting_as(ctx, condo, 0);
    let mut events = match action {
        Action::Use { .. } => vec![],
        Action::Lease {
            object,
            lessee,
            document,
            ..
        } => {
            let kind = EncumbranceKind::Lease;
            records::encumber(state, &as_condo, object, kind, *lessee, *document)?
        }
        Action::Pledge {
            object,
            pledgee,
            document,
            ..
        } => {
            let kind = EncumbranceKind::Pledge;
            records::encumber(state, &as_condo, object, kind, *pledgee, *document)?
        }
        Action::Sell { object, buyer, .. } => {
            let events = records::transfer(state, &as_condo, object, *buyer, None)?;
            condo.shared.retain(|s| s != object);
            events
        }
        Action::Terminate { object } => {
            let events = records::terminate(state, &as_condo, object)?;
            condo.shared.retain(|s| s != object);
            events
        }
        Action::Admit { subject, numerator } => {
            condo.denominator += numerator;
            let salt = condo.shares.len() as u64 + 1;
            vec![mint(state, ctx, condo, *subject, *numerator, salt)?]
        }
        Action::ChangeAgreement { agreement } => {
            condo.agreement = agreement.clone();
            condo.agreement_hash = super::create::agreement_hash(agreement);
            vec![]
        }
        Action::Dissolve { distribution } => dissolve(state, ctx, condo, distribution)?,
    };
    events.push(Event::CondoDecided {
        condo: condo.id,
        proposal,
        action: action.clone(),
        by,
    });
    Ok(events)
}

/// The condominium's account acting, with the transaction's own signers beside
/// it; `step` gives each of its acts in one transaction its own id.
fn acting_as<'a>(ctx: &TxContext<'a>, condo: &Condo, step: u64) -> TxContext<'a> {
    let account = condo.account();
    let mut approvals = vec![Approval::keyless(account)];
    approvals.extend(ctx.approvals.iter().cloned());
    TxContext {
        tx_id: hashing::hash(
            "tamga 2026 condominium act v1",
            &[&ctx.tx_id.0, &step.to_le_bytes()],
        ),
        signer: account,
        approvals,
        height: ctx.height,
        time_ms: ctx.time_ms,
        fuel: ctx.fuel,
    }
}

/// Shared objects go as allotted, participation records terminate (a share
/// under arrest, or pledged or liened without its holder co-signing, stops it:
/// a creditor's security does not vanish unasked), and the individual objects
/// are simply no longer listed.
fn dissolve(
    state: &mut Overlay,
    ctx: &TxContext,
    condo: &mut Condo,
    distribution: &[Allotment],
) -> Outcome {
    let shares = share_records(state, condo)?;
    let blocked = |r: &&records::Record| {
        r.encumbrances.iter().any(|e| match e.kind {
            EncumbranceKind::Arrest => true,
            EncumbranceKind::Pledge | EncumbranceKind::Lien => !ctx.approved_by(&e.holder),
            EncumbranceKind::Lease => false,
        })
    };
    if let Some(share) = shares.iter().find(blocked) {
        return Err(CondoError::ShareEncumbered(share.id).into());
    }
    let mut events = Vec::new();
    for (step, allotment) in distribution.iter().enumerate() {
        let as_condo = acting_as(ctx, condo, step as u64 + 1);
        events.extend(records::transfer(
            state,
            &as_condo,
            &allotment.object,
            allotment.to,
            None,
        )?);
    }
    for mut record in shares {
        record.status = RecordStatus::Terminated;
        state.put(keys::record(&record.id), &record);
        events.push(Event::Terminated {
            record: record.id,
            by: condo.account(),
        });
    }
    condo.shared.clear();
    condo.individual.clear();
    condo.open_proposals.clear();
    condo.status = CondoStatus::Dissolved { height: ctx.height };
    events.push(Event::CondoDissolved { condo: condo.id });
    Ok(events)
}
