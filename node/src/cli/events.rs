//! Events in sentences for people: the one place the CLI's text output turns a
//! ledger event into words ("registered to alice by registrar"), for `tamga
//! query history`, `tamga query tx` and every transaction command. Keys and
//! subjects are named by their local keyring names where this home knows them
//! (a subject by the key its certificate binds), shortened hex otherwise.
//! `--output json` never comes here: it prints the node's events as they are.

use super::client::Client;
use crate::keyring;
use std::collections::HashMap;
use std::fmt::Display;
use std::path::Path;
use tamga_runtime::condo::Action;
use tamga_runtime::records::Event;
use tamga_runtime::{Hash32, PublicKey, SubjectId};

/// Keyring keys asked about: a keyring is a handful of keys; past this the
/// rest are shown as hex rather than asking the node about each.
const KEYS_LOOKED_UP_MAX: usize = 64;

/// Names for keys and subjects, from the local keyring.
#[derive(Default)]
pub struct Names {
    keys: HashMap<PublicKey, String>,
    subjects: HashMap<SubjectId, String>,
}

impl Names {
    /// Names that know `keys` and `subjects`.
    #[cfg(test)]
    pub fn new(keys: HashMap<PublicKey, String>, subjects: HashMap<SubjectId, String>) -> Self {
        Names { keys, subjects }
    }

    /// The keyring's names, and for each key the subject its certificate binds
    /// it to (asked of the node). A keyring or node that cannot answer names less.
    pub async fn load(home: &Path, client: &Client) -> Names {
        let mut names = Names::default();
        let keys = keyring::list(home).unwrap_or_default();
        for key in keys.into_iter().take(KEYS_LOOKED_UP_MAX) {
            if let Ok(found) = client.cert_status(key.public_key, None).await {
                names
                    .subjects
                    .entry(found.certificate.subject)
                    .or_insert_with(|| key.name.clone());
            }
            names.keys.insert(key.public_key, key.name);
        }
        names
    }

    pub fn key(&self, key: &PublicKey) -> String {
        self.keys.get(key).cloned().unwrap_or_else(|| short(key))
    }

    pub fn subject(&self, subject: &SubjectId) -> String {
        self.subjects
            .get(subject)
            .cloned()
            .unwrap_or_else(|| short(subject))
    }

    fn subjects(&self, subjects: &[SubjectId]) -> String {
        let named: Vec<String> = subjects.iter().map(|s| self.subject(s)).collect();
        match named.len() {
            0 => "no one".into(),
            _ => named.join(", "),
        }
    }
}

/// An id shortened for reading: its first 12 hex characters.
pub fn short(id: impl Display) -> String {
    let text = id.to_string();
    match text.len() {
        0..=16 => text,
        _ => format!("{}…", &text[..12]),
    }
}

/// A serde-named value (`false_data`) in words (`false data`).
fn words<T: serde::Serialize>(value: &T) -> String {
    let text = serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    text.replace('_', " ")
}

/// The event in a sentence, about the record whose history it is in (its id
/// is not repeated; other ids are named).
pub fn sentence(event: &Event, n: &Names) -> String {
    match event {
        Event::Registered {
            owner, registrar, ..
        } => format!(
            "registered to {} by {}",
            n.subject(owner),
            n.subject(registrar)
        ),
        Event::Transferred {
            from, to, amount, ..
        } => format!(
            "transferred {}from {} to {}",
            amount.map(|a| format!("{a} ")).unwrap_or_default(),
            n.subject(from),
            n.subject(to)
        ),
        Event::SplitOff {
            record,
            from_record,
            owner,
            amount,
        } => format!(
            "{amount} split off record {} into record {}, owned by {}",
            short(from_record),
            short(record),
            n.subject(owner)
        ),
        Event::Encumbered { encumbrance: e, .. } => format!(
            "encumbered with {} #{} held by {}{}",
            words(&e.kind),
            e.id,
            n.subject(&e.holder),
            e.document
                .map(|d| format!(", citing document {}", short(d)))
                .unwrap_or_default()
        ),
        Event::Released {
            encumbrance, by, ..
        } => format!("encumbrance #{encumbrance} released by {}", n.subject(by)),
        Event::Terminated { by, .. } => format!("rights terminated by {}", n.subject(by)),
        Event::Deposited { instance, by, .. } => format!(
            "deposited into contract instance {} by {}",
            short(instance),
            n.subject(by)
        ),
        other => other_sentence(other, n),
    }
}

/// The event in a sentence that names the record it changed: a transaction's
/// events are not about one record.
pub fn sentence_with_record(event: &Event, n: &Names) -> String {
    let plain = sentence(event, n);
    match event {
        Event::Registered { record, .. }
        | Event::Transferred { record, .. }
        | Event::Encumbered { record, .. }
        | Event::Released { record, .. }
        | Event::Terminated { record, .. }
        | Event::Deposited { record, .. } => format!("record {}: {plain}", short(record)),
        _ => plain,
    }
}

/// Contracts, certificates, documents and validators.
fn other_sentence(event: &Event, n: &Names) -> String {
    match event {
        Event::ClassRegistered { class, issuer } => {
            format!("class {} registered by {}", short(class), n.subject(issuer))
        }
        Event::ContractDeployed {
            contract,
            code_hash,
            terms_hash,
        } => format!(
            "contract {} deployed (code {}, terms {})",
            short(contract),
            short(code_hash),
            short(terms_hash)
        ),
        Event::InstanceProposed { instance, contract } => format!(
            "instance {} of contract {} proposed",
            short(instance),
            short(contract)
        ),
        Event::InstanceAccepted { instance, party } => format!(
            "instance {} accepted by {}",
            short(instance),
            n.subject(party)
        ),
        Event::InstanceActivated { instance } => {
            format!("instance {} active: every party accepted", short(instance))
        }
        Event::ContractCalled {
            instance,
            caller,
            output,
            fuel_used,
        } => format!(
            "instance {} called by {} ({fuel_used} fuel, {} bytes out)",
            short(instance),
            n.subject(caller),
            output.0.len()
        ),
        Event::ContractEmitted { instance, data } => format!(
            "instance {} emitted {} bytes: {}",
            short(instance),
            data.0.len(),
            short(hex::encode(&data.0))
        ),
        Event::DisputeOpened {
            instance,
            by,
            reason,
            deadline_height,
        } => format!(
            "dispute on instance {} opened by {} (reason document {}); arbiters rule by height {deadline_height}",
            short(instance),
            n.subject(by),
            short(reason)
        ),
        Event::Ruled {
            instance,
            decision_text,
            arbiters,
            terminated,
        } => format!(
            "ruling on instance {} by {} (decision document {}){}",
            short(instance),
            n.subjects(arbiters),
            short(decision_text),
            if *terminated { ": instance terminated" } else { "" }
        ),
        other => pki_sentence(other, n),
    }
}

fn pki_sentence(event: &Event, n: &Names) -> String {
    match event {
        Event::ValidatorSetScheduled {
            effective_height,
            validators,
        } => {
            let set: Vec<String> = validators
                .iter()
                .map(|(key, power)| format!("{} (power {power})", n.key(key)))
                .collect();
            format!(
                "validator set scheduled from height {effective_height}: {}",
                set.join(", ")
            )
        }
        Event::DocumentAnchored { document, signers } => format!(
            "document {} anchored, signed by {}",
            short(document),
            n.subjects(signers)
        ),
        Event::CertificateIssued {
            certificate,
            subject,
            key,
            issuer,
        } => format!(
            "certificate {} issued by {}: key {} speaks for {}",
            short(certificate),
            n.subject(issuer),
            n.key(key),
            n.subject(subject)
        ),
        Event::CertificateRevoked {
            certificate,
            subject,
            reason,
            effective_height,
            by,
        } => format!(
            "certificate {} of {} revoked by {} ({}) from height {effective_height}",
            short(certificate),
            n.subject(subject),
            n.subject(by),
            words(reason)
        ),
        Event::PersonalDataErased { subject, by } => format!(
            "personal data of {} erased by {}",
            n.subject(subject),
            n.subject(by)
        ),
        other => condo_sentence(other, n),
    }
}

fn condo_sentence(event: &Event, n: &Names) -> String {
    match event {
        Event::CondoCreated { condo, account } => format!(
            "condominium {} created, its account {}",
            short(condo),
            short(account)
        ),
        Event::CondoAttached {
            condo,
            record,
            shared,
        } => format!(
            "record {} attached to condominium {} as {} object",
            short(record),
            short(condo),
            if *shared { "a shared" } else { "an individual" }
        ),
        Event::CondoProposed {
            condo,
            proposal,
            by,
        } => format!(
            "proposal #{proposal} of condominium {} opened by {}",
            short(condo),
            n.subject(by)
        ),
        Event::CondoVoted {
            condo,
            proposal,
            by,
            tally,
        } => format!(
            "{} voted for proposal #{proposal} of condominium {} ({tally} parts for it now)",
            n.subject(by),
            short(condo)
        ),
        Event::CondoDecided {
            condo,
            proposal,
            action,
            by,
        } => format!(
            "condominium {} decided{}: {}, carried out by {}",
            short(condo),
            proposal
                .map(|p| format!(" proposal #{p}"))
                .unwrap_or_default(),
            action_words(action, n),
            n.subject(by)
        ),
        Event::CondoShareOffered {
            condo,
            offer,
            record,
            numerator,
        } => format!(
            "{numerator} parts of share record {} offered for sale (offer #{offer} of condominium {})",
            short(record),
            short(condo)
        ),
        Event::CondoShareTaken {
            condo,
            offer,
            record,
            buyer,
        } => format!(
            "offer #{offer} of condominium {} taken by {} (share record {})",
            short(condo),
            n.subject(buyer),
            short(record)
        ),
        Event::CondoDissolved { condo } => {
            format!("condominium {} dissolved", short(condo))
        }
        // Record events are rendered by `sentence` before they get here; this
        // names any other kind rather than print nothing.
        other => format!("{} event", event_name(other)),
    }
}

/// An event's kind as the ledger's JSON names it, in words (`condo created`).
fn event_name(event: &Event) -> String {
    let value = serde_json::to_value(event).unwrap_or_default();
    let name = match &value {
        serde_json::Value::Object(map) => map.keys().next().cloned().unwrap_or_default(),
        serde_json::Value::String(name) => name.clone(),
        _ => String::new(),
    };
    name.replace('_', " ")
}

/// What a condominium decided, in words.
pub fn action_words(action: &Action, n: &Names) -> String {
    let object = |o: &Hash32| format!("object {}", short(o));
    match action {
        Action::Use { object: o, terms } => format!("use of {} on terms {terms:?}", object(o)),
        Action::Lease {
            object: o,
            lessee,
            value,
            ..
        } => format!(
            "lease of {} to {} for {value}",
            object(o),
            n.subject(lessee)
        ),
        Action::Pledge {
            object: o,
            pledgee,
            value,
            ..
        } => format!(
            "pledge of {} to {} for {value}",
            object(o),
            n.subject(pledgee)
        ),
        Action::Sell {
            object: o,
            buyer,
            value,
        } => format!("sale of {} to {} for {value}", object(o), n.subject(buyer)),
        Action::Terminate { object: o } => format!("termination of {}", object(o)),
        Action::Admit { subject, numerator } => {
            format!("admission of {} with {numerator} parts", n.subject(subject))
        }
        Action::ChangeAgreement { .. } => "a new agreement".into(),
        Action::Dissolve { distribution } => {
            format!("dissolution, {} objects allotted", distribution.len())
        }
    }
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
