//! Why a call failed: the node answered with a JSON-RPC error ([`RpcError`],
//! whose `reason` is the node's stable code to match on), or no usable answer
//! came back (transport, timeout, a result this client cannot read).

use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};

/// An error the node returned, with its stable reason (`data.reason`; `"rpc"`
/// for protocol errors that carry none, such as an unknown method).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} [{reason}]")]
pub struct RpcError {
    /// The JSON-RPC error code (see the node's `rpc::errors` table).
    pub code: i32,
    pub reason: String,
    pub message: String,
}

impl From<ErrorObjectOwned> for RpcError {
    fn from(e: ErrorObjectOwned) -> Self {
        let reason = e
            .data()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d.get()).ok())
            .and_then(|d| d["reason"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "rpc".into());
        RpcError {
            code: e.code(),
            reason,
            message: e.message().to_owned(),
        }
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node refused the call.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// No answer: the node is down, unreachable, too slow, or answered with
    /// something that is not JSON-RPC.
    #[error("calling {method} at {url} (is the node running?): {source}")]
    Transport {
        method: &'static str,
        url: String,
        #[source]
        source: jsonrpsee::core::client::Error,
    },
    /// The node answered with a result of another shape than this client knows
    /// (a node of another version, say).
    #[error("{method} returned a result this client cannot read: {source}")]
    Decode {
        method: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// A parameter could not be written as JSON.
    #[error("encoding parameters: {0}")]
    Encode(#[source] serde_json::Error),
    /// The URL given is not one the client can connect to.
    #[error("RPC URL {url:?}: {source}")]
    Url {
        url: String,
        #[source]
        source: jsonrpsee::core::client::Error,
    },
    /// The blocking client could not start its runtime.
    #[error("starting the client's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A block subscription ended or failed.
    #[error("block subscription: {0}")]
    Subscription(String),
}

impl Error {
    /// The node's refusal, if the node refused.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            Error::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// The node's stable reason (`not_found.record`, `tx.nonce_replayed`, ...),
    /// if the node refused.
    pub fn reason(&self) -> Option<&str> {
        self.rpc().map(|e| e.reason.as_str())
    }

    /// The JSON-RPC error code, if the node refused.
    pub fn code(&self) -> Option<i32> {
        self.rpc().map(|e| e.code)
    }
}
