//! Founding a condominium and attaching objects to it. Founding checks every
//! share and signature before it writes anything: the shares are exact
//! fractions of one denominator that sum to exactly one, each founder consents
//! by signing (Art. 35 p.5: rights "determined by an agreement between them").

use super::error::CondoError;
use super::model::{Condo, CondoStatus, Governance, Thresholds};
use super::shares::{mint, require_participant};
use super::{check_text, load_active};
use crate::contracts::{self, InstanceStatus};
use crate::execute::{ApplyError, TxContext};
use crate::limits::{
    AGREEMENT_BYTES_MAX, CONDO_DENOMINATOR_MAX, CONDO_OBJECTS_MAX, CONDO_SHARES_MAX,
    CONDO_WINDOW_BLOCKS_MAX,
};
use crate::pki;
use crate::records::{self, Asset, Event};
use crate::state::{get_typed, keys, Overlay};
use crate::types::{hashing, Founder, Hash32, ObjectCategory, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

pub(super) struct Founding<'a> {
    pub agreement: &'a str,
    pub denominator: u64,
    pub participants: &'a [Founder],
    pub governance: &'a Governance,
    pub preemption_blocks: u64,
}

pub(super) fn create(state: &mut Overlay, ctx: &TxContext, founding: Founding) -> Outcome {
    check_text("agreement", founding.agreement, AGREEMENT_BYTES_MAX)?;
    check_shares(founding.participants, founding.denominator)?;
    for founder in founding.participants {
        pki::require_subject(state, &founder.subject)?;
        if !ctx.approved_by(&founder.subject) {
            return Err(CondoError::FounderSignatureMissing(founder.subject).into());
        }
    }
    if founding.preemption_blocks > CONDO_WINDOW_BLOCKS_MAX {
        let deadline_height = founding.preemption_blocks;
        let max_blocks = CONDO_WINDOW_BLOCKS_MAX;
        return Err(CondoError::BadDeadline {
            deadline_height,
            max_blocks,
        }
        .into());
    }
    let id = hashing::hash(&hashing::DOMAIN_CONDO_ID, &[&ctx.tx_id.0]);
    check_governance(state, founding.governance, founding.participants)?;
    if let Governance::Representative { mandate, .. } = founding.governance {
        if !ctx.approved_by(&mandate.representative) {
            let who = mandate.representative;
            return Err(CondoError::RepresentativeSignatureMissing(who).into());
        }
    }
    if let Governance::Contract { instance } = founding.governance {
        state.put(keys::condo_of_instance(instance), &id);
    }
    let mut condo = Condo {
        id,
        agreement: founding.agreement.to_owned(),
        agreement_hash: agreement_hash(founding.agreement),
        denominator: founding.denominator,
        shares: Vec::new(),
        governance: founding.governance.clone(),
        preemption_blocks: founding.preemption_blocks,
        individual: Vec::new(),
        shared: Vec::new(),
        open_proposals: Vec::new(),
        next_proposal: 1,
        next_offer: 1,
        status: CondoStatus::Active,
        created_by: ctx.signer,
        created_height: ctx.height,
    };
    let mut events = vec![Event::CondoCreated {
        condo: id,
        account: condo.account(),
    }];
    for (index, founder) in founding.participants.iter().enumerate() {
        let salt = index as u64 + 1;
        events.push(mint(
            state,
            ctx,
            &mut condo,
            founder.subject,
            founder.numerator,
            salt,
        )?);
    }
    state.put(keys::condo(&id), &condo);
    Ok(events)
}

pub fn agreement_hash(text: &str) -> Hash32 {
    hashing::hash(&hashing::DOMAIN_AGREEMENT, &[text.as_bytes()])
}

/// Exact fractions over one denominator that sum to exactly one: no zero share,
/// no participant twice (Art. 35 p.5).
fn check_shares(participants: &[Founder], denominator: u64) -> Result<(), CondoError> {
    if participants.len() < 2 || participants.len() > CONDO_SHARES_MAX {
        let got = participants.len();
        return Err(CondoError::ParticipantCount {
            got,
            max: CONDO_SHARES_MAX,
        });
    }
    if denominator > CONDO_DENOMINATOR_MAX {
        return Err(CondoError::DenominatorTooLarge {
            max: CONDO_DENOMINATOR_MAX,
        });
    }
    let mut sum: u128 = 0;
    for (index, founder) in participants.iter().enumerate() {
        if founder.numerator == 0 {
            return Err(CondoError::ZeroShare(founder.subject));
        }
        if participants[..index]
            .iter()
            .any(|f| f.subject == founder.subject)
        {
            return Err(CondoError::DuplicateParticipant(founder.subject));
        }
        sum += u128::from(founder.numerator);
    }
    if sum != u128::from(denominator) {
        return Err(CondoError::SharesNotWhole { sum, denominator });
    }
    Ok(())
}

fn check_thresholds(thresholds: &Thresholds) -> Result<(), CondoError> {
    match thresholds.all().into_iter().find(|t| !t.is_threshold()) {
        Some(bad) => Err(CondoError::BadThreshold {
            num: bad.num,
            den: bad.den,
        }),
        None => Ok(()),
    }
}

fn check_governance(
    state: &Overlay,
    governance: &Governance,
    participants: &[Founder],
) -> Result<(), ApplyError> {
    match governance {
        Governance::Voting { thresholds } => Ok(check_thresholds(thresholds)?),
        Governance::Representative {
            mandate,
            thresholds,
        } => {
            check_thresholds(thresholds)?;
            check_text("mandate", &mandate.text, AGREEMENT_BYTES_MAX)?;
            pki::require_subject(state, &mandate.representative)?;
            if let Some(kind) = mandate.kinds.iter().find(|k| !k.is_on_object()) {
                return Err(CondoError::MandateNotOnObjects(*kind).into());
            }
            Ok(())
        }
        Governance::Contract { instance } => check_instance(state, instance, participants),
    }
}

/// The governing instance is active, binds exactly the participants, and
/// governs nothing else.
fn check_instance(
    state: &Overlay,
    id: &Hash32,
    participants: &[Founder],
) -> Result<(), ApplyError> {
    let bad = CondoError::BadGoverningInstance(*id);
    let Some(instance) = get_typed::<contracts::Instance>(state, &keys::instance(id))? else {
        return Err(bad.into());
    };
    let mut parties: Vec<SubjectId> = instance.parties.clone();
    let mut founders: Vec<SubjectId> = participants.iter().map(|f| f.subject).collect();
    parties.sort();
    founders.sort();
    let governs = get_typed::<Hash32>(state, &keys::condo_of_instance(id))?.is_some();
    if instance.status != InstanceStatus::Active || parties != founders || governs {
        return Err(bad.into());
    }
    Ok(())
}

/// A participant lists one of its digital objects (Art. 35 p.2 names
/// "individual digital objects" and "shared digital objects"; a tangible thing
/// or a claim is no part of a digital condominium): an individual object stays its own;
/// a shared object moves, under the record rules (pledgees consent, no arrest),
/// to the condominium's account, which no key controls.
pub(super) fn attach(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    record: &Hash32,
    shared: bool,
) -> Outcome {
    let mut condo = load_active(state, id)?;
    require_participant(state, &condo, &ctx.signer)?;
    if condo.individual.contains(record) || condo.shared.contains(record) {
        return Err(CondoError::AlreadyListed {
            record: *record,
            condo: *id,
        }
        .into());
    }
    let (list, what) = match shared {
        true => (&condo.shared, "shared"),
        false => (&condo.individual, "individual"),
    };
    if list.len() >= CONDO_OBJECTS_MAX {
        let max = CONDO_OBJECTS_MAX;
        return Err(CondoError::TooManyObjects {
            condo: *id,
            what,
            max,
        }
        .into());
    }
    let mut events = Vec::new();
    let object = records::load_active(state, record)?;
    if let Asset::Share { condo: of, .. } = object.asset {
        return Err(records::RecordError::ShareUnderAgreement {
            record: *record,
            condo: of,
        }
        .into());
    }
    if object.category != ObjectCategory::Digital {
        return Err(CondoError::NotDigital(*record).into());
    }
    if shared {
        events = records::deposit_into(state, ctx, record, condo.account(), None)?;
        condo.shared.push(*record);
    } else {
        if object.owner != ctx.signer {
            let owner = object.owner;
            return Err(records::RecordError::NotOwner {
                record: *record,
                owner,
            }
            .into());
        }
        condo.individual.push(*record);
    }
    state.put(keys::condo(id), &condo);
    events.push(Event::CondoAttached {
        condo: *id,
        record: *record,
        shared,
    });
    Ok(events)
}
