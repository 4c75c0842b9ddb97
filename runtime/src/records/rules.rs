//! The rules: one function per operation, each checking every condition before it
//! writes anything, so a refused operation changes nothing.

use super::error::RecordError;
use super::model::{Asset, Class, Encumbrance, Event, Record, RecordStatus};
use super::provenance::Provenance;
use crate::execute::{ApplyError, TxContext};
use crate::limits::{ENCUMBRANCES_PER_RECORD_MAX, TEXT_BYTES_MAX};
use crate::pki::{self, Role, SubjectKind};
use crate::state::{keys, Overlay};
use crate::types::{
    hashing, EncumbranceKind, Hash32, ObjectCategory, Payload, Quantity, SubjectId,
};

type Outcome = Result<Vec<Event>, ApplyError>;

/// Applies one record payload on behalf of `ctx.signer`.
pub fn apply(state: &mut Overlay, ctx: &TxContext, payload: &Payload) -> Outcome {
    match payload {
        Payload::RegisterClass {
            category,
            name,
            unit,
            national,
        } => register_class(state, ctx, *category, name, unit, *national),
        Payload::Register {
            category,
            description,
            owner,
            national,
            quantity,
        } => {
            let request = RegisterRequest {
                category: *category,
                description,
                owner: *owner,
            };
            register(state, ctx, request, *national, *quantity)
        }
        Payload::Transfer { record, to, amount } => transfer(state, ctx, record, *to, *amount),
        Payload::Encumber {
            record,
            kind,
            holder,
            document,
        } => encumber(state, ctx, record, *kind, *holder, *document),
        Payload::Release {
            record,
            encumbrance,
        } => release(state, ctx, record, *encumbrance),
        Payload::Terminate { record } => terminate(state, ctx, record),
        other => unreachable!("execute::apply_tx sends {other:?} to its own module"),
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), RecordError> {
    if text.trim().is_empty() {
        return Err(RecordError::TextEmpty { field });
    }
    if text.len() > TEXT_BYTES_MAX {
        return Err(RecordError::TextTooLong {
            field,
            len: text.len(),
            max: TEXT_BYTES_MAX,
        });
    }
    Ok(())
}

/// A subject the ledger knows, who can hold rights (Art. 40 p.3): a typo'd or
/// unknown id is refused rather than strand a record.
fn require_holder(state: &Overlay, who: &SubjectId) -> Result<SubjectKind, ApplyError> {
    Ok(pki::require_subject(state, who)?.kind)
}

/// A national object is a state digital object (Art. 34 p.1): only a state body
/// holds one.
fn check_national_holder(state: &Overlay, owner: &SubjectId) -> Result<(), ApplyError> {
    if require_holder(state, owner)? != SubjectKind::StateBody {
        return Err(RecordError::NationalHolderNotState { owner: *owner }.into());
    }
    Ok(())
}

/// Loads an active record.
pub(crate) fn load_active(state: &Overlay, id: &Hash32) -> Result<Record, ApplyError> {
    let record: Record = state
        .get_typed(&keys::record(id))?
        .ok_or(RecordError::NotFound(*id))?;
    if record.status == RecordStatus::Terminated {
        return Err(RecordError::Terminated(*id).into());
    }
    Ok(record)
}

fn register_class(
    state: &mut Overlay,
    ctx: &TxContext,
    category: ObjectCategory,
    name: &str,
    unit: &str,
    national: bool,
) -> Outcome {
    check_text("name", name)?;
    check_text("unit", unit)?;
    if (category == ObjectCategory::Tangible || national) && !ctx.signer_has(Role::Registrar) {
        return Err(RecordError::RegistrarRequired {
            what: "tangible or national classes",
        }
        .into());
    }
    let id = hashing::hash(&hashing::DOMAIN_CLASS_ID, &[&ctx.tx_id.0]);
    let class = Class {
        id,
        category,
        name: name.to_owned(),
        unit: unit.to_owned(),
        national,
        issuer: ctx.signer,
    };
    state.put(keys::class(&id), &class);
    Ok(vec![Event::ClassRegistered {
        class: id,
        issuer: ctx.signer,
    }])
}

struct RegisterRequest<'a> {
    category: ObjectCategory,
    description: &'a str,
    owner: SubjectId,
}

/// Registration. Tangible objects and national objects come only from a registrar
/// (Art. 21 p.5, Art. 34 p.2); anyone else may only certify their own rights, or
/// another's with that person's co-signature (Art. 44 p.3).
fn register(
    state: &mut Overlay,
    ctx: &TxContext,
    request: RegisterRequest,
    national: bool,
    quantity: Option<Quantity>,
) -> Outcome {
    check_text("description", request.description)?;
    require_holder(state, &request.owner)?;
    let registrar = ctx.signer_has(Role::Registrar);
    let (asset, national) = match quantity {
        None => (Asset::Unique, national),
        Some(quantity) => issue_quantity(state, ctx, request.category, quantity, national)?,
    };
    if (request.category == ObjectCategory::Tangible || national) && !registrar {
        return Err(RecordError::RegistrarRequired {
            what: "tangible or national objects",
        }
        .into());
    }
    if national {
        check_national_holder(state, &request.owner)?;
    }
    if !registrar && !ctx.approved_by(&request.owner) {
        return Err(RecordError::OwnerSignatureRequired {
            owner: request.owner,
        }
        .into());
    }
    let id = hashing::hash(&hashing::DOMAIN_RECORD_ID, &[&ctx.tx_id.0]);
    let record = Record {
        id,
        category: request.category,
        description: request.description.to_owned(),
        owner: request.owner,
        national,
        asset,
        encumbrances: Vec::new(),
        next_encumbrance_id: 1,
        status: RecordStatus::Active,
        registered_by: ctx.signer,
        registered_height: ctx.height,
        provenance: Provenance::default(),
    };
    state.put(keys::record(&id), &record);
    Ok(vec![Event::Registered {
        record: id,
        owner: request.owner,
        registrar: ctx.signer,
    }])
}

/// Checks an issue of `quantity`: only the class issuer issues, the category must
/// match, and a national class makes national holdings.
fn issue_quantity(
    state: &Overlay,
    ctx: &TxContext,
    category: ObjectCategory,
    quantity: Quantity,
    national: bool,
) -> Result<(Asset, bool), ApplyError> {
    let class: Class = state
        .get_typed(&keys::class(&quantity.class))?
        .ok_or(RecordError::ClassNotFound(quantity.class))?;
    if class.issuer != ctx.signer {
        return Err(RecordError::NotClassIssuer {
            class: class.id,
            issuer: class.issuer,
        }
        .into());
    }
    if class.category != category {
        return Err(RecordError::CategoryMismatch.into());
    }
    if quantity.amount == 0 {
        return Err(RecordError::InvalidAmount {
            amount: 0,
            held: u64::MAX,
        }
        .into());
    }
    let asset = Asset::Fungible {
        class: class.id,
        amount: quantity.amount,
    };
    Ok((asset, national || class.national))
}

/// Checks that the owner may dispose of the record now: owner signs, not national
/// (Art. 34 p.3), and [`check_encumbrances`].
fn check_disposal(record: &Record, ctx: &TxContext) -> Result<(), RecordError> {
    if record.owner != ctx.signer {
        return Err(RecordError::NotOwner {
            record: record.id,
            owner: record.owner,
        });
    }
    if record.national {
        return Err(RecordError::NationalObject { record: record.id });
    }
    check_encumbrances(record, ctx)
}

/// No arrest, and every pledgee and lienholder co-signed (Art. 21 p.5: what a
/// record's holder may do with it is bounded by the rights others hold in it). A
/// lease needs no consent: it follows the object. Applies to every disposal,
/// a new encumbrance included.
fn check_encumbrances(record: &Record, ctx: &TxContext) -> Result<(), RecordError> {
    for e in &record.encumbrances {
        match e.kind {
            EncumbranceKind::Arrest => {
                return Err(RecordError::Arrested {
                    record: record.id,
                    encumbrance: e.id,
                })
            }
            EncumbranceKind::Pledge | EncumbranceKind::Lien if !ctx.approved_by(&e.holder) => {
                return Err(RecordError::ConsentMissing {
                    record: record.id,
                    encumbrance: e.id,
                    kind: e.kind,
                    holder: e.holder,
                });
            }
            EncumbranceKind::Pledge | EncumbranceKind::Lien | EncumbranceKind::Lease => {}
        }
    }
    Ok(())
}

/// Transfer (Art. 21 p.5, Art. 38 p.3). The whole record moves with its
/// encumbrances; a partial amount of an unencumbered fungible holding is split off
/// into a new record for the recipient.
pub(crate) fn transfer(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    to: SubjectId,
    amount: Option<u64>,
) -> Outcome {
    require_holder(state, &to)?;
    move_record(state, ctx, id, to, amount)
}

/// A deposit into a contract instance's custody: the same disposal rules, to
/// the instance's own account (an owner no key controls, not a certified
/// subject).
pub(crate) fn deposit_into(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    account: SubjectId,
    amount: Option<u64>,
) -> Outcome {
    move_record(state, ctx, id, account, amount)
}

fn move_record(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    to: SubjectId,
    amount: Option<u64>,
) -> Outcome {
    let mut record = load_active(state, id)?;
    check_disposal(&record, ctx)?;
    if let Asset::Share { condo, .. } = record.asset {
        return Err(RecordError::ShareUnderAgreement { record: *id, condo }.into());
    }
    if record.owner == to {
        return Err(RecordError::TransferToSelf(*id).into());
    }
    let held = match (&record.asset, amount) {
        (_, None) => None,
        (Asset::Unique | Asset::Share { .. }, Some(_)) => {
            return Err(RecordError::NotFungible(*id).into())
        }
        (Asset::Fungible { amount: held, .. }, Some(part)) => Some((*held, part)),
    };
    if let Some((held, part)) = held {
        if part == 0 || part > held {
            return Err(RecordError::InvalidAmount { amount: part, held }.into());
        }
        if part < held {
            return split_off(state, ctx, record, to, part);
        }
    }
    let from = record.owner;
    record.owner = to;
    state.put(keys::record(id), &record);
    Ok(vec![Event::Transferred {
        record: *id,
        from,
        to,
        amount,
    }])
}

fn split_off(
    state: &mut Overlay,
    ctx: &TxContext,
    mut record: Record,
    to: SubjectId,
    part: u64,
) -> Outcome {
    if !record.encumbrances.is_empty() {
        return Err(RecordError::EncumberedPartialTransfer { record: record.id }.into());
    }
    let Asset::Fungible {
        class,
        amount: held,
    } = record.asset
    else {
        unreachable!("split_off is only called for fungible holdings");
    };
    assert!(
        part > 0 && part < held,
        "split amount checked by the caller"
    );
    let new_id = hashing::hash(&hashing::DOMAIN_SPLIT_ID, &[&record.id.0, &ctx.tx_id.0]);
    let from = record.owner;
    let mut split = record.clone();
    split.id = new_id;
    split.owner = to;
    split.asset = Asset::Fungible {
        class,
        amount: part,
    };
    split.next_encumbrance_id = 1;
    // A new record: its history starts here (the split event is its first entry).
    split.provenance = Provenance::default();
    split.registered_height = ctx.height;
    record.asset = Asset::Fungible {
        class,
        amount: held - part,
    };
    state.put(keys::record(&record.id), &record);
    state.put(keys::record(&new_id), &split);
    Ok(vec![
        Event::SplitOff {
            record: new_id,
            from_record: record.id,
            owner: to,
            amount: part,
        },
        Event::Transferred {
            record: new_id,
            from,
            to,
            amount: Some(part),
        },
    ])
}

/// Encumbrance with the owner's consent (Art. 21 p.5, Art. 44 p.3), and the
/// consent of every pledgee and lienholder already on the record; no encumbrance
/// while under arrest. An arrest is imposed by a court under its order instead:
/// the signer's certificate carries the court role and the order's hash is
/// cited. National objects take none (Art. 34 p.3).
pub(crate) fn encumber(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    kind: EncumbranceKind,
    holder: SubjectId,
    document: Option<Hash32>,
) -> Outcome {
    let mut record = load_active(state, id)?;
    if record.national {
        return Err(RecordError::NationalObject { record: *id }.into());
    }
    require_holder(state, &holder)?;
    if kind == EncumbranceKind::Arrest {
        // A court's order binds whatever else the record carries: no pledgee's
        // consent, and a second court's arrest beside the first.
        check_arrest(ctx, holder, document)?;
    } else if !ctx.approved_by(&record.owner) {
        return Err(RecordError::OwnerConsentMissing {
            record: *id,
            owner: record.owner,
        }
        .into());
    } else {
        check_encumbrances(&record, ctx)?;
    }
    if holder == record.owner {
        return Err(RecordError::SelfEncumbrance.into());
    }
    if record.encumbrances.len() >= ENCUMBRANCES_PER_RECORD_MAX {
        let max = ENCUMBRANCES_PER_RECORD_MAX;
        return Err(RecordError::TooManyEncumbrances { record: *id, max }.into());
    }
    let encumbrance = Encumbrance {
        id: record.next_encumbrance_id,
        kind,
        holder,
        document,
        since_height: ctx.height,
    };
    record.next_encumbrance_id += 1;
    record.encumbrances.push(encumbrance.clone());
    state.put(keys::record(id), &record);
    Ok(vec![Event::Encumbered {
        record: *id,
        encumbrance,
    }])
}

/// An arrest: the signer is certified with the court role, holds the arrest
/// itself, and cites its order's hash.
fn check_arrest(
    ctx: &TxContext,
    holder: SubjectId,
    document: Option<Hash32>,
) -> Result<(), RecordError> {
    if !ctx.signer_has(Role::Court) || holder != ctx.signer {
        return Err(RecordError::ArrestNeedsCourt);
    }
    if document.is_none() {
        return Err(RecordError::ArrestNeedsOrder);
    }
    Ok(())
}

/// Release by the encumbrance's holder (Art. 21 p.5).
fn release(state: &mut Overlay, ctx: &TxContext, id: &Hash32, number: u32) -> Outcome {
    let mut record = load_active(state, id)?;
    let position = record
        .encumbrances
        .iter()
        .position(|e| e.id == number)
        .ok_or(RecordError::EncumbranceNotFound {
            record: *id,
            encumbrance: number,
        })?;
    let holder = record.encumbrances[position].holder;
    if holder != ctx.signer {
        return Err(RecordError::NotEncumbranceHolder {
            encumbrance: number,
            holder,
        }
        .into());
    }
    record.encumbrances.remove(position);
    state.put(keys::record(id), &record);
    Ok(vec![Event::Released {
        record: *id,
        encumbrance: number,
        by: ctx.signer,
    }])
}

/// Termination of rights by the owner (Art. 21 p.2(2)); not while encumbered, so no
/// creditor's security disappears with it. A national object's status is set by
/// law (Art. 34 p.2), so its holder alone cannot end it: a registrar other than
/// the holder co-signs.
pub(crate) fn terminate(state: &mut Overlay, ctx: &TxContext, id: &Hash32) -> Outcome {
    let mut record = load_active(state, id)?;
    if let Asset::Share { condo, .. } = record.asset {
        return Err(RecordError::ShareUnderAgreement { record: *id, condo }.into());
    }
    if record.owner != ctx.signer {
        return Err(RecordError::NotOwner {
            record: *id,
            owner: record.owner,
        }
        .into());
    }
    let registrar_consents = ctx
        .approvals
        .iter()
        .any(|a| a.subject != record.owner && a.has_role(Role::Registrar));
    if record.national && !registrar_consents {
        return Err(RecordError::NationalTerminationAlone { record: *id }.into());
    }
    if !record.encumbrances.is_empty() {
        return Err(RecordError::Encumbered { record: *id }.into());
    }
    record.status = RecordStatus::Terminated;
    state.put(keys::record(id), &record);
    Ok(vec![Event::Terminated {
        record: *id,
        by: ctx.signer,
    }])
}
