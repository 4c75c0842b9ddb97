//! JSON-RPC methods of the signature infrastructure: the online certificate
//! status service and revocation list (Art. 55 p.1(5)), certificates by subject,
//! and the authority's vault of personal data (Art. 41, Art. 55 p.3).
//!
//! | method | params | result |
//! |---|---|---|
//! | `cert_get` | `[certificate_id]` | the certificate and its status now |
//! | `cert_status` | `[certificate_id or public_key, height?]` | status at that height (default: the next) |
//! | `cert_revocations` | `[from_height?, limit?, after?]` | revocations recorded from that height, in order; `next` gives the next page's `from_height` and `after` |
//! | `cert_bySubject` | `[subject, after?, limit?]` | the subject's certificates, with status |
//! | `subject_get` | `[subject]` | kind, identifier commitment, erasure |
//! | `cert_issue` | `[tx_hex, personal, token]` | checks the identifier (Art. 45 p.2, Art. 60 p.4), stores it in the vault, submits |
//! | `cert_identity` | `[subject, token]` | the clear identifier and names, if this node's vault has them |
//! | `cert_checkIdentifier` | `[subject, identifier, salt_hex]` | whether they open the subject's commitment |
//!
//! `token` is the node's `[vault] api_token`: without it configured, the vault
//! methods are refused; a wrong token is refused and changes nothing.

use super::errors::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use crate::vault::{salt_from_hex, token_matches, Identity, NameEntry};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde::Deserialize;
use serde_json::{json, Value};
use tamga_runtime::pki::identifier::{self, NAME_BYTES_MAX};
use tamga_runtime::pki::{Certificate, Subject, SubjectKind, SubjectRef};
use tamga_runtime::state::keys;
use tamga_runtime::types::Payload;
use tamga_runtime::{Hash32, PublicKey, SubjectId};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Largest page of certificates or revocations.
const PAGE_MAX: usize = 1000;

pub(super) fn register(m: &mut super::Methods, token: Option<String>) -> anyhow::Result<()> {
    m.add(get_def(), cert_get)?;
    m.add(status_def(), cert_status)?;
    m.add(revocations_def(), revocations)?;
    m.add(by_subject_def(), by_subject)?;
    m.add(subject_def(), subject_get)?;
    let t = token.clone();
    m.add(issue_def(), move |app, p| issue(app, t.as_deref(), p))?;
    m.add(identity_def(), move |app, p| {
        identity(app, token.as_deref(), p)
    })?;
    m.add(check_def(), check_identifier)?;
    Ok(())
}

fn get_def() -> MethodDef {
    MethodDef::new("cert_get", "A certificate and its status now")
        .param("certificate_id", schema::hash(), "the certificate's id")
        .result(
            "certificate",
            status_schema(),
            "the certificate, its status and the height it was judged at",
        )
        .not_found("not_found.certificate")
        .storage()
}

fn status_def() -> MethodDef {
    MethodDef::new(
        "cert_status",
        "The online certificate status service (Art. 55 p.1(5))",
    )
    .param(
        "id",
        schema::hash(),
        "a certificate id, or a public key (its certificate at that height)",
    )
    .optional(
        "height",
        schema::uint(),
        "a committed height (default: the next block's)",
    )
    .result(
        "status",
        status_schema(),
        "`status`: `valid`, `not_yet_valid`, `expired` or `revoked` (ground, effective height)",
    )
    .not_found("not_found.certificate")
    .storage()
}

fn revocations_def() -> MethodDef {
    MethodDef::new("cert_revocations", "The revocation list, in the order recorded")
        .optional("from_height", schema::uint(), "revocations recorded from this height (default 0)")
        .optional("limit", schema::limit(PAGE_MAX), "at most this many (default 100)")
        .optional("after", schema::hash(), "resume after this certificate (from the previous page's `next`)")
        .result("revocations", schema::object(&["revocations", "next"]), "each with its ground and effective height; `next` gives the next page's `from_height` and `after`, or null")
        .storage()
}

fn by_subject_def() -> MethodDef {
    MethodDef::new(
        "cert_bySubject",
        "A subject's certificates with their status",
    )
    .param("subject", schema::hash(), "the subject's id")
    .optional(
        "after",
        schema::hash(),
        "the cursor: certificates after this id",
    )
    .optional(
        "limit",
        schema::limit(PAGE_MAX),
        "at most this many (default 100)",
    )
    .result(
        "certificates",
        schema::object(&["subject", "certificates", "next"]),
        "the certificates with status, and `next`: the cursor of the next page, or null",
    )
    .storage()
}

fn subject_def() -> MethodDef {
    MethodDef::new(
        "subject_get",
        "A subject: kind, identifier commitment, erasure",
    )
    .param("subject", schema::hash(), "the subject's id")
    .result(
        "subject",
        json!({ "type": "object" }),
        "kind, identifier commitment, erasure height",
    )
    .not_found("not_found.subject")
    .storage()
}

fn identity_def() -> MethodDef {
    MethodDef::new(
        "cert_identity",
        "The clear identifier and names this node's vault keeps",
    )
    .param("subject", schema::hash(), "the subject's id")
    .param("token", schema::string(), "the node's `[vault] api_token`")
    .result(
        "identity",
        json!({ "type": "object" }),
        "the subject's kind, identifier and its salt, names",
    )
    .vault()
    .not_found("not_found.identity")
    .storage()
}

fn check_def() -> MethodDef {
    MethodDef::new(
        "cert_checkIdentifier",
        "Whether an identifier and salt open a subject's commitment",
    )
    .param("subject", schema::hash(), "the subject's id")
    .param("identifier", schema::string(), "the IIN or BIN")
    .param("salt_hex", schema::hex(), "the identifier's salt")
    .result(
        "check",
        schema::object(&["subject", "matches"]),
        "`matches`: whether they open the commitment",
    )
    .not_found("not_found.subject")
    .storage()
}

fn status_schema() -> Value {
    schema::object(&["certificate", "status", "at_height"])
}

fn issue_def() -> MethodDef {
    MethodDef::new("cert_issue", "An authority's certificate issue, with the subject's clear data for the vault")
        .describe("The node checks the IIN/BIN (Art. 45 p.2, Art. 60 p.4) and that the name and identifier open the transaction's commitments, keeps the clear data in its vault, and submits the transaction; the vault is put back if admission refuses it.")
        .param("tx_hex", schema::hex(), "the signed IssueCertificate transaction")
        .param(
            "personal",
            json!({
                "type": "object",
                "properties": {
                    "identifier": { "type": ["string", "null"] },
                    "identifier_salt": { "type": ["string", "null"] },
                    "name": { "type": "string" },
                    "name_salt": { "type": "string" },
                },
                "required": ["name", "name_salt"],
            }),
            "the clear identifier (required for a new subject) and name, with their salts",
        )
        .param("token", schema::string(), "the node's `[vault] api_token`")
        .result("admitted", schema::object(&["hash", "subject"]), "the transaction's hash and the subject")
        .vault()
        .error(TX_REJECTED, "vault.mismatch")
        .error(TX_REJECTED, "pki.identifier_invalid")
        .admits()
}

fn hex32<T: std::str::FromStr<Err = tamga_runtime::types::ParseIdError>>(
    text: &str,
    what: &str,
) -> Result<T, ErrorObjectOwned> {
    text.parse::<T>()
        .map_err(|e| invalid_params(format!("{what}: {e}")))
}

fn load<T: tamga_runtime::types::encoding::Decode<()>>(
    app: &App,
    key: Vec<u8>,
    what: &'static str,
) -> Result<Option<T>, ErrorObjectOwned> {
    app.storage.state_value(&key, what).map_err(node_error)
}

/// The height and block time a status is checked at: a committed height, or
/// (by default) the next block's.
fn at(app: &App, height: Option<u64>) -> Result<(u64, u64), ErrorObjectOwned> {
    let tip = app.tip();
    match height {
        None => {
            let next = app.next_context(crate::clock::now_ms());
            Ok((next.height, next.time_ms))
        }
        Some(h) if h > tip.height => Err(invalid_params(format!(
            "height {h} is not committed yet (tip {})",
            tip.height
        ))),
        Some(h) => {
            check_history(app, "a certificate's status", h)?;
            let block = app.storage.block(h).map_err(node_error)?;
            let time_ms = block.map(|b| b.header.time_ms).unwrap_or(tip.time_ms);
            Ok((h, time_ms))
        }
    }
}

fn with_status(cert: &Certificate, (height, time_ms): (u64, u64)) -> Value {
    json!({
        "certificate": cert,
        "status": cert.status_at(height, time_ms),
        "at_height": height,
    })
}

fn certificate(app: &App, id: &Hash32) -> Result<Certificate, ErrorObjectOwned> {
    load(app, keys::certificate(id), "certificate")?.ok_or_else(|| not_found("certificate", id))
}

fn cert_get(app: &App, params: Params) -> RpcResult {
    let (id,): (String,) = params.parse()?;
    let cert = certificate(app, &hex32(&id, "certificate id")?)?;
    Ok(with_status(&cert, at(app, None)?))
}

/// Status by certificate id, or by public key (its latest certificate).
fn cert_status(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let text: String = seq.next()?;
    let height: Option<u64> = seq.optional_next()?;
    let id: Hash32 = hex32(&text, "certificate id or public key")?;
    let cert = match load::<Certificate>(app, keys::certificate(&id), "certificate")? {
        Some(cert) => cert,
        None => {
            let key = PublicKey(id.0);
            let bound: Option<Hash32> = load(app, keys::key_certificate(&key), "key")?;
            let bound = bound.ok_or_else(|| not_found("certificate", &text))?;
            let latest = certificate(app, &bound)?;
            match height {
                Some(h) => key_certificate_at(app, latest, h)?,
                None => latest,
            }
        }
    };
    Ok(with_status(&cert, at(app, height)?))
}

/// The certificate `latest.key` was bound to at `height`: a renewed key had
/// others before its latest.
fn key_certificate_at(
    app: &App,
    latest: Certificate,
    height: u64,
) -> Result<Certificate, ErrorObjectOwned> {
    if latest.issued_height <= height {
        return Ok(latest);
    }
    let ids = app
        .storage
        .certificates_of(&latest.subject, None, PAGE_MAX)
        .map_err(node_error)?;
    let mut best = latest.clone();
    for id in &ids {
        let cert = certificate(app, id)?;
        let earlier = cert.issued_height <= height;
        if cert.key == latest.key
            && earlier
            && (best.issued_height > height || cert.issued_height > best.issued_height)
        {
            best = cert;
        }
    }
    Ok(best)
}

fn limit(limit: Option<usize>) -> Result<usize, ErrorObjectOwned> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(n) => Err(invalid_params(format!("limit {n} must be 1..={PAGE_MAX}"))),
    }
}

/// The revocation list (Art. 55 p.1(5)): each with its ground and effective
/// height, in the order recorded; `next` resumes after the last one returned.
fn revocations(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let from: Option<u64> = seq.optional_next()?;
    let limit = limit(seq.optional_next()?)?;
    let after: Option<String> = seq.optional_next()?;
    let after = after.map(|a| hex32::<Hash32>(&a, "after")).transpose()?;
    let listed = app
        .storage
        .revocations(from.unwrap_or(0), after, limit)
        .map_err(node_error)?;
    let mut out = Vec::with_capacity(listed.len());
    for (height, id) in &listed {
        let cert = certificate(app, id)?;
        out.push(json!({
            "recorded_height": height,
            "certificate": id,
            "subject": cert.subject,
            "key": cert.key,
            "revocation": cert.revocation,
        }));
    }
    let next = (listed.len() == limit)
        .then(|| {
            listed
                .last()
                .map(|(h, id)| json!({ "from_height": h, "after": id }))
        })
        .flatten();
    Ok(json!({ "revocations": out, "next": next }))
}

fn by_subject(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let subject: SubjectId = hex32(&seq.next::<String>()?, "subject")?;
    let after: Option<String> = seq.optional_next()?;
    let limit = limit(seq.optional_next()?)?;
    let after = after.map(|a| hex32::<Hash32>(&a, "after")).transpose()?;
    let ids = app
        .storage
        .certificates_of(&subject, after, limit)
        .map_err(node_error)?;
    let now = at(app, None)?;
    let certs = ids
        .iter()
        .map(|id| certificate(app, id).map(|c| with_status(&c, now)))
        .collect::<Result<Vec<_>, _>>()?;
    let next = (ids.len() == limit).then(|| ids.last().copied()).flatten();
    Ok(json!({ "subject": subject, "certificates": certs, "next": next }))
}

fn subject_get(app: &App, params: Params) -> RpcResult {
    let (id,): (String,) = params.parse()?;
    let id: SubjectId = hex32(&id, "subject")?;
    let subject: Subject =
        load(app, keys::subject(&id), "subject")?.ok_or_else(|| not_found("subject", id))?;
    Ok(json!(subject))
}

fn check_token(configured: Option<&str>, given: &str) -> Result<(), ErrorObjectOwned> {
    let Some(expected) = configured else {
        return Err(app_error(
            FORBIDDEN,
            "vault.disabled",
            "this node keeps no personal data vault (no [vault] api_token in its config)",
        ));
    };
    if !token_matches(given, expected) {
        return Err(app_error(
            FORBIDDEN,
            "vault.bad_token",
            "the API token is wrong: personal data is shown only to callers the node's config allows (Art. 40 p.5)",
        ));
    }
    Ok(())
}

/// The clear personal data behind a certificate, as the issuing CLI sends it.
#[derive(Deserialize)]
struct Personal {
    /// The IIN or BIN; required for a new subject.
    identifier: Option<String>,
    identifier_salt: Option<String>,
    name: String,
    name_salt: String,
}

fn refused(reason: &str, message: impl Into<String>) -> ErrorObjectOwned {
    app_error(TX_REJECTED, reason, message)
}

/// Checks a certificate issue against its clear data, keeps the data in the vault
/// and submits the transaction; the vault is put back if admission refuses it.
fn issue(app: &App, token: Option<&str>, params: Params) -> RpcResult {
    let (tx_hex, personal, given): (String, Personal, String) = params.parse()?;
    check_token(token, &given)?;
    let checked = super::methods::check_hex(app, &tx_hex)?;
    let Payload::IssueCertificate { subject, name, .. } = &checked.0.tx.tx.payload else {
        return Err(invalid_params(
            "cert_issue takes an IssueCertificate transaction",
        ));
    };
    let Some(identity) = opened_identity(app, subject, name, personal)? else {
        // An erased subject gets a new key, and its data stays erased.
        let subject = subject_of_ref(subject);
        let hash = super::methods::admit(app, Ok(checked))?;
        return Ok(json!({ "hash": hash, "subject": subject }));
    };
    let subject_id = identity.subject;
    let before = app
        .vault
        .put(identity)
        .map_err(|e| refused("vault.mismatch", e.to_string()))?;
    match super::methods::admit(app, Ok(checked)) {
        Ok(hash) => Ok(json!({ "hash": hash, "subject": subject_id })),
        Err(error) => {
            app.vault.restore(&subject_id, before).map_err(node_error)?;
            Err(error)
        }
    }
}

fn subject_of_ref(subject: &SubjectRef) -> SubjectId {
    match subject {
        SubjectRef::New { identifier, .. } => identifier::subject_of(identifier),
        SubjectRef::Existing { subject } => *subject,
    }
}

/// The vault entry a certificate issue brings (its commitments must open), or
/// none for a subject whose data was erased: it stays erased.
fn opened_identity(
    app: &App,
    subject: &SubjectRef,
    name: &Hash32,
    personal: Personal,
) -> Result<Option<Identity>, ErrorObjectOwned> {
    let name_salt =
        salt_from_hex(&personal.name_salt).map_err(|e| invalid_params(e.to_string()))?;
    if personal.name.trim().is_empty() || personal.name.len() > NAME_BYTES_MAX {
        return Err(invalid_params(format!(
            "a name is 1..={NAME_BYTES_MAX} bytes"
        )));
    }
    if identifier::name_commitment(&personal.name, &name_salt) != *name {
        return Err(refused(
            "vault.mismatch",
            "the name and salt do not open the certificate's name commitment",
        ));
    }
    let entry = NameEntry {
        name: personal.name,
        salt: personal.name_salt,
        commitment: *name,
    };
    let (kind, commitment, id) = match subject {
        SubjectRef::New { kind, identifier } => {
            (*kind, *identifier, identifier::subject_of(identifier))
        }
        SubjectRef::Existing { subject } => {
            let known: Subject = load(app, keys::subject(subject), "subject")?
                .ok_or_else(|| not_found("subject", subject))?;
            if known.erased_height.is_some() {
                return Ok(None);
            }
            (known.kind, known.identifier, *subject)
        }
    };
    let (identifier, salt) = match (personal.identifier, personal.identifier_salt) {
        (Some(identifier), Some(salt)) => (identifier, salt),
        _ => match app.vault.get(&id).map_err(node_error)? {
            Some(known) => (known.identifier, known.identifier_salt),
            None => return Err(invalid_params(
                "the identifier and its salt are required: this vault does not know the subject",
            )),
        },
    };
    check_identifier_value(kind, &identifier)?;
    let identity = Identity {
        subject: id,
        kind,
        identifier,
        identifier_salt: salt,
        identifier_commitment: commitment,
        names: vec![entry],
    };
    identity
        .check()
        .map_err(|e| refused("vault.mismatch", e.to_string()))?;
    Ok(Some(identity))
}

/// The IIN or BIN is well formed (Art. 45 p.2), and an individual is sixteen
/// (Art. 60 p.4) by this node's calendar.
fn check_identifier_value(kind: SubjectKind, value: &str) -> Result<(), ErrorObjectOwned> {
    let refuse = |e: identifier::IdentifierError| refused(e.reason(), e.to_string());
    identifier::validate(kind, value).map_err(refuse)?;
    if kind == SubjectKind::Individual {
        identifier::check_age(value, crate::clock::today()).map_err(refuse)?;
    }
    Ok(())
}

fn identity(app: &App, token: Option<&str>, params: Params) -> RpcResult {
    let (subject, given): (String, String) = params.parse()?;
    check_token(token, &given)?;
    let subject: SubjectId = hex32(&subject, "subject")?;
    let identity = app.vault.get(&subject).map_err(node_error)?;
    identity
        .map(|i| json!(i))
        .ok_or_else(|| not_found("identity", subject))
}

/// Anyone holding the value and its salt may check them against the ledger.
fn check_identifier(app: &App, params: Params) -> RpcResult {
    let (subject, value, salt): (String, String, String) = params.parse()?;
    let subject: SubjectId = hex32(&subject, "subject")?;
    let salt = salt_from_hex(&salt).map_err(|e| invalid_params(e.to_string()))?;
    let known: Subject = load(app, keys::subject(&subject), "subject")?
        .ok_or_else(|| not_found("subject", subject))?;
    let opened = identifier::identifier_commitment(known.kind, &value, &salt);
    Ok(json!({ "subject": subject, "matches": opened == known.identifier }))
}
