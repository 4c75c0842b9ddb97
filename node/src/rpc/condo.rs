//! JSON-RPC views of digital condominiums (Art. 35), so participants, buyers and
//! courts can read what the ledger holds without decoding state: who holds which
//! share (p.5), which objects are individual or shared and who owns them (p.2),
//! how decisions are taken (p.3-4), every proposal with its tally against its
//! threshold, and share offers under the pre-emption right. Parameters are
//! positional.
//!
//! | method | params | result |
//! |---|---|---|
//! | `condo_get` | `[condo_id]` | agreement, account, denominator, status, governance, participants with their shares and share records, individual and shared objects with their owners, open proposals |
//! | `condo_proposals` | `[condo_id, after?, limit?]` | proposals numbered after `after`, each with its action, voters, tally, threshold and status (`open`, `expired`, `executed`); `next` resumes |
//! | `condo_offers` | `[condo_id, after?, limit?]` | share offers numbered after `after`, with their windows and status (`preemption`, `open`, `closed`, `taken`); `next` resumes |
//!
//! Status is judged at `at_height`, the height of the next block: a proposal is
//! `expired` once that height is past its deadline (or its condominium is
//! dissolved), since no vote can then be counted. An unknown condominium is
//! refused with `data.reason` `condo.not_found`.

use super::errors::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value};
use tamga_runtime::condo::{
    self, Condo, CondoError, CondoStatus, DecisionKind, Fraction, Governance, Offer, Proposal,
    ProposalStatus, Thresholds,
};
use tamga_runtime::execute::ApplyError;
use tamga_runtime::records::Record;
use tamga_runtime::state::{get_typed, keys, StateRead};
use tamga_runtime::{Hash32, SubjectId, TxError};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Largest page of proposals or offers (a proposal may carry a 32 KiB agreement).
pub const PAGE_MAX: u64 = 100;

pub(super) fn register(m: &mut super::Methods) -> anyhow::Result<()> {
    let get_def = MethodDef::new("condo_get", "A digital condominium (Art. 35)")
        .param("condo_id", schema::hash(), "the condominium's id")
        .result(
            "condo",
            schema::object(&["id", "account", "agreement", "denominator", "status", "governance", "participants", "individual", "shared", "open_proposals", "at_height"]),
            "agreement and its hash, denominator, status, governance, participants with their shares and share records, individual and shared objects with their owners, open proposals",
        )
        .not_found("condo.not_found")
        .storage();
    m.add(get_def, |app, p| {
        let (id,): (String,) = p.parse()?;
        condo_view(&app.storage, &id_param(&id)?, at_height(app))
    })?;
    m.add(paged_def("condo_proposals", "A condominium's proposals with their tallies")
        .result(
            "proposals",
            schema::object(&["condo", "denominator", "governance", "proposals", "next", "at_height"]),
            "proposals numbered after `after`, each with its action, voters, tally, threshold and status (`open`, `expired`, `executed`); `next` resumes",
        ), |app, p| {
        let (id, page) = paged(&p)?;
        proposals_view(&app.storage, &id, page, at_height(app))
    })?;
    m.add(paged_def("condo_offers", "A condominium's share offers under the pre-emption right")
        .result(
            "offers",
            schema::object(&["condo", "offers", "next", "at_height"]),
            "share offers numbered after `after`, with their windows and status (`preemption`, `open`, `closed`, `taken`); `next` resumes",
        ), |app, p| {
        let (id, page) = paged(&p)?;
        offers_view(&app.storage, &id, page, at_height(app))
    })?;
    Ok(())
}

/// A listing by condominium id, `after` a number, at most `limit`.
fn paged_def(name: &'static str, summary: &'static str) -> MethodDef {
    MethodDef::new(name, summary)
        .param("condo_id", schema::hash(), "the condominium's id")
        .optional(
            "after",
            schema::uint(),
            "list numbers after this one (default 0)",
        )
        .optional(
            "limit",
            schema::limit(PAGE_MAX as usize),
            "at most this many (default 100)",
        )
        .not_found("condo.not_found")
        .storage()
}

/// The height statuses are judged at: the next block's.
fn at_height(app: &App) -> u64 {
    app.tip().height + 1
}

fn id_param(text: &str) -> Result<Hash32, ErrorObjectOwned> {
    Hash32::from_hex(text).map_err(|e| invalid_params(format!("condominium id: {e}")))
}

/// Numbers after `after`, at most `limit` of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub after: u64,
    pub limit: u64,
}

fn paged(params: &Params) -> Result<(Hash32, Page), ErrorObjectOwned> {
    let mut seq = params.sequence();
    let id = id_param(&seq.next::<String>()?)?;
    let after: Option<u64> = seq.optional_next()?;
    let limit: Option<u64> = seq.optional_next()?;
    let limit = match limit {
        None => PAGE_MAX,
        Some(n) if (1..=PAGE_MAX).contains(&n) => n,
        Some(n) => return Err(invalid_params(format!("limit {n} must be 1..={PAGE_MAX}"))),
    };
    let after = after.unwrap_or(0);
    Ok((id, Page { after, limit }))
}

/// A rule refusal (an unknown condominium) or a corrupt store, as an RPC error.
fn read_error(e: ApplyError) -> ErrorObjectOwned {
    let e = TxError::from(e);
    match e {
        TxError::Condo(CondoError::NotFound(id)) => not_found_condo(&id),
        other => app_error(NODE_ERROR, other.reason(), other.to_string()),
    }
}

fn not_found_condo(id: &Hash32) -> ErrorObjectOwned {
    let e = CondoError::NotFound(*id);
    app_error(NOT_FOUND, e.reason(), e.to_string())
}

fn load<T: tamga_runtime::types::encoding::Decode<()>>(
    state: &dyn StateRead,
    key: &[u8],
) -> Result<Option<T>, ErrorObjectOwned> {
    get_typed(state, key).map_err(|e| read_error(e.into()))
}

fn load_condo(state: &dyn StateRead, id: &Hash32) -> Result<Condo, ErrorObjectOwned> {
    load(state, &keys::condo(id))?.ok_or_else(|| not_found_condo(id))
}

pub fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `num/den` in lowest terms ("1/2" for 3/6).
pub fn fraction_text(num: u64, den: u64) -> String {
    let g = gcd(num, den).max(1);
    format!("{}/{}", num / g, den / g)
}

fn threshold_text(f: Fraction) -> String {
    format!("{}/{}", f.num, f.den)
}

/// The name of a decision kind, as the ledger's JSON spells it.
fn kind_name(kind: DecisionKind) -> Value {
    serde_json::to_value(kind).expect("decision kinds serialize")
}

fn thresholds_json(t: &Thresholds) -> Value {
    let kinds = DecisionKind::ALL;
    let mut out = serde_json::Map::new();
    for kind in kinds {
        let name = kind_name(kind).as_str().unwrap_or_default().to_owned();
        out.insert(name, json!(threshold_text(t.of(kind))));
    }
    Value::Object(out)
}

pub fn governance_json(governance: &Governance) -> Value {
    match governance {
        Governance::Voting { thresholds } => {
            json!({ "kind": "voting", "thresholds": thresholds_json(thresholds) })
        }
        Governance::Representative {
            mandate,
            thresholds,
        } => json!({
            "kind": "representative",
            "thresholds": thresholds_json(thresholds),
            "mandate": {
                "representative": mandate.representative,
                "text": mandate.text,
                "kinds": mandate.kinds,
                "value_max": mandate.value_max,
            },
        }),
        Governance::Contract { instance } => json!({ "kind": "contract", "instance": instance }),
    }
}

/// Each participant with the numerators it holds and its records, in first-held order.
struct Holding {
    subject: SubjectId,
    numerator: u64,
    records: Vec<Hash32>,
}

fn holdings(state: &dyn StateRead, condo: &Condo) -> Result<Vec<Holding>, ErrorObjectOwned> {
    let mut out: Vec<Holding> = Vec::new();
    for record in condo::share_records(state, condo).map_err(read_error)? {
        let tamga_runtime::records::Asset::Share { numerator, .. } = record.asset else {
            continue;
        };
        match out.iter_mut().find(|h| h.subject == record.owner) {
            Some(h) => {
                h.numerator += numerator;
                h.records.push(record.id);
            }
            None => out.push(Holding {
                subject: record.owner,
                numerator,
                records: vec![record.id],
            }),
        }
    }
    Ok(out)
}

fn objects_json(state: &dyn StateRead, ids: &[Hash32]) -> Result<Vec<Value>, ErrorObjectOwned> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let record: Option<Record> = load(state, &keys::record(id))?;
        out.push(json!({
            "record": id,
            "description": record.as_ref().map(|r| &r.description),
            "owner": record.as_ref().map(|r| r.owner),
            "status": record.as_ref().map(|r| r.status),
        }));
    }
    Ok(out)
}

/// Whether a proposal can still be taken at `at`.
fn is_open(condo: &Condo, proposal: &Proposal, at: u64) -> bool {
    proposal.status == ProposalStatus::Open
        && at <= proposal.deadline_height
        && condo.status == CondoStatus::Active
}

pub fn condo_view(state: &dyn StateRead, id: &Hash32, at: u64) -> RpcResult {
    let condo = load_condo(state, id)?;
    let participants: Vec<Value> = holdings(state, &condo)?
        .into_iter()
        .map(|h| {
            json!({
                "subject": h.subject,
                "share": { "num": h.numerator, "den": condo.denominator },
                "fraction": fraction_text(h.numerator, condo.denominator),
                "records": h.records,
            })
        })
        .collect();
    let mut open = Vec::new();
    for number in &condo.open_proposals {
        let proposal: Option<Proposal> = load(state, &keys::condo_proposal(id, *number))?;
        if proposal.is_some_and(|p| is_open(&condo, &p, at)) {
            open.push(*number);
        }
    }
    let (status, dissolved_height) = match condo.status {
        CondoStatus::Active => ("active", None),
        CondoStatus::Dissolved { height } => ("dissolved", Some(height)),
    };
    Ok(json!({
        "id": condo.id,
        "account": condo.account(),
        "agreement": condo.agreement,
        "agreement_hash": condo.agreement_hash,
        "denominator": condo.denominator,
        "status": status,
        "dissolved_height": dissolved_height,
        "governance": governance_json(&condo.governance),
        "preemption_blocks": condo.preemption_blocks,
        "participants": participants,
        "individual": objects_json(state, &condo.individual)?,
        "shared": objects_json(state, &condo.shared)?,
        "open_proposals": open,
        "proposals": condo.next_proposal.saturating_sub(1),
        "offers": condo.next_offer.saturating_sub(1),
        "created_by": condo.created_by,
        "created_height": condo.created_height,
        "at_height": at,
    }))
}

/// The numbers of one page among 1..next, and the cursor of the page after it.
fn page_numbers(next: u64, page: Page) -> (std::ops::RangeInclusive<u64>, Option<u64>) {
    let last = next.saturating_sub(1);
    let first = page.after.saturating_add(1);
    let end = page.after.saturating_add(page.limit).min(last);
    let cursor = (end < last).then_some(end);
    (first..=end, cursor)
}

fn proposal_json(condo: &Condo, weights: &[(SubjectId, u64)], p: &Proposal, at: u64) -> Value {
    let kind = p.action.kind();
    let threshold = match &condo.governance {
        Governance::Voting { thresholds } | Governance::Representative { thresholds, .. } => {
            Some(threshold_text(thresholds.of(kind)))
        }
        Governance::Contract { .. } => None,
    };
    // Under a contract the votes are the contract's own; the ledger keeps none.
    let by_contract = matches!(condo.governance, Governance::Contract { .. });
    let tally = condo::tally(weights, &p.voters);
    let (tally, tally_fraction) = match by_contract {
        true => (Value::Null, Value::Null),
        false => (
            json!({ "num": tally, "den": condo.denominator }),
            json!(fraction_text(tally, condo.denominator)),
        ),
    };
    let (status, executed_height) = match p.status {
        ProposalStatus::Executed { height } => ("executed", Some(height)),
        ProposalStatus::Open if is_open(condo, p, at) => ("open", None),
        ProposalStatus::Open => ("expired", None),
    };
    json!({
        "number": p.id,
        "action": p.action,
        "kind": kind_name(kind),
        "proposer": p.proposer,
        "opened_height": p.opened_height,
        "deadline_height": p.deadline_height,
        "voters": p.voters,
        "tally": tally,
        "tally_fraction": tally_fraction,
        "threshold": threshold,
        "status": status,
        "executed_height": executed_height,
    })
}

pub fn proposals_view(state: &dyn StateRead, id: &Hash32, page: Page, at: u64) -> RpcResult {
    let condo = load_condo(state, id)?;
    let weights: Vec<(SubjectId, u64)> = holdings(state, &condo)?
        .into_iter()
        .map(|h| (h.subject, h.numerator))
        .collect();
    let (numbers, next) = page_numbers(condo.next_proposal, page);
    let mut out = Vec::new();
    for number in numbers {
        let proposal: Option<Proposal> = load(state, &keys::condo_proposal(id, number))?;
        if let Some(p) = proposal {
            out.push(proposal_json(&condo, &weights, &p, at));
        }
    }
    Ok(json!({
        "condo": id,
        "denominator": condo.denominator,
        "governance": governance_json(&condo.governance)["kind"],
        "proposals": out,
        "next": next,
        "at_height": at,
    }))
}

fn offer_json(condo: &Condo, o: &Offer, at: u64) -> Value {
    let status = match o.taken {
        Some(_) => "taken",
        None if at > o.open_until || condo.status != CondoStatus::Active => "closed",
        None if at <= o.preemption_until => "preemption",
        None => "open",
    };
    json!({
        "number": o.id,
        "seller": o.seller,
        "record": o.record,
        "numerator": o.numerator,
        "share": { "num": o.numerator, "den": condo.denominator },
        "terms": o.terms,
        "opened_height": o.opened_height,
        "preemption_until": o.preemption_until,
        "open_until": o.open_until,
        "consents": o.consents,
        "taken": o.taken.map(|(by, height)| json!({ "by": by, "height": height })),
        "status": status,
    })
}

pub fn offers_view(state: &dyn StateRead, id: &Hash32, page: Page, at: u64) -> RpcResult {
    let condo = load_condo(state, id)?;
    let (numbers, next) = page_numbers(condo.next_offer, page);
    let mut out = Vec::new();
    for number in numbers {
        let offer: Option<Offer> = load(state, &keys::condo_offer(id, number))?;
        if let Some(o) = offer {
            out.push(offer_json(&condo, &o, at));
        }
    }
    Ok(json!({ "condo": id, "offers": out, "next": next, "at_height": at }))
}

#[cfg(test)]
#[path = "condo_tests.rs"]
mod tests;
