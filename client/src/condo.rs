//! The node's views of digital condominiums (`condo_get`, `condo_proposals`,
//! `condo_offers`; Art. 35): participants with their shares, objects, proposals
//! with their tallies, share offers under the pre-emption right. Statuses are
//! judged at `at_height`, the next block's height.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tamga_runtime::condo::{Action, DecisionKind};
use tamga_runtime::records::RecordStatus;
use tamga_runtime::{Hash32, SubjectId};

/// `num/den` of a condominium's denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub num: u64,
    pub den: u64,
}

/// `condo_get`: a condominium as its participants and buyers read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CondoView {
    pub id: Hash32,
    pub account: SubjectId,
    pub agreement: String,
    pub agreement_hash: Hash32,
    pub denominator: u64,
    pub status: CondoState,
    pub dissolved_height: Option<u64>,
    pub governance: GovernanceView,
    pub preemption_blocks: u64,
    pub participants: Vec<Participant>,
    pub individual: Vec<CondoObject>,
    pub shared: Vec<CondoObject>,
    /// Numbers of the proposals still open at `at_height`.
    pub open_proposals: Vec<u64>,
    /// How many proposals and offers there have been.
    pub proposals: u64,
    pub offers: u64,
    pub created_by: SubjectId,
    pub created_height: u64,
    pub at_height: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CondoState {
    Active,
    Dissolved,
}

/// How decisions are taken; thresholds by decision kind, as `"num/den"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GovernanceView {
    Voting {
        thresholds: BTreeMap<String, String>,
    },
    Representative {
        thresholds: BTreeMap<String, String>,
        mandate: MandateView,
    },
    Contract {
        instance: Hash32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MandateView {
    pub representative: SubjectId,
    pub text: String,
    pub kinds: Vec<DecisionKind>,
    pub value_max: u64,
}

/// A participant, the numerators it holds in total, and its share records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub subject: SubjectId,
    pub share: Share,
    /// The share in lowest terms ("1/2").
    pub fraction: String,
    pub records: Vec<Hash32>,
}

/// An individual or shared object; the record's fields are `None` if the
/// record is missing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CondoObject {
    pub record: Hash32,
    pub description: Option<String>,
    pub owner: Option<SubjectId>,
    pub status: Option<RecordStatus>,
}

/// `condo_proposals`: a page of proposals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalsPage {
    pub condo: Hash32,
    pub denominator: u64,
    /// The governance kind: `voting`, `representative` or `contract`.
    pub governance: String,
    pub proposals: Vec<ProposalView>,
    pub next: Option<u64>,
    pub at_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalView {
    pub number: u64,
    pub action: Action,
    pub kind: DecisionKind,
    pub proposer: SubjectId,
    pub opened_height: u64,
    pub deadline_height: u64,
    pub voters: Vec<SubjectId>,
    /// Shares voting for it; `None` when a contract decides.
    pub tally: Option<Share>,
    pub tally_fraction: Option<String>,
    /// `"num/den"` needed; `None` when a contract decides.
    pub threshold: Option<String>,
    pub status: ProposalState,
    pub executed_height: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    Open,
    Expired,
    Executed,
}

/// `condo_offers`: a page of share offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffersPage {
    pub condo: Hash32,
    pub offers: Vec<OfferView>,
    pub next: Option<u64>,
    pub at_height: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferView {
    pub number: u64,
    pub seller: SubjectId,
    pub record: Hash32,
    pub numerator: u64,
    pub share: Share,
    pub terms: String,
    pub opened_height: u64,
    pub preemption_until: u64,
    pub open_until: u64,
    pub consents: Vec<SubjectId>,
    pub taken: Option<Taken>,
    pub status: OfferState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taken {
    pub by: SubjectId,
    pub height: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    Preemption,
    Open,
    Closed,
    Taken,
}
