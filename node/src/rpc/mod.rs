//! The JSON-RPC 2.0 server (jsonrpsee): HTTP and WebSocket on one port, bounded
//! request size, response size and connection count. Method names are
//! `namespace_method`; see [`methods`] for the list and [`errors`] for error codes.

pub(crate) mod condo;
mod contracts;
mod documents;
pub mod errors;
mod methods;
mod pki;

use crate::app::App;
use crate::config::Config;
use anyhow::{Context, Result};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use std::net::SocketAddr;
use std::sync::Arc;

/// WebSocket subscriptions one connection may hold.
const SUBSCRIPTIONS_PER_CONNECTION_MAX: u32 = 64;
/// Calls one JSON-RPC batch may hold.
const BATCH_CALLS_MAX: u32 = 100;
/// Calls in flight at once, across every method and connection: each runs on a
/// blocking thread (RocksDB reads, the mempool lock, signature checks), and past
/// this a caller is told the node is busy, so no client can tie up the blocking
/// threads that consensus work shares.
pub const RPC_CALLS_AT_ONCE_MAX: usize = 32;

type RpcResult = Result<serde_json::Value, jsonrpsee::types::ErrorObjectOwned>;

/// The methods being registered: each runs on a blocking thread and holds one of
/// [`RPC_CALLS_AT_ONCE_MAX`] slots while it does.
pub(crate) struct Methods {
    pub module: jsonrpsee::RpcModule<()>,
    pub app: Arc<App>,
    slots: Arc<tokio::sync::Semaphore>,
}

impl Methods {
    pub fn add<F>(&mut self, name: &'static str, method: F) -> Result<()>
    where
        F: Fn(&App, jsonrpsee::types::Params) -> RpcResult + Clone + Send + Sync + 'static,
    {
        let (slots, app) = (self.slots.clone(), self.app.clone());
        self.module
            .register_blocking_method(name, move |params, _, _| {
                let _slot = slots.try_acquire().map_err(|_| {
                    errors::app_error(
                        errors::NODE_BUSY,
                        "node.busy",
                        format!("{RPC_CALLS_AT_ONCE_MAX} calls are already running; try again"),
                    )
                })?;
                method(&app, params)
            })?;
        Ok(())
    }
}

/// Starts the server; returns its handle and the address it actually bound.
pub async fn start(
    app: Arc<App>,
    node_config: &Config,
    moniker: String,
) -> Result<(ServerHandle, SocketAddr)> {
    let config = &node_config.rpc;
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(SUBSCRIPTIONS_PER_CONNECTION_MAX)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(
            BATCH_CALLS_MAX,
        ))
        .build();
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(crate::explorer::ExplorerLayer))
        .build(&config.listen)
        .await
        .with_context(|| format!("binding JSON-RPC to {}", config.listen))?;
    let addr = server.local_addr()?;
    let mut methods = Methods {
        module: jsonrpsee::RpcModule::new(()),
        app,
        slots: Arc::new(tokio::sync::Semaphore::new(RPC_CALLS_AT_ONCE_MAX)),
    };
    methods::register(&mut methods, moniker)?;
    contracts::register(&mut methods)?;
    condo::register(&mut methods)?;
    documents::register(&mut methods)?;
    pki::register(&mut methods, node_config.vault.api_token.clone())?;
    let module = methods.module;
    Ok((server.start(module), addr))
}
