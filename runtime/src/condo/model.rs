//! What the ledger stores about digital condominiums (Art. 35): the agreement, the
//! participation records that evidence each participant's share (p.5), the
//! individual and shared objects (p.2), the governance rule that decides over the
//! shared objects (p.3-4), proposals with their votes, and share offers under the
//! participants' pre-emption right.

use crate::types::{hashing, Hash32, SubjectId};
use serde::{Deserialize, Serialize};

/// An exact fraction `num / den`, for thresholds: never floating point.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Fraction {
    pub num: u64,
    pub den: u64,
}

impl Fraction {
    /// A threshold is a fraction in (0, 1].
    pub fn is_threshold(&self) -> bool {
        self.den > 0 && self.num > 0 && self.num <= self.den
    }

    /// Whether `part / whole` is at least this fraction (exact, in u128).
    pub fn reached_by(&self, part: u64, whole: u64) -> bool {
        u128::from(part) * u128::from(self.den) >= u128::from(self.num) * u128::from(whole)
    }
}

/// The kinds of decision a condominium takes, each with its own threshold.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Ordinary use of a shared object.
    Use,
    /// A lease or a pledge of a shared object.
    LeaseOrPledge,
    /// A sale or termination of a shared object.
    SaleOrTermination,
    /// Admitting a participant.
    Admit,
    /// Changing the agreement's text.
    ChangeAgreement,
    /// Dissolving the condominium.
    Dissolve,
}

impl DecisionKind {
    /// Every kind, in the order thresholds are listed.
    pub const ALL: [DecisionKind; 6] = [
        DecisionKind::Use,
        DecisionKind::LeaseOrPledge,
        DecisionKind::SaleOrTermination,
        DecisionKind::Admit,
        DecisionKind::ChangeAgreement,
        DecisionKind::Dissolve,
    ];

    /// Decisions on a shared object, the ones a representative can be mandated to
    /// take (Art. 35 p.4: shared objects are managed through a representative).
    pub fn is_on_object(self) -> bool {
        matches!(
            self,
            DecisionKind::Use | DecisionKind::LeaseOrPledge | DecisionKind::SaleOrTermination
        )
    }
}

/// The share of all participation needed for each kind of decision.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
pub struct Thresholds {
    pub use_object: Fraction,
    pub lease_or_pledge: Fraction,
    pub sale_or_termination: Fraction,
    pub admit: Fraction,
    pub change_agreement: Fraction,
    pub dissolve: Fraction,
}

impl Default for Thresholds {
    /// The usual set: ordinary use by half the shares, a lease or pledge by two
    /// thirds, a sale or termination by three quarters, the rest unanimous.
    fn default() -> Self {
        let f = |num, den| Fraction { num, den };
        Thresholds {
            use_object: f(1, 2),
            lease_or_pledge: f(2, 3),
            sale_or_termination: f(3, 4),
            admit: f(1, 1),
            change_agreement: f(1, 1),
            dissolve: f(1, 1),
        }
    }
}

impl Thresholds {
    pub fn of(&self, kind: DecisionKind) -> Fraction {
        match kind {
            DecisionKind::Use => self.use_object,
            DecisionKind::LeaseOrPledge => self.lease_or_pledge,
            DecisionKind::SaleOrTermination => self.sale_or_termination,
            DecisionKind::Admit => self.admit,
            DecisionKind::ChangeAgreement => self.change_agreement,
            DecisionKind::Dissolve => self.dissolve,
        }
    }

    pub fn all(&self) -> [Fraction; 6] {
        DecisionKind::ALL.map(|kind| self.of(kind))
    }
}

/// A representative's written mandate (Art. 35 p.4: "acting under a contract
/// with the participants"): which decisions on shared objects it takes alone, and
/// up to what declared value each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Mandate {
    pub representative: SubjectId,
    /// The mandate's text, as the participants signed it.
    pub text: String,
    pub kinds: Vec<DecisionKind>,
    /// Largest declared value of one lease, pledge or sale it may agree alone.
    pub value_max: u64,
}

/// Who decides over the shared objects (Art. 35 p.3: "in accordance with the
/// terms set forth in an agreement or a smart contract").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Governance {
    /// The participants, by share-weighted vote.
    Voting { thresholds: Thresholds },
    /// A representative within its mandate; the participants' vote for the rest.
    Representative {
        mandate: Mandate,
        thresholds: Thresholds,
    },
    /// A deployed contract instance (Art. 67) whose parties are the participants:
    /// it approves proposals; its arbitration clause settles disputes.
    Contract { instance: Hash32 },
}

/// What a decision does, carried out on-ledger when it is taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A rule of ordinary use of a shared object, recorded.
    Use { object: Hash32, terms: String },
    /// Lease a shared object to `lessee` for a declared `value`.
    Lease {
        object: Hash32,
        lessee: SubjectId,
        value: u64,
        document: Option<Hash32>,
    },
    /// Pledge a shared object to `pledgee` as security worth a declared `value`.
    Pledge {
        object: Hash32,
        pledgee: SubjectId,
        value: u64,
        document: Option<Hash32>,
    },
    /// Sell a shared object to `buyer` for a declared `value`.
    Sell {
        object: Hash32,
        buyer: SubjectId,
        value: u64,
    },
    /// End the rights in a shared object.
    Terminate { object: Hash32 },
    /// Admit `subject` with a new share of `numerator`: the denominator grows by
    /// it, so every existing share is diluted in proportion.
    Admit { subject: SubjectId, numerator: u64 },
    /// Replace the agreement's text.
    ChangeAgreement { agreement: String },
    /// Dissolve: every shared object goes to the participant named for it;
    /// participation records terminate.
    Dissolve { distribution: Vec<Allotment> },
}

/// One shared object and who receives it on dissolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Allotment {
    pub object: Hash32,
    pub to: SubjectId,
}

impl Action {
    pub fn kind(&self) -> DecisionKind {
        match self {
            Action::Use { .. } => DecisionKind::Use,
            Action::Lease { .. } | Action::Pledge { .. } => DecisionKind::LeaseOrPledge,
            Action::Sell { .. } | Action::Terminate { .. } => DecisionKind::SaleOrTermination,
            Action::Admit { .. } => DecisionKind::Admit,
            Action::ChangeAgreement { .. } => DecisionKind::ChangeAgreement,
            Action::Dissolve { .. } => DecisionKind::Dissolve,
        }
    }

    /// The declared value a mandate's cap applies to (zero for use and termination).
    pub fn value(&self) -> u64 {
        match self {
            Action::Lease { value, .. }
            | Action::Pledge { value, .. }
            | Action::Sell { value, .. } => *value,
            _ => 0,
        }
    }

    /// Who receives a right in the object: the lessee, pledgee or buyer.
    pub fn counterparty(&self) -> Option<SubjectId> {
        match self {
            Action::Lease { lessee: who, .. }
            | Action::Pledge { pledgee: who, .. }
            | Action::Sell { buyer: who, .. } => Some(*who),
            _ => None,
        }
    }

    /// The shared object the action is about, if any.
    pub fn object(&self) -> Option<Hash32> {
        match self {
            Action::Use { object, .. }
            | Action::Lease { object, .. }
            | Action::Pledge { object, .. }
            | Action::Sell { object, .. }
            | Action::Terminate { object } => Some(*object),
            _ => None,
        }
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum CondoStatus {
    Active,
    /// Dissolved at this height; kept for provenance.
    Dissolved {
        height: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Condo {
    pub id: Hash32,
    /// The agreement between the participants (Art. 35 p.5), readable text.
    pub agreement: String,
    pub agreement_hash: Hash32,
    /// Every share is `numerator / denominator`; the numerators of the active
    /// participation records sum to it exactly.
    pub denominator: u64,
    /// Participation records (title records of kind share), in creation order.
    pub shares: Vec<Hash32>,
    pub governance: Governance,
    /// Heights during which only participants may take an offered share.
    pub preemption_blocks: u64,
    /// Individual objects (Art. 35 p.2(1)): listed, owned by their participant.
    pub individual: Vec<Hash32>,
    /// Shared objects (Art. 35 p.2(2)): owned by the condominium's own account.
    pub shared: Vec<Hash32>,
    /// Proposals not yet executed, whose deadline may not have passed.
    pub open_proposals: Vec<u64>,
    pub next_proposal: u64,
    pub next_offer: u64,
    pub status: CondoStatus,
    pub created_by: SubjectId,
    pub created_height: u64,
}

impl Condo {
    /// The owner of the shared objects: derived from the condominium's id, so no
    /// key controls it and only a decision moves what it owns.
    pub fn account(&self) -> SubjectId {
        account_of(&self.id)
    }
}

pub fn account_of(condo: &Hash32) -> SubjectId {
    SubjectId(hashing::hash("tamga 2026 condominium account v1", &[&condo.0]).0)
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    /// Its threshold was reached (or its approver decided) at this height.
    Executed {
        height: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Proposal {
    pub id: u64,
    pub condo: Hash32,
    pub action: Action,
    pub proposer: SubjectId,
    pub opened_height: u64,
    /// The last height at which it can be taken; after it, it is expired.
    pub deadline_height: u64,
    /// Participants who voted for it, each once.
    pub voters: Vec<SubjectId>,
    pub status: ProposalStatus,
}

/// A participant's offer to sell (part of) a share: participants may take it up
/// to `preemption_until`, anyone certified after that until `open_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, bincode::Encode, bincode::Decode)]
pub struct Offer {
    pub id: u64,
    pub condo: Hash32,
    pub seller: SubjectId,
    pub record: Hash32,
    pub numerator: u64,
    /// The terms of the sale (price, payment), as the seller wrote them.
    pub terms: String,
    pub opened_height: u64,
    pub preemption_until: u64,
    pub open_until: u64,
    /// Holders of pledges and liens on the share who consented by co-signing.
    pub consents: Vec<SubjectId>,
    /// Who took it, and at what height.
    pub taken: Option<(SubjectId, u64)>,
}
