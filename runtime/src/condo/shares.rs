//! Participation records (Art. 35 p.5: rights "evidenced by digital records
//! confirming participation and scope"): minting them, weighing them for votes,
//! and moving them under the agreement's transfer rule, which gives the other
//! participants a pre-emption window before an outsider may buy.

use super::error::CondoError;
use super::model::{Condo, Offer};
use super::{check_text, load_active};
use crate::execute::{ApplyError, TxContext};
use crate::limits::{CONDO_SHARES_MAX, CONDO_WINDOW_BLOCKS_MAX, TEXT_BYTES_MAX};
use crate::records::{self, Asset, Event, Record, RecordStatus};
use crate::state::{get_typed, keys, Overlay, StateRead};
use crate::types::{hashing, EncumbranceKind, Hash32, ObjectCategory, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

/// Creates the participation record of `owner` for `numerator`, as the
/// condominium's own act; `salt` makes its id unique within the transaction.
pub(super) fn mint(
    state: &mut Overlay,
    ctx: &TxContext,
    condo: &mut Condo,
    owner: SubjectId,
    numerator: u64,
    salt: u64,
) -> Result<Event, CondoError> {
    if condo.shares.len() >= CONDO_SHARES_MAX {
        return Err(CondoError::ParticipantCount {
            got: condo.shares.len() + 1,
            max: CONDO_SHARES_MAX,
        });
    }
    let id = hashing::hash(
        &hashing::DOMAIN_SHARE_ID,
        &[&ctx.tx_id.0, &salt.to_le_bytes()],
    );
    let record = Record {
        id,
        category: ObjectCategory::Digital,
        description: format!("participation in digital condominium {}", condo.id),
        owner,
        national: false,
        asset: Asset::Share {
            condo: condo.id,
            numerator,
        },
        encumbrances: Vec::new(),
        next_encumbrance_id: 1,
        status: RecordStatus::Active,
        registered_by: condo.account(),
        registered_height: ctx.height,
        provenance: Default::default(),
    };
    state.put(keys::record(&id), &record);
    condo.shares.push(id);
    Ok(Event::Registered {
        record: id,
        owner,
        registrar: condo.account(),
    })
}

/// The active participation records of `condo`, with their owners and numerators.
pub fn share_records(state: &dyn StateRead, condo: &Condo) -> Result<Vec<Record>, ApplyError> {
    let mut out = Vec::with_capacity(condo.shares.len());
    for id in &condo.shares {
        let record: Record = get_typed(state, &keys::record(id))?.ok_or(CondoError::NotAShare {
            record: *id,
            condo: condo.id,
        })?;
        if record.status == RecordStatus::Active {
            out.push(record);
        }
    }
    Ok(out)
}

fn numerator_of(record: &Record) -> u64 {
    match record.asset {
        Asset::Share { numerator, .. } => numerator,
        Asset::Unique | Asset::Fungible { .. } => 0,
    }
}

/// Each participant with the sum of the numerators it holds, in first-held order.
pub fn weights(state: &dyn StateRead, condo: &Condo) -> Result<Vec<(SubjectId, u64)>, ApplyError> {
    let mut out: Vec<(SubjectId, u64)> = Vec::new();
    for record in share_records(state, condo)? {
        let numerator = numerator_of(&record);
        match out.iter_mut().find(|(who, _)| *who == record.owner) {
            Some((_, sum)) => *sum += numerator,
            None => out.push((record.owner, numerator)),
        }
    }
    let total: u128 = out.iter().map(|(_, n)| u128::from(*n)).sum();
    if total != u128::from(condo.denominator) {
        return Err(crate::state::CorruptState {
            key: format!("condo/{}", condo.id),
            reason: format!(
                "shares sum to {total}, not the denominator {}",
                condo.denominator
            ),
        }
        .into());
    }
    Ok(out)
}

/// The weight `who` votes with now; zero for a non-participant.
pub(super) fn weight_of(
    state: &dyn StateRead,
    condo: &Condo,
    who: &SubjectId,
) -> Result<u64, ApplyError> {
    Ok(weights(state, condo)?
        .into_iter()
        .find(|(subject, _)| subject == who)
        .map_or(0, |(_, n)| n))
}

pub(super) fn require_participant(
    state: &dyn StateRead,
    condo: &Condo,
    who: &SubjectId,
) -> Result<u64, ApplyError> {
    match weight_of(state, condo, who)? {
        0 => Err(CondoError::NotParticipant(*who).into()),
        weight => Ok(weight),
    }
}

/// What a governing contract instance sees of its condominium: the
/// denominator and each participant's weight now.
#[derive(Clone, Debug, Default)]
pub struct GovernedView {
    pub condo: Hash32,
    pub denominator: u64,
    pub weights: Vec<(SubjectId, u64)>,
    /// Proposals that can still be approved, with their kinds.
    pub open: Vec<(u64, super::DecisionKind)>,
}

/// The condominium `instance` governs, if any and not dissolved, as it stands
/// at `height`.
pub fn governed_view(
    state: &dyn StateRead,
    instance: &Hash32,
    height: u64,
) -> Result<Option<GovernedView>, ApplyError> {
    let Some(condo_id) = get_typed::<Hash32>(state, &keys::condo_of_instance(instance))? else {
        return Ok(None);
    };
    let condo: Condo =
        get_typed(state, &keys::condo(&condo_id))?.ok_or(CondoError::NotFound(condo_id))?;
    if condo.status != super::CondoStatus::Active {
        return Ok(None);
    }
    let mut open = Vec::with_capacity(condo.open_proposals.len());
    for number in &condo.open_proposals {
        let proposal = super::decide::load_proposal(state, &condo_id, *number)?;
        if proposal.deadline_height >= height {
            open.push((*number, proposal.action.kind()));
        }
    }
    Ok(Some(GovernedView {
        condo: condo_id,
        denominator: condo.denominator,
        weights: weights(state, &condo)?,
        open,
    }))
}

/// `who`'s unencumbered participation record in `condo`, if it has one.
fn mergeable(
    state: &dyn StateRead,
    condo: &Condo,
    who: &SubjectId,
) -> Result<Option<Record>, ApplyError> {
    Ok(share_records(state, condo)?
        .into_iter()
        .find(|r| r.owner == *who && r.encumbrances.is_empty()))
}

pub(super) struct OfferRequest<'a> {
    pub record: Hash32,
    pub numerator: u64,
    pub terms: &'a str,
    pub open_blocks: u64,
}

/// The share `record` of `condo`, with the numerator it holds.
fn load_share(state: &Overlay, condo: &Condo, id: &Hash32) -> Result<(Record, u64), ApplyError> {
    let record = records::load_active(state, id)?;
    match record.asset {
        Asset::Share {
            condo: of,
            numerator,
        } if of == condo.id => Ok((record, numerator)),
        _ => Err(CondoError::NotAShare {
            record: *id,
            condo: condo.id,
        }
        .into()),
    }
}

/// A participant offers (part of) its share. The pledgees and lienholders who
/// co-sign consent to the sale now (the others may when it is taken); an arrest
/// forbids it outright.
pub(super) fn offer(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    request: OfferRequest,
) -> Outcome {
    let mut condo = load_active(state, id)?;
    check_text("terms", request.terms, TEXT_BYTES_MAX)?;
    let (record, held) = load_share(state, &condo, &request.record)?;
    if record.owner != ctx.signer {
        let owner = record.owner;
        return Err(records::RecordError::NotOwner {
            record: record.id,
            owner,
        }
        .into());
    }
    if request.numerator == 0 || request.numerator > held {
        let numerator = request.numerator;
        return Err(CondoError::BadNumerator { numerator, held }.into());
    }
    if let Some(arrest) = record
        .encumbrances
        .iter()
        .find(|e| e.kind == EncumbranceKind::Arrest)
    {
        let encumbrance = arrest.id;
        return Err(records::RecordError::Arrested {
            record: record.id,
            encumbrance,
        }
        .into());
    }
    let preemption_until = ctx.height.saturating_add(condo.preemption_blocks);
    let open_until = ctx.height.saturating_add(request.open_blocks);
    if request.open_blocks > CONDO_WINDOW_BLOCKS_MAX || open_until <= preemption_until {
        return Err(CondoError::BadOfferWindow {
            preemption_until,
            open_until,
        }
        .into());
    }
    let number = condo.next_offer;
    condo.next_offer += 1;
    let offer = Offer {
        id: number,
        condo: condo.id,
        seller: ctx.signer,
        record: record.id,
        numerator: request.numerator,
        terms: request.terms.to_owned(),
        opened_height: ctx.height,
        preemption_until,
        open_until,
        consents: ctx.approvals.iter().map(|a| a.subject).collect(),
        taken: None,
    };
    state.put(keys::condo_offer(id, number), &offer);
    state.put(keys::condo(id), &condo);
    Ok(vec![Event::CondoShareOffered {
        condo: *id,
        offer: number,
        record: record.id,
        numerator: request.numerator,
    }])
}

/// Takes an offer: inside the pre-emption window another participant may, on
/// the offer's terms; after it, anyone with the seller's co-signature, until the
/// offer closes. The share moves whole
/// (with its encumbrances) or splits off an unencumbered part.
pub(super) fn take(state: &mut Overlay, ctx: &TxContext, id: &Hash32, number: u64) -> Outcome {
    let mut condo = load_active(state, id)?;
    let mut offer: Offer =
        state
            .get_typed(&keys::condo_offer(id, number))?
            .ok_or(CondoError::OfferNotFound {
                condo: *id,
                offer: number,
            })?;
    check_open(&offer, ctx)?;
    if ctx.height <= offer.preemption_until {
        if super::shares::weight_of(state, &condo, &ctx.signer)? == 0 {
            let preemption_until = offer.preemption_until;
            return Err(CondoError::PreemptionWindow { preemption_until }.into());
        }
    } else if !ctx.approved_by(&offer.seller) {
        // After the window the participants' right is spent; a buyer from
        // outside buys only with the seller's consent to that buyer.
        return Err(CondoError::SellerConsentMissing(offer.seller).into());
    }
    let (record, held) = load_share(state, &condo, &offer.record)?;
    if record.owner != offer.seller || offer.numerator > held {
        return Err(CondoError::BadNumerator {
            numerator: offer.numerator,
            held,
        }
        .into());
    }
    check_consents(&record, &offer, ctx)?;
    let mut events = move_share(state, ctx, &mut condo, record, offer.numerator, held)?;
    offer.taken = Some((ctx.signer, ctx.height));
    state.put(keys::condo_offer(id, number), &offer);
    state.put(keys::condo(id), &condo);
    events.push(Event::CondoShareTaken {
        condo: *id,
        offer: number,
        record: offer.record,
        buyer: ctx.signer,
    });
    Ok(events)
}

fn check_open(offer: &Offer, ctx: &TxContext) -> Result<(), CondoError> {
    if offer.taken.is_some() {
        return Err(CondoError::OfferTaken(offer.id));
    }
    if ctx.height > offer.open_until {
        let open_until = offer.open_until;
        return Err(CondoError::OfferClosed {
            offer: offer.id,
            open_until,
        });
    }
    if offer.seller == ctx.signer {
        return Err(CondoError::OwnOffer);
    }
    Ok(())
}

/// No arrest now, and every pledgee and lienholder on the share consented, at
/// the offer or by co-signing the taking (Art. 21 p.5).
fn check_consents(record: &Record, offer: &Offer, ctx: &TxContext) -> Result<(), ApplyError> {
    for e in &record.encumbrances {
        let consented = offer.consents.contains(&e.holder) || ctx.approved_by(&e.holder);
        let blocks = match e.kind {
            EncumbranceKind::Arrest => true,
            EncumbranceKind::Pledge | EncumbranceKind::Lien => !consented,
            EncumbranceKind::Lease => false,
        };
        if blocks {
            return Err(records::RecordError::ConsentMissing {
                record: record.id,
                encumbrance: e.id,
                kind: e.kind,
                holder: e.holder,
            }
            .into());
        }
    }
    Ok(())
}

/// Moves `numerator` of `record` to the signer: the whole record, or a new
/// participation record split off an unencumbered one.
fn move_share(
    state: &mut Overlay,
    ctx: &TxContext,
    condo: &mut Condo,
    mut record: Record,
    numerator: u64,
    held: u64,
) -> Outcome {
    let from = record.owner;
    let to = ctx.signer;
    if numerator == held {
        record.owner = to;
        state.put(keys::record(&record.id), &record);
        let amount = None;
        return Ok(vec![Event::Transferred {
            record: record.id,
            from,
            to,
            amount,
        }]);
    }
    if !record.encumbrances.is_empty() {
        return Err(records::RecordError::EncumberedPartialTransfer { record: record.id }.into());
    }
    record.asset = Asset::Share {
        condo: condo.id,
        numerator: held - numerator,
    };
    state.put(keys::record(&record.id), &record);
    if let Some(mut own) = mergeable(state, condo, &to)? {
        // Into the buyer's own free share: records never pile up past the limit.
        let Asset::Share { numerator: had, .. } = own.asset else {
            unreachable!("share_records holds only shares");
        };
        own.asset = Asset::Share {
            condo: condo.id,
            numerator: had + numerator,
        };
        state.put(keys::record(&own.id), &own);
        let (record, from_record, owner, amount) = (own.id, record.id, to, numerator);
        return Ok(vec![Event::SplitOff {
            record,
            from_record,
            owner,
            amount,
        }]);
    }
    let registered = mint(state, ctx, condo, to, numerator, 0)?;
    let Event::Registered { record: split, .. } = registered else {
        unreachable!("mint registers a record");
    };
    Ok(vec![
        Event::SplitOff {
            record: split,
            from_record: record.id,
            owner: to,
            amount: numerator,
        },
        Event::Transferred {
            record: split,
            from,
            to,
            amount: Some(numerator),
        },
    ])
}
