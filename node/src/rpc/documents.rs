//! JSON-RPC methods for certificates and anchored documents. A certificate is a
//! file that proves, offline, a record's state or a document's anchored
//! signatures at one block (Art. 62 p.1: an electronic document "must be capable
//! of being circulated and stored outside the digital system, in which it was
//! created, without altering its properties"); anchoring is the ledger's
//! timestamp service (Art. 55 p.1(4)).
//!
//! | method | params | result |
//! |---|---|---|
//! | `record_certificate` | `[record_id, height?]` (tip if absent) | `{format_version, height, certificate}`: the certificate file's bytes as hex; a record that does not exist gets a certificate proving so |
//! | `doc_get` | `[hash]` | `{hash, height, signatures}`: the signatures anchored to the document with this blake3 hash, oldest first (empty if none), in committed state at `height` or later |
//! | `doc_certificate` | `[hash, height?]` (tip if absent) | as `record_certificate`, for the document's anchored signatures (or that there are none) |
//!
//! Assembling a certificate reads many tree nodes from RocksDB; like every
//! method it runs on a blocking thread and holds one of the server's call slots.

use super::errors::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use crate::certify::{self, CertifyError};
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value};
use tamga_runtime::documents::DocumentAnchors;
use tamga_runtime::state::keys;
use tamga_runtime::Hash32;
use tamga_verify::format::CERTIFICATE_BYTES_MAX;
use tamga_verify::{Certificate, FORMAT_VERSION};

type RpcResult = Result<Value, ErrorObjectOwned>;

pub(super) fn register(m: &mut super::Methods) -> anyhow::Result<()> {
    let record_def = certifies(MethodDef::new("record_certificate", "A certificate file proving a record's state at a height")
        .describe("A record that does not exist gets a certificate proving so; `tamga verify` checks a certificate offline.")
        .param("record_id", schema::hash(), "the record's id")
        .optional("height", schema::uint(), "the height to certify (default: the tip)")
        .result("certificate", certificate_schema(), "the certificate file's bytes as hex, its format version and height"));
    m.add(record_def, record_certificate)?;
    let doc_def = MethodDef::new("doc_get", "The signatures anchored to a document")
        .param("hash", schema::hash(), "the document's blake3 hash")
        .result(
            "anchors",
            schema::object(&["hash", "height", "signatures"]),
            "the signatures (each `subject`, `key`, `certificate`, `height`, `time_ms`, `tx`), oldest first, empty when none, in committed state at `height` or later",
        )
        .storage();
    m.add(doc_def, doc_get)?;
    let cert_def = certifies(MethodDef::new("doc_certificate", "A certificate file proving a document's anchored signatures")
        .param("hash", schema::hash(), "the document's blake3 hash")
        .optional("height", schema::uint(), "the height to certify (default: the tip)")
        .result("certificate", certificate_schema(), "as `record_certificate`, for the document's anchored signatures (or that there are none)"));
    m.add(cert_def, doc_certificate)?;
    Ok(())
}

fn certificate_schema() -> Value {
    schema::object(&["format_version", "height", "certificate"])
}

/// `def` with the errors assembling a certificate may answer.
fn certifies(def: MethodDef) -> MethodDef {
    def.error(NODE_ERROR, "certificate.too_large")
        .error(NODE_ERROR, "certificate.history_too_long")
        .not_found("not_found.before_history")
        .storage()
}

fn hash_param(text: &str, what: &str) -> Result<Hash32, ErrorObjectOwned> {
    Hash32::from_hex(text).map_err(|e| invalid_params(format!("{what}: {e}")))
}

/// The id (or hash) and the height to certify (the tip if none is given).
fn certify_params(
    app: &App,
    params: Params,
    what: &str,
) -> Result<(Hash32, u64), ErrorObjectOwned> {
    let mut seq = params.sequence();
    let id: String = seq.next()?;
    let height: Option<u64> = seq.optional_next()?;
    let id = hash_param(&id, what)?;
    Ok((id, height.unwrap_or_else(|| app.tip().height)))
}

fn certify_error(e: CertifyError) -> ErrorObjectOwned {
    match e {
        CertifyError::NotYet { .. } | CertifyError::Genesis => invalid_params(e.to_string()),
        CertifyError::BeforeHistory { .. } | CertifyError::NoProvenance(..) => {
            app_error(NOT_FOUND, "not_found.before_history", e.to_string())
        }
        CertifyError::HistoryTooLong(_) => {
            app_error(NODE_ERROR, "certificate.history_too_long", e.to_string())
        }
        CertifyError::Missing { .. } | CertifyError::Corrupt { .. } | CertifyError::Storage(_) => {
            node_error(e)
        }
    }
}

/// The certificate as the RPC result; one a verifier would refuse for its size
/// is refused here instead.
fn certificate_json(cert: &Certificate) -> RpcResult {
    let bytes = cert.to_bytes();
    if bytes.len() > CERTIFICATE_BYTES_MAX {
        return Err(app_error(
            NODE_ERROR,
            "certificate.too_large",
            format!(
                "the certificate would be {} bytes; a verifier reads at most {CERTIFICATE_BYTES_MAX}",
                bytes.len()
            ),
        ));
    }
    Ok(json!({
        "format_version": FORMAT_VERSION,
        "height": cert.header.height,
        "certificate": hex::encode(bytes),
    }))
}

fn record_certificate(app: &App, params: Params) -> RpcResult {
    let (id, height) = certify_params(app, params, "record id")?;
    let cert = certify::record(&app.storage, &id, height).map_err(certify_error)?;
    certificate_json(&cert)
}

fn doc_certificate(app: &App, params: Params) -> RpcResult {
    let (hash, height) = certify_params(app, params, "document hash")?;
    let cert = certify::document(&app.storage, &hash, height).map_err(certify_error)?;
    certificate_json(&cert)
}

/// The signatures anchored to a document, from committed state. `height` is the
/// tip read first: the state read after it is at that height or later.
fn doc_get(app: &App, params: Params) -> RpcResult {
    let (hash,): (String,) = params.parse()?;
    let hash = hash_param(&hash, "document hash")?;
    let height = app.tip().height;
    let anchors: Option<DocumentAnchors> = app
        .storage
        .state_value(&keys::document(&hash), "document anchors")
        .map_err(node_error)?;
    let signatures = anchors.map(|a| a.signatures).unwrap_or_default();
    Ok(json!({ "hash": hash, "height": height, "signatures": signatures }))
}

#[cfg(test)]
#[path = "documents_tests.rs"]
mod tests;
