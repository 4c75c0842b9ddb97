//! Every way a condominium operation can be refused, with the rule and the Article
//! in the message and a stable machine-readable reason.

use super::model::DecisionKind;
use crate::types::{Hash32, SubjectId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CondoError {
    #[error("condominium {0} does not exist")]
    NotFound(Hash32),
    #[error("condominium {0} is dissolved")]
    Dissolved(Hash32),
    #[error("a condominium needs at least 2 participants (Art. 35 p.1: participants exercise joint rights) and this ledger allows at most {max}; got {got}")]
    ParticipantCount { got: usize, max: usize },
    #[error("participant {0} is listed twice: each founder is listed once, with its share of the whole (Art. 35 p.5: rights evidenced by records of participation and scope)")]
    DuplicateParticipant(SubjectId),
    #[error(
        "participant {0} has a zero share: a participant holds a share of the rights (Art. 35 p.5)"
    )]
    ZeroShare(SubjectId),
    #[error("shares sum to {sum}/{denominator}, not exactly one: the records must evidence the whole of the rights (Art. 35 p.5)")]
    SharesNotWhole { sum: u128, denominator: u64 },
    #[error("founder {0} has not signed: each participant's rights are determined by an agreement between them (Art. 35 p.5, Art. 44 p.3)")]
    FounderSignatureMissing(SubjectId),
    #[error("threshold {num}/{den} is not a fraction in (0, 1]")]
    BadThreshold { num: u64, den: u64 },
    #[error("a representative can be mandated only for decisions on shared objects (Art. 35 p.4: shared objects are managed through a representative), not {0:?}")]
    MandateNotOnObjects(DecisionKind),
    #[error("the governing instance {0} must be active, have the participants as its parties, and govern no other condominium (Art. 35 p.3, Art. 67)")]
    BadGoverningInstance(Hash32),
    #[error("{0} is not a participant of this condominium (Art. 35 p.1)")]
    NotParticipant(SubjectId),
    #[error("record {record} is already listed in condominium {condo}")]
    AlreadyListed { record: Hash32, condo: Hash32 },
    #[error("condominium {condo} already lists {max} {what} objects, the limit")]
    TooManyObjects {
        condo: Hash32,
        what: &'static str,
        max: usize,
    },
    #[error("record {0} is not a shared object of this condominium (Art. 35 p.2(2))")]
    NotShared(Hash32),
    #[error("record {0} is not a digital object: a digital condominium consists of individual and shared digital objects (Art. 35 p.2)")]
    NotDigital(Hash32),
    #[error("condominium {condo} has no proposal #{proposal}")]
    ProposalNotFound { condo: Hash32, proposal: u64 },
    #[error("proposal #{0} was already executed")]
    ProposalExecuted(u64),
    #[error("proposal #{proposal} expired at height {deadline_height}: it can no longer be taken")]
    ProposalExpired { proposal: u64, deadline_height: u64 },
    #[error("{0} already voted for this proposal: a vote is counted once")]
    AlreadyVoted(SubjectId),
    #[error("deadline {deadline_height} must be after this height and at most {max_blocks} blocks ahead")]
    BadDeadline {
        deadline_height: u64,
        max_blocks: u64,
    },
    #[error("condominium {condo} has {max} open proposals, the limit: wait for some to execute or expire")]
    TooManyProposals { condo: Hash32, max: usize },
    #[error("this condominium's decisions are taken by contract instance {0}: vote through its calls (Art. 35 p.3: a smart contract's terms)")]
    DecidedByContract(Hash32),
    #[error("contract instance {instance} does not govern condominium {condo}")]
    NotGoverningInstance { instance: Hash32, condo: Hash32 },
    #[error("{0} is not this condominium's representative (Art. 35 p.4)")]
    NotRepresentative(SubjectId),
    #[error("the representative's mandate does not cover {kind:?} up to value {value} (it covers {kinds:?} up to {value_max}): outside the mandate the participants decide (Art. 35 p.4)")]
    OutsideMandate {
        kind: DecisionKind,
        value: u64,
        kinds: Vec<DecisionKind>,
        value_max: u64,
    },
    #[error("admitting {0} needs their own signature on the proposal: they join the agreement (Art. 44 p.3)")]
    AdmitteeSignatureMissing(SubjectId),
    #[error("{0} already participates")]
    AlreadyParticipant(SubjectId),
    #[error("the dissolution must allot every shared object exactly once to a participant; {0} is missing, repeated or not shared")]
    BadDistribution(Hash32),
    #[error("participation record {0} is under arrest, or pledged or liened without its holder co-signing the dissolution: a creditor's security does not vanish with the shares")]
    ShareEncumbered(Hash32),
    #[error("record {record} is not a participation share of condominium {condo}")]
    NotAShare { record: Hash32, condo: Hash32 },
    #[error("numerator {numerator} is invalid for a share of {held} (must be 1..={held})")]
    BadNumerator { numerator: u64, held: u64 },
    #[error("the offer must stay open after its pre-emption window: pre-emption {preemption_until}, open until {open_until}")]
    BadOfferWindow {
        preemption_until: u64,
        open_until: u64,
    },
    #[error("condominium {condo} has no offer #{offer}")]
    OfferNotFound { condo: Hash32, offer: u64 },
    #[error("offer #{0} was already taken")]
    OfferTaken(u64),
    #[error("offer #{offer} closed at height {open_until}")]
    OfferClosed { offer: u64, open_until: u64 },
    #[error("until height {preemption_until} only the other participants may take this share: their pre-emption right under the agreement")]
    PreemptionWindow { preemption_until: u64 },
    #[error("after the pre-emption window a share goes only to a buyer the seller {0} agrees to: the seller co-signs the taking")]
    SellerConsentMissing(SubjectId),
    #[error("the seller cannot take their own offer")]
    OwnOffer,
    #[error("the representative cannot be the buyer, lessee or pledgee of a decision it takes alone: this ledger leaves a deal in its own favour to the participants' vote")]
    SelfDealing,
    #[error("{0} has {max} open proposals in this condominium, the limit per participant", max = crate::limits::CONDO_PROPOSALS_PER_PROPOSER_MAX)]
    TooManyOwnProposals(SubjectId),
    #[error("the representative {0} must co-sign the founding: it acts under a contract with the participants (Art. 35 p.4)")]
    RepresentativeSignatureMissing(SubjectId),
    #[error("the denominator would exceed {max}")]
    DenominatorTooLarge { max: u64 },
    #[error("{field} is {len} bytes; the limit is {max}")]
    TextTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} must not be empty")]
    TextEmpty { field: &'static str },
}

impl CondoError {
    /// Stable machine-readable reason, for RPC `data.reason` and scripts.
    pub fn reason(&self) -> &'static str {
        use CondoError::*;
        match self {
            NotFound(_) => "condo.not_found",
            Dissolved(_) => "condo.dissolved",
            ParticipantCount { .. } => "condo.participant_count",
            DuplicateParticipant(_) => "condo.duplicate_participant",
            ZeroShare(_) => "condo.zero_share",
            SharesNotWhole { .. } => "condo.shares_not_whole",
            FounderSignatureMissing(_) => "condo.founder_signature_missing",
            BadThreshold { .. } => "condo.bad_threshold",
            MandateNotOnObjects(_) => "condo.mandate_not_on_objects",
            BadGoverningInstance(_) => "condo.bad_governing_instance",
            NotParticipant(_) => "condo.not_participant",
            AlreadyListed { .. } => "condo.already_listed",
            TooManyObjects { .. } => "condo.too_many_objects",
            NotShared(_) => "condo.not_shared",
            NotDigital(_) => "condo.not_digital",
            ProposalNotFound { .. } => "condo.proposal_not_found",
            ProposalExecuted(_) => "condo.proposal_executed",
            ProposalExpired { .. } => "condo.proposal_expired",
            AlreadyVoted(_) => "condo.already_voted",
            BadDeadline { .. } => "condo.bad_deadline",
            TooManyProposals { .. } => "condo.too_many_proposals",
            DecidedByContract(_) => "condo.decided_by_contract",
            NotGoverningInstance { .. } => "condo.not_governing_instance",
            NotRepresentative(_) => "condo.not_representative",
            OutsideMandate { .. } => "condo.outside_mandate",
            AdmitteeSignatureMissing(_) => "condo.admittee_signature_missing",
            AlreadyParticipant(_) => "condo.already_participant",
            BadDistribution(_) => "condo.bad_distribution",
            ShareEncumbered(_) => "condo.share_encumbered",
            NotAShare { .. } => "condo.not_a_share",
            BadNumerator { .. } => "condo.bad_numerator",
            BadOfferWindow { .. } => "condo.bad_offer_window",
            OfferNotFound { .. } => "condo.offer_not_found",
            OfferTaken(_) => "condo.offer_taken",
            OfferClosed { .. } => "condo.offer_closed",
            PreemptionWindow { .. } => "condo.preemption_window",
            OwnOffer => "condo.own_offer",
            SellerConsentMissing(_) => "condo.seller_consent_missing",
            DenominatorTooLarge { .. } => "condo.denominator_too_large",
            SelfDealing => "condo.self_dealing",
            TooManyOwnProposals(_) => "condo.too_many_own_proposals",
            RepresentativeSignatureMissing(_) => "condo.representative_signature_missing",
            TextTooLong { .. } => "condo.text_too_long",
            TextEmpty { .. } => "condo.text_empty",
        }
    }
}
