//! The JSON-RPC client the CLI uses, and where it finds the node: `--rpc-url`,
//! else the address the node in `--home` wrote when it started, else the default.

use super::Globals;
use anyhow::{Context, Result};
use jsonrpsee::core::client::{ClientT, Error as ClientError};
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;

/// File in the home where a running node writes its bound RPC address.
pub const RPC_ADDR_FILE: &str = "rpc.addr";

/// An error the node returned, with its stable reason.
#[derive(Debug, thiserror::Error)]
#[error("{message} [{reason}]")]
pub struct RpcError {
    pub code: i32,
    pub reason: String,
    pub message: String,
}

pub struct Client {
    http: HttpClient,
    pub url: String,
}

pub fn rpc_url(globals: &Globals) -> String {
    if let Some(url) = &globals.rpc_url {
        return url.clone();
    }
    if let Ok(addr) = std::fs::read_to_string(globals.home.0.join(RPC_ADDR_FILE)) {
        return format!("http://{}", addr.trim());
    }
    format!("http://{}", crate::config::DEFAULT_RPC_ADDR)
}

impl Client {
    pub fn new(globals: &Globals) -> Result<Self> {
        let url = rpc_url(globals);
        let http = HttpClientBuilder::default()
            .request_timeout(std::time::Duration::from_secs(30))
            .build(&url)
            .with_context(|| format!("RPC URL {url:?}"))?;
        Ok(Client { http, url })
    }

    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value> {
        let mut array = ArrayParams::new();
        for param in params {
            array.insert(param).expect("JSON values serialize");
        }
        match self.http.request::<Value, _>(method, array).await {
            Ok(value) => Ok(value),
            Err(ClientError::Call(e)) => {
                let reason = e
                    .data()
                    .and_then(|d| serde_json::from_str::<Value>(d.get()).ok())
                    .and_then(|d| d["reason"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "rpc".into());
                Err(RpcError {
                    code: e.code(),
                    reason,
                    message: e.message().to_owned(),
                }
                .into())
            }
            Err(e) => Err(e).with_context(|| {
                format!("calling {method} at {} (is the node running?)", self.url)
            }),
        }
    }
}
