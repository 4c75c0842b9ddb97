//! JSON-RPC error codes. Standard JSON-RPC 2.0 codes for protocol errors, and an
//! application range inside the server-error band (-32000..-32099). Every
//! application error's `data` is `{"reason": "<stable.code>", ...}`: match on
//! `reason`, not on the message text.
//!
//! | code   | meaning                                    | example `data.reason`                |
//! |--------|--------------------------------------------|--------------------------------------|
//! | -32700 | parse error (malformed JSON)               | —                                    |
//! | -32600 | invalid request                            | —                                    |
//! | -32601 | method not found                           | —                                    |
//! | -32602 | invalid params                             | `params.invalid`                     |
//! | -32001 | transaction refused (rule or envelope)     | `record.not_owner`, `tx.nonce_replayed` |
//! | -32002 | not found                                  | `not_found.record`, `not_found.block`, `not_found.before_history` |
//! | -32003 | mempool full                               | `mempool.full`                       |
//! | -32004 | node busy (bounded work queue full)        | `node.busy`                          |
//! | -32005 | forbidden (the node's config does not allow it) | `vault.bad_token`, `vault.disabled` |
//! | -32010 | node-side failure (storage, resources)     | `node.storage`, `node.local_failure`, `certificate.too_large` |

use jsonrpsee::types::ErrorObjectOwned;
use serde_json::json;

pub const TX_REJECTED: i32 = -32001;
pub const NOT_FOUND: i32 = -32002;
pub const MEMPOOL_FULL: i32 = -32003;
pub const NODE_BUSY: i32 = -32004;
pub const FORBIDDEN: i32 = -32005;
pub const NODE_ERROR: i32 = -32010;
pub const INVALID_PARAMS: i32 = -32602;

/// What a code means, as the table above says (an OpenRPC Error Object's message).
pub fn meaning(code: i32) -> &'static str {
    match code {
        -32700 => "parse error",
        -32600 => "invalid request",
        -32601 => "method not found",
        INVALID_PARAMS => "invalid params",
        TX_REJECTED => "transaction refused by a rule or its envelope; data.reason names which",
        NOT_FOUND => "not found",
        MEMPOOL_FULL => "mempool full",
        NODE_BUSY => "node busy: its bounded work queue is full; try again",
        FORBIDDEN => "forbidden by the node's config",
        NODE_ERROR => "node-side failure (storage, resources)",
        _ => "application error",
    }
}

pub fn app_error(code: i32, reason: &str, message: impl Into<String>) -> ErrorObjectOwned {
    let message = message.into();
    ErrorObjectOwned::owned(
        code,
        message.clone(),
        Some(json!({ "reason": reason, "message": message })),
    )
}

pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    app_error(INVALID_PARAMS, "params.invalid", message)
}

pub fn not_found(what: &str, id: impl std::fmt::Display) -> ErrorObjectOwned {
    app_error(
        NOT_FOUND,
        &format!("not_found.{what}"),
        format!("{what} {id} not found"),
    )
}

/// What a node that joined from a state snapshot does not hold: history below
/// the snapshot's height.
pub fn before_history(what: impl std::fmt::Display, history_from: u64) -> ErrorObjectOwned {
    app_error(
        NOT_FOUND,
        "not_found.before_history",
        format!(
            "{what}: this node joined from a state snapshot at height {history_from} and \
             holds no history before it (of that height, its block only); ask a node that \
             replayed from genesis"
        ),
    )
}

/// [`before_history`] when `height` is below this node's history.
pub fn check_history(
    app: &crate::app::App,
    what: &str,
    height: u64,
) -> Result<(), ErrorObjectOwned> {
    let history_from = app.storage.history_from().map_err(node_error)?;
    match height < history_from {
        true => Err(before_history(
            format!("{what} at height {height}"),
            history_from,
        )),
        false => Ok(()),
    }
}

pub fn node_error(e: impl std::fmt::Display) -> ErrorObjectOwned {
    app_error(NODE_ERROR, "node.storage", e.to_string())
}

pub fn admit_error(e: &crate::mempool::AdmitError) -> ErrorObjectOwned {
    use crate::mempool::AdmitError;
    let code = match e {
        AdmitError::Full { .. } => MEMPOOL_FULL,
        AdmitError::Storage(_) | AdmitError::Local(_) => NODE_ERROR,
        _ => TX_REJECTED,
    };
    app_error(code, e.reason(), e.to_string())
}
