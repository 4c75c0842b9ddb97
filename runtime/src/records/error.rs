//! Every way a record operation can be refused. Each variant names the rule and the
//! Article it comes from, and has a stable machine-readable reason for RPC clients.

use crate::types::{EncumbranceKind, Hash32, SubjectId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record {0} does not exist")]
    NotFound(Hash32),
    #[error("class {0} does not exist")]
    ClassNotFound(Hash32),
    #[error("record {0} is terminated: no rights remain to dispose of (Art. 21 p.2(2))")]
    Terminated(Hash32),
    #[error("only the owner {owner} may dispose of record {record} (Art. 38 p.3)")]
    NotOwner { record: Hash32, owner: SubjectId },
    #[error(
        "record {record} is a national digital object: it may not be alienated, pledged or \
         encumbered (Art. 34 p.3)"
    )]
    NationalObject { record: Hash32 },
    #[error(
        "record {record} carries a {kind:?} (#{encumbrance}) held by {holder}: disposal needs the \
         holder's consent as a co-signature (Art. 21 p.5)"
    )]
    ConsentMissing {
        record: Hash32,
        encumbrance: u32,
        kind: EncumbranceKind,
        holder: SubjectId,
    },
    #[error("record {record} is under arrest (#{encumbrance}): no disposal or further encumbrance until the court lifts it (Art. 21 p.5: records are disposed of and encumbered under the law; the court's order binds them)")]
    Arrested { record: Hash32, encumbrance: u32 },
    #[error(
        "encumbering record {record} needs its owner {owner}'s consent (Art. 21 p.5, Art. 44 p.3)"
    )]
    OwnerConsentMissing { record: Hash32, owner: SubjectId },
    #[error(
        "an arrest is imposed only by a court, in its own name: the signer's certificate must \
         carry the court role (Art. 21 p.5: a record is encumbered under the law; an arrest is \
         the court's measure)"
    )]
    ArrestNeedsCourt,
    #[error(
        "an arrest must cite the hash of the court's order (document), the act that gives it force"
    )]
    ArrestNeedsOrder,
    #[error(
        "subject {owner} cannot hold a national digital object: national objects are state \
         digital objects (Art. 34 p.1), held by a state body"
    )]
    NationalHolderNotState { owner: SubjectId },
    #[error(
        "record {record} is a national digital object: its holder alone cannot terminate it; a \
         registrar co-signs (Art. 34 p.2: its status and procedures are set by law)"
    )]
    NationalTerminationAlone { record: Hash32 },
    #[error("{what} may only be registered by a subject certified with the registrar role")]
    RegistrarRequired { what: &'static str },
    #[error("registering a record for {owner} needs that owner's signature (Art. 44 p.3)")]
    OwnerSignatureRequired { owner: SubjectId },
    #[error("only the issuer {issuer} of class {class} may issue quantities of it (Art. 21 p.5)")]
    NotClassIssuer { class: Hash32, issuer: SubjectId },
    #[error("a record's category must match its class's category (Art. 21 p.2(2))")]
    CategoryMismatch,
    #[error("record {record} has no encumbrance #{encumbrance}")]
    EncumbranceNotFound { record: Hash32, encumbrance: u32 },
    #[error("only the holder {holder} may release encumbrance #{encumbrance} (Art. 21 p.5)")]
    NotEncumbranceHolder { encumbrance: u32, holder: SubjectId },
    #[error("record {record} is encumbered; release its encumbrances first (Art. 21 p.5)")]
    Encumbered { record: Hash32 },
    #[error("record {record} is encumbered; an encumbered holding moves only whole (Art. 21 p.5)")]
    EncumberedPartialTransfer { record: Hash32 },
    #[error("the owner cannot encumber a record in their own favour")]
    SelfEncumbrance,
    #[error("the recipient already owns record {0}")]
    TransferToSelf(Hash32),
    #[error("amount {amount} is invalid for a holding of {held} (must be 1..={held})")]
    InvalidAmount { amount: u64, held: u64 },
    #[error("record {0} certifies a unique object: it has no amount to split")]
    NotFungible(Hash32),
    #[error("record {record} already carries {max} encumbrances, the limit")]
    TooManyEncumbrances { record: Hash32, max: usize },
    #[error("{field} is {len} bytes; the limit is {max}")]
    TextTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} must not be empty")]
    TextEmpty { field: &'static str },
    #[error(
        "record {record} is a participation share of condominium {condo}: it moves or ends only \
         under the agreement (offer it with `tamga tx condo transfer-share`; Art. 35 p.5)"
    )]
    ShareUnderAgreement { record: Hash32, condo: Hash32 },
}

impl RecordError {
    /// Stable machine-readable reason, for RPC `data.reason` and scripts.
    pub fn reason(&self) -> &'static str {
        use RecordError::*;
        match self {
            NotFound(_) => "record.not_found",
            ClassNotFound(_) => "record.class_not_found",
            Terminated(_) => "record.terminated",
            NotOwner { .. } => "record.not_owner",
            NationalObject { .. } => "record.national_object",
            ConsentMissing { .. } => "record.encumbrance_consent_missing",
            Arrested { .. } => "record.arrested",
            OwnerConsentMissing { .. } => "record.owner_consent_missing",
            ArrestNeedsCourt => "record.arrest_needs_court",
            ArrestNeedsOrder => "record.arrest_needs_order",
            NationalHolderNotState { .. } => "record.national_holder_not_state",
            NationalTerminationAlone { .. } => "record.national_termination_alone",
            RegistrarRequired { .. } => "record.registrar_required",
            OwnerSignatureRequired { .. } => "record.owner_signature_required",
            NotClassIssuer { .. } => "record.not_class_issuer",
            CategoryMismatch => "record.category_mismatch",
            EncumbranceNotFound { .. } => "record.encumbrance_not_found",
            NotEncumbranceHolder { .. } => "record.not_encumbrance_holder",
            Encumbered { .. } => "record.encumbered",
            EncumberedPartialTransfer { .. } => "record.encumbered_partial_transfer",
            SelfEncumbrance => "record.self_encumbrance",
            TransferToSelf(_) => "record.transfer_to_self",
            InvalidAmount { .. } => "record.invalid_amount",
            NotFungible(_) => "record.not_fungible",
            TooManyEncumbrances { .. } => "record.too_many_encumbrances",
            TextTooLong { .. } => "record.text_too_long",
            TextEmpty { .. } => "record.text_empty",
            ShareUnderAgreement { .. } => "record.share_under_agreement",
        }
    }
}
