//! The JSON-RPC 2.0 server (jsonrpsee): HTTP and WebSocket on one port, bounded
//! request size, response size and connection count. Method names are
//! `namespace_method`; see [`methods`] for the list and [`errors`] for error codes.

mod contracts;
pub mod errors;
mod methods;

use crate::app::App;
use crate::config::RpcConfig;
use anyhow::{Context, Result};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use std::net::SocketAddr;
use std::sync::Arc;

/// WebSocket subscriptions one connection may hold.
const SUBSCRIPTIONS_PER_CONNECTION_MAX: u32 = 64;

/// Starts the server; returns its handle and the address it actually bound.
pub async fn start(
    app: Arc<App>,
    config: &RpcConfig,
    moniker: String,
) -> Result<(ServerHandle, SocketAddr)> {
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(SUBSCRIPTIONS_PER_CONNECTION_MAX)
        .build();
    let server = Server::builder()
        .set_config(server_config)
        .build(&config.listen)
        .await
        .with_context(|| format!("binding JSON-RPC to {}", config.listen))?;
    let addr = server.local_addr()?;
    let module = methods::module(app, moniker)?;
    Ok((server.start(module), addr))
}
