//! A typed client for a Tamga node's JSON-RPC 2.0 interface: one function per
//! method the node serves, typed arguments (the ledger's own [`Hash32`],
//! [`PublicKey`], [`SubjectId`], [`SignedTx`]) and typed results, so no caller
//! builds a JSON-RPC body or spells a method name by hand.
//!
//! [`Client`] is async (jsonrpsee's HTTP client); [`blocking::Client`] wraps it
//! for synchronous callers. Errors are [`Error`]: what the node refused (an
//! [`RpcError`] with its stable `reason`), or why the call never got an answer.
//! [`Client::block_subscribe`] follows committed blocks over a WebSocket.
//!
//! The node's method table is in its `rpc` module (`node/src/rpc/methods.rs`);
//! the functions here carry the node's method names in snake case
//! (`record_byOwner` is [`Client::record_by_owner`]).
//!
//! ```no_run
//! use tamga_client::{Client, Error};
//! use tamga_runtime::Hash32;
//!
//! # async fn run() -> Result<(), Error> {
//! let client = Client::new("http://127.0.0.1:26657")?;
//! let status = client.node_status().await?;
//! println!("{} at height {}", status.chain_id, status.height);
//! let id = Hash32::from_hex(&"ab".repeat(32)).expect("64 hex characters");
//! match client.record_get(id).await {
//!     Ok(record) => println!("owned by {}", record.owner),
//!     Err(e) if e.reason() == Some("not_found.record") => println!("no such record"),
//!     Err(e) => return Err(e),
//! }
//! for entry in client.record_history(id, None, Some(10)).await?.entries {
//!     println!("height {}: {:?}", entry.height, entry.event);
//! }
//! # Ok(())
//! # }
//! ```

pub mod blocking;
mod condo;
mod error;
mod methods;
mod subscribe;
mod types;

pub use condo::*;
pub use error::{Error, RpcError};
pub use subscribe::BlockSubscription;
pub use types::*;

pub use tamga_runtime::{Hash32, PublicKey, SubjectId};

use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// How long a call may take unless the builder says otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response read: the node's own default limit (16 MiB).
pub const RESPONSE_BYTES_MAX: u32 = 16 * 1024 * 1024;

/// An async client of one node.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
    url: String,
}

impl Client {
    /// A client of the node at `url` (`http://HOST:PORT`), with the default timeout.
    pub fn new(url: &str) -> Result<Self, Error> {
        Client::with_timeout(url, REQUEST_TIMEOUT)
    }

    /// A client whose calls give up after `timeout`.
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, Error> {
        let http = HttpClientBuilder::default()
            .request_timeout(timeout)
            .max_response_size(RESPONSE_BYTES_MAX)
            .build(url)
            .map_err(|source| Error::Url {
                url: url.to_owned(),
                source,
            })?;
        Ok(Client {
            http,
            url: url.to_owned(),
        })
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One call: `params` positional, the result read as `R`.
    async fn call<R: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Params,
    ) -> Result<R, Error> {
        let value = match self
            .http
            .request::<serde_json::Value, _>(method, params.0)
            .await
        {
            Ok(value) => value,
            Err(jsonrpsee::core::client::Error::Call(e)) => return Err(RpcError::from(e).into()),
            Err(source) => {
                return Err(Error::Transport {
                    method,
                    url: self.url.clone(),
                    source,
                })
            }
        };
        serde_json::from_value(value).map_err(|source| Error::Decode { method, source })
    }
}

/// Positional parameters; `None` goes as `null`, which the node reads as absent.
struct Params(ArrayParams);

impl Params {
    fn new() -> Self {
        Params(ArrayParams::new())
    }

    fn with(mut self, value: impl Serialize) -> Result<Self, Error> {
        self.0.insert(value).map_err(Error::Encode)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
