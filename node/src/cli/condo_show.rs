//! Condominiums (Art. 35) in plain words: what each condominium transaction does,
//! for `tamga tx show` (a founder reviews the shares, the governance and the
//! whole agreement before signing, Art. 50 p.3(1)), and the readable layout of
//! `tamga query condo|proposals|offers`.

use crate::rpc::condo::fraction_text;
use serde_json::{json, Value};
use tamga_runtime::condo::{
    agreement_hash, Action, DecisionKind, Fraction, Governance, Thresholds,
};
use tamga_runtime::types::{hashing, Founder, Payload};
use tamga_runtime::Hash32;

/// The id a condominium-founding transaction with this hash creates.
pub fn created_condo(tx_hash: &Hash32, payload: &Payload) -> Option<Hash32> {
    matches!(payload, Payload::CondoCreate { .. })
        .then(|| hashing::hash(&hashing::DOMAIN_CONDO_ID, &[&tx_hash.0]))
}

fn kind_words(kind: DecisionKind) -> &'static str {
    match kind {
        DecisionKind::Use => "use of a shared object",
        DecisionKind::LeaseOrPledge => "lease or pledge",
        DecisionKind::SaleOrTermination => "sale or termination",
        DecisionKind::Admit => "admitting a participant",
        DecisionKind::ChangeAgreement => "changing the agreement",
        DecisionKind::Dissolve => "dissolution",
    }
}

fn thresholds_words(t: &Thresholds) -> String {
    let kinds = DecisionKind::ALL;
    let each: Vec<String> = kinds
        .iter()
        .map(|k| {
            let Fraction { num, den } = t.of(*k);
            format!("{} {num}/{den}", kind_words(*k))
        })
        .collect();
    format!("share-weighted vote reaching ({})", each.join(", "))
}

fn governance_words(governance: &Governance) -> String {
    match governance {
        Governance::Voting { thresholds } => {
            format!("decisions are taken by {}", thresholds_words(thresholds))
        }
        Governance::Representative { mandate, thresholds } => {
            let kinds: Vec<&str> = mandate.kinds.iter().map(|k| kind_words(*k)).collect();
            format!(
                "subject {} represents the condominium (Art. 35 p.4) and decides alone on {} up to a declared value of {}; everything else by {}; the mandate reads:\n{}",
                mandate.representative,
                if kinds.is_empty() { "nothing".into() } else { kinds.join(", ") },
                mandate.value_max,
                thresholds_words(thresholds),
                mandate.text
            )
        }
        Governance::Contract { instance } => format!(
            "decisions are approved by contract instance {instance}, whose parties are the participants (Art. 35 p.3)"
        ),
    }
}

fn founders_words(founders: &[Founder], denominator: u64) -> String {
    let each: Vec<String> = founders
        .iter()
        .map(|f| {
            format!(
                "subject {} holds {}/{denominator} ({})",
                f.subject,
                f.numerator,
                fraction_text(f.numerator, denominator)
            )
        })
        .collect();
    each.join("; ")
}

fn text_block(what: &str, text: &str) -> String {
    format!(
        "{what} ({} bytes, hash {}):\n{text}",
        text.len(),
        agreement_hash(text)
    )
}

/// What a decision does, in words.
pub fn action_words(action: &Action) -> String {
    let document = |d: &Option<Hash32>| {
        d.map(|d| format!(", citing document {d}"))
            .unwrap_or_default()
    };
    match action {
        Action::Use { object, terms } => format!("a rule of use of shared object {object}: {terms:?}"),
        Action::Lease { object, lessee, value, document: d } => format!(
            "lease shared object {object} to subject {lessee} for a declared value of {value}{}",
            document(d)
        ),
        Action::Pledge { object, pledgee, value, document: d } => format!(
            "pledge shared object {object} to subject {pledgee} as security worth {value}{}",
            document(d)
        ),
        Action::Sell { object, buyer, value } => format!(
            "sell shared object {object} to subject {buyer} for a declared value of {value}"
        ),
        Action::Terminate { object } => format!("terminate the rights in shared object {object}"),
        Action::Admit { subject, numerator } => format!(
            "admit subject {subject} with a new share of {numerator} (the denominator grows by {numerator}: every share is diluted in proportion; the newcomer co-signs)"
        ),
        Action::ChangeAgreement { agreement } => text_block("replace the agreement with", agreement),
        Action::Dissolve { distribution } => {
            let each: Vec<String> = distribution
                .iter()
                .map(|a| format!("object {} to subject {}", a.object, a.to))
                .collect();
            format!(
                "dissolve the condominium: {}; every participation record terminates",
                if each.is_empty() { "no shared object to allot".into() } else { each.join(", ") }
            )
        }
    }
}

/// What a condominium transaction does, in words; `None` for other payloads.
pub fn describe(payload: &Payload) -> Option<String> {
    Some(match payload {
        Payload::CondoCreate { agreement, denominator, participants, governance, preemption_blocks } => format!(
            "Found a digital condominium (Art. 35) of {} participant(s): {}; {}; a share offered for sale is reserved for the other participants for {preemption_blocks} blocks. Every founder must sign. {}",
            participants.len(),
            founders_words(participants, *denominator),
            governance_words(governance),
            text_block("The agreement", agreement)
        ),
        Payload::CondoAttach { condo, record, shared: true } => format!(
            "Hand record {record} over to condominium {condo} as a shared object: it moves to the condominium's own account, and only a decision of the condominium disposes of it (Art. 35 p.2(2))"
        ),
        Payload::CondoAttach { condo, record, shared: false } => format!(
            "List record {record} as the signer's individual object in condominium {condo}: it stays the signer's (Art. 35 p.2(1))"
        ),
        Payload::CondoPropose { condo, action, deadline_height } => format!(
            "Propose to condominium {condo}: {}; open until height {deadline_height}; the signer's share counts as a vote for it",
            action_words(action)
        ),
        Payload::CondoVote { condo, proposal } => {
            format!("Vote for proposal #{proposal} of condominium {condo} with the signer's share")
        }
        Payload::CondoAct { condo, action } => format!(
            "As the representative of condominium {condo}, within the mandate (Art. 35 p.4): {}",
            action_words(action)
        ),
        Payload::CondoOffer { condo, record, numerator, terms, open_blocks } => format!(
            "Offer {numerator} of participation record {record} in condominium {condo} for sale on the terms {terms:?}: the other participants may take it first (pre-emption), then anyone, for {open_blocks} blocks in all"
        ),
        Payload::CondoTake { condo, offer } => {
            format!("Take offer #{offer} of a share in condominium {condo}, on the offer's terms")
        }
        _ => return None,
    })
}

/// A JSON value as people read it: strings bare, `-` for nothing.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn governance_text(g: &Value) -> Vec<String> {
    let mut lines = vec![format!("governance   {}", plain(&g["kind"]))];
    if let Some(thresholds) = g["thresholds"].as_object() {
        for (kind, threshold) in thresholds {
            lines.push(format!("  threshold  {kind:<20} {}", plain(threshold)));
        }
    }
    if g["mandate"].is_object() {
        let m = &g["mandate"];
        lines.push(format!("  representative {}", plain(&m["representative"])));
        lines.push(format!(
            "  mandate    {} up to value {}",
            m["kinds"], m["value_max"]
        ));
    }
    if !g["instance"].is_null() {
        lines.push(format!("  instance   {}", plain(&g["instance"])));
    }
    lines
}

/// `tamga query condo` for people.
pub fn condo_text(c: &Value) -> String {
    let mut lines = vec![
        format!("condominium  {}", plain(&c["id"])),
        match &c["dissolved_height"] {
            Value::Null => format!("status       {}", plain(&c["status"])),
            height => format!("status       {} at height {height}", plain(&c["status"])),
        },
        format!(
            "account      {} (owns the shared objects)",
            plain(&c["account"])
        ),
        format!(
            "created      at height {} by {}",
            c["created_height"],
            plain(&c["created_by"])
        ),
        format!("denominator  {}", c["denominator"]),
    ];
    lines.extend(governance_text(&c["governance"]));
    lines.push(format!("pre-emption  {} blocks", c["preemption_blocks"]));
    for p in c["participants"].as_array().into_iter().flatten() {
        lines.push(format!(
            "participant  {}  {}/{} ({})  records {}",
            plain(&p["subject"]),
            p["share"]["num"],
            p["share"]["den"],
            plain(&p["fraction"]),
            p["records"]
        ));
    }
    for (list, what) in [("individual", "individual"), ("shared", "shared     ")] {
        for o in c[list].as_array().into_iter().flatten() {
            lines.push(format!(
                "{what}   {}  {:?} owned by {}",
                plain(&o["record"]),
                plain(&o["description"]),
                plain(&o["owner"])
            ));
        }
    }
    lines.push(format!("open proposals {}", c["open_proposals"]));
    lines.push(format!(
        "agreement    (hash {}):\n{}",
        plain(&c["agreement_hash"]),
        plain(&c["agreement"])
    ));
    lines.join("\n")
}

/// `tamga query proposals` for people.
pub fn proposals_text(v: &Value) -> String {
    let mut lines = vec![];
    for p in v["proposals"].as_array().into_iter().flatten() {
        let status = match &p["executed_height"] {
            Value::Null => plain(&p["status"]),
            height => format!("{} at height {height}", plain(&p["status"])),
        };
        let tally = match p["tally"].is_null() {
            true => "decided by the governing contract".to_owned(),
            false => format!(
                "tally {}/{} ({}) of threshold {}",
                p["tally"]["num"],
                p["tally"]["den"],
                plain(&p["tally_fraction"]),
                plain(&p["threshold"])
            ),
        };
        lines.push(format!(
            "#{} {}  by {}  deadline {}  {}  {}\n   {}",
            p["number"],
            plain(&p["kind"]),
            plain(&p["proposer"]),
            p["deadline_height"],
            tally,
            status,
            p["action"]
        ));
    }
    if lines.is_empty() {
        lines.push("no proposals".into());
    }
    if !v["next"].is_null() {
        lines.push(format!("more after #{} (--after {})", v["next"], v["next"]));
    }
    lines.join("\n")
}

/// `tamga query offers` for people.
pub fn offers_text(v: &Value) -> String {
    let mut lines = vec![];
    for o in v["offers"].as_array().into_iter().flatten() {
        lines.push(format!(
            "#{} {}/{} of record {} by {}  participants only until {}, open until {}  {}{}\n   terms {}",
            o["number"],
            o["share"]["num"],
            o["share"]["den"],
            plain(&o["record"]),
            plain(&o["seller"]),
            o["preemption_until"],
            o["open_until"],
            plain(&o["status"]),
            o["taken"]["by"]
                .as_str()
                .map(|by| format!(" by {by} at height {}", o["taken"]["height"]))
                .unwrap_or_default(),
            o["terms"]
        ));
    }
    if lines.is_empty() {
        lines.push("no offers".into());
    }
    if !v["next"].is_null() {
        lines.push(format!("more after #{} (--after {})", v["next"], v["next"]));
    }
    lines.join("\n")
}

/// A record's asset in words: a share is `share N/D of condominium ID`, given the
/// condominium's denominator when known.
pub fn asset_text(asset: &Value, denominator: Option<u64>) -> String {
    let share = &asset["share"];
    if share.is_object() {
        let den = denominator.map(|d| format!("/{d}")).unwrap_or_default();
        return format!(
            "share {}{den} of condominium {}",
            share["numerator"],
            plain(&share["condo"])
        );
    }
    asset.to_string()
}

/// Lifts a condominium transaction's results to the top level: the new
/// condominium and its share records, proposal and offer numbers, and the
/// decision carried out.
pub fn lift_results(result: &mut Value) {
    let events = result["events"].as_array().cloned().unwrap_or_default();
    if let Some(created) = events.iter().find(|e| e["condo_created"].is_object()) {
        result["condo"] = created["condo_created"]["condo"].clone();
        let shares: Vec<Value> = events
            .iter()
            .filter_map(|e| e["registered"]["record"].as_str().map(|r| json!(r)))
            .collect();
        result["shares"] = Value::Array(shares);
        if let Some(object) = result.as_object_mut() {
            object.remove("record");
        }
    }
    for (event, field, key) in [
        ("condo_proposed", "proposal", "proposal"),
        ("condo_voted", "tally", "tally"),
        ("condo_share_offered", "offer", "offer"),
        ("condo_decided", "action", "decided"),
    ] {
        if let Some(found) = events.iter().find(|e| !e[event][field].is_null()) {
            result[key] = found[event][field].clone();
        }
    }
}
