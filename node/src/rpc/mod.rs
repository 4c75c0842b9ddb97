//! The JSON-RPC 2.0 server (jsonrpsee): HTTP and WebSocket on one port, bounded
//! request size, response size and connection count. Method names are
//! `namespace_method`; see [`methods`] for the list and [`errors`] for error codes.
//! Every method is registered with its definition ([`spec::MethodDef`]), from which
//! `rpc.discover` serves the OpenRPC document ([`openrpc`]); requests are checked
//! against JSON-RPC 2.0's request shape before jsonrpsee sees them ([`conformance`]).

pub(crate) mod condo;
mod conformance;
mod contracts;
mod documents;
pub mod errors;
mod methods;
mod methods_defs;
mod openrpc;
mod pki;
mod snapshots;
mod spec;

use crate::app::App;
use crate::config::Config;
use anyhow::{Context, Result};
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use spec::MethodDef;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// WebSocket subscriptions one connection may hold.
const SUBSCRIPTIONS_PER_CONNECTION_MAX: u32 = 64;
/// Calls one JSON-RPC batch may hold.
const BATCH_CALLS_MAX: u32 = 100;
/// Calls in flight at once, across every method and connection: each runs on a
/// blocking thread (RocksDB reads, the mempool lock, signature checks), and past
/// this a caller is told the node is busy, so no client can occupy more threads
/// than this on the cores consensus shares.
pub const RPC_CALLS_AT_ONCE_MAX: usize = 32;

type RpcResult = Result<serde_json::Value, jsonrpsee::types::ErrorObjectOwned>;

/// The methods being registered: each runs on a blocking thread and holds one of
/// [`RPC_CALLS_AT_ONCE_MAX`] slots while it does, but point reads
/// ([`Methods::add_point_read`]). Each comes with its definition, which
/// `rpc.discover` documents.
pub(crate) struct Methods {
    pub module: jsonrpsee::RpcModule<()>,
    pub app: Arc<App>,
    slots: Arc<tokio::sync::Semaphore>,
    defs: Vec<MethodDef>,
}

impl Methods {
    fn new(app: Arc<App>) -> Methods {
        Methods {
            module: jsonrpsee::RpcModule::new(()),
            app,
            slots: Arc::new(tokio::sync::Semaphore::new(RPC_CALLS_AT_ONCE_MAX)),
            defs: Vec::new(),
        }
    }

    /// Serves `method` under `def.name`, and documents it as `def` says.
    pub fn add<F>(&mut self, def: MethodDef, method: F) -> Result<()>
    where
        F: Fn(&App, jsonrpsee::types::Params) -> RpcResult + Clone + Send + Sync + 'static,
    {
        let (slots, app) = (self.slots.clone(), self.app.clone());
        self.module
            .register_blocking_method(def.name, move |params, _, _| {
                let _slot = slots.try_acquire().map_err(|_| {
                    errors::app_error(
                        errors::NODE_BUSY,
                        "node.busy",
                        format!("{RPC_CALLS_AT_ONCE_MAX} calls are already running; try again"),
                    )
                })?;
                method(&app, params)
            })?;
        self.defs.push(def.busy());
        Ok(())
    }

    /// Serves `method` under `def.name` on the connection's own task, with no
    /// blocking thread and no call slot: only for a method that reads one state
    /// value by key (microseconds from the node's caches, tens from RocksDB's
    /// files), whose hand-off to a blocking thread costs more than the read. A
    /// batch of [`BATCH_CALLS_MAX`] such calls holds one of the RPC runtime's
    /// workers for a few milliseconds at most; consensus runs on another runtime.
    /// The value read is answered as it serializes, with no `Value` built between.
    pub fn add_point_read<F, T>(&mut self, def: MethodDef, method: F) -> Result<()>
    where
        F: Fn(&App, jsonrpsee::types::Params) -> Result<T, jsonrpsee::types::ErrorObjectOwned>
            + Clone
            + Send
            + Sync
            + 'static,
        T: serde::Serialize + Clone + Send + 'static,
    {
        let app = self.app.clone();
        self.module
            .register_method(def.name, move |params, _, _| method(&app, params))?;
        self.defs.push(def);
        Ok(())
    }

    /// Serves a WebSocket subscription under `subscribe.name` (notifications named
    /// `notification`, ended by `unsubscribe.name`), and documents both methods.
    pub fn add_subscription<F, Fut, R>(
        &mut self,
        subscribe: MethodDef,
        notification: &'static str,
        unsubscribe: MethodDef,
        callback: F,
    ) -> Result<()>
    where
        F: Fn(
                jsonrpsee::types::Params<'static>,
                jsonrpsee::PendingSubscriptionSink,
                Arc<()>,
                jsonrpsee::Extensions,
            ) -> Fut
            + Send
            + Sync
            + Clone
            + 'static,
        Fut: std::future::Future<Output = R> + Send + 'static,
        R: jsonrpsee::IntoSubscriptionCloseResponse + Send,
    {
        self.module.register_subscription(
            subscribe.name,
            notification,
            unsubscribe.name,
            callback,
        )?;
        self.defs.push(subscribe);
        self.defs.push(unsubscribe);
        Ok(())
    }

    /// The module with `rpc.discover` added, serving the document of every method.
    fn finish(mut self) -> Result<jsonrpsee::RpcModule<()>> {
        self.defs.push(openrpc::discover_def());
        let document = Arc::new(openrpc::document(&self.defs));
        self.module
            .register_method(openrpc::DISCOVER, move |_, _, _| (*document).clone())?;
        Ok(self.module)
    }
}

/// Every method the node serves, `rpc.discover` included.
pub(crate) fn node_methods(
    app: Arc<App>,
    node_config: &Config,
    moniker: String,
) -> Result<jsonrpsee::RpcModule<()>> {
    let mut methods = Methods::new(app);
    methods::register(&mut methods, moniker)?;
    contracts::register(&mut methods)?;
    condo::register(&mut methods)?;
    documents::register(&mut methods)?;
    pki::register(&mut methods, node_config.vault.api_token.clone())?;
    snapshots::register(&mut methods)?;
    methods.finish()
}

/// Worker threads of the RPC server's own runtime.
const RPC_WORKER_THREADS: usize = 2;

/// The running server, on a runtime of its own: its connections, request
/// parsing and inline reads never queue behind consensus tasks or ahead of
/// them (the two runtimes' threads share the cores as the OS schedules them), so
/// a flood of calls can slow answers but cannot hold consensus's workers.
pub struct RpcServer {
    handle: ServerHandle,
    runtime: Option<tokio::runtime::Runtime>,
}

/// How long a stopping node waits for calls still running on the RPC runtime
/// (each call's work is bounded; this bounds a stuck one).
const RPC_SHUTDOWN_MS: u64 = 10_000;
/// How long a stopping server waits for its connections to close.
const RPC_STOP_MS: u64 = 5_000;

impl RpcServer {
    /// Stops accepting calls, waits for the server to finish, then for the
    /// runtime's tasks to end.
    pub async fn stop(mut self) {
        let _ = self.handle.stop();
        // A client that stops reading holds its connection's task on a write:
        // past this wait, the runtime's shutdown drops what is left.
        let stopped = self.handle.clone().stopped();
        let _ = tokio::time::timeout(Duration::from_millis(RPC_STOP_MS), stopped).await;
        if let Some(ending) = self.runtime.take().and_then(shut_down) {
            let _ = tokio::task::spawn_blocking(move || ending.join()).await;
        }
    }
}

impl Drop for RpcServer {
    fn drop(&mut self) {
        let _ = self.handle.stop();
        if let Some(ending) = self.runtime.take().and_then(shut_down) {
            let _ = ending.join();
        }
    }
}

/// Shuts `runtime` down on a thread of its own (a runtime cannot be shut down
/// inside another one's task), waiting up to [`RPC_SHUTDOWN_MS`] for its tasks.
/// The wait matters: a task of it may hold the last handle on the app, and the
/// database must not be closed by a thread still running while the process
/// exits (RocksDB aborts: its file-lock mutex is a static, destroyed by then).
fn shut_down(runtime: tokio::runtime::Runtime) -> Option<std::thread::JoinHandle<()>> {
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(runtime)));
    let ending = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("tamga-rpc-stop".into())
        .spawn(move || {
            let runtime = ending.lock().ok().and_then(|mut r| r.take());
            if let Some(runtime) = runtime {
                runtime.shutdown_timeout(Duration::from_millis(RPC_SHUTDOWN_MS));
            }
        });
    match spawned {
        Ok(thread) => Some(thread),
        // No thread to wait on: shut down without waiting ([`close`](crate::node::close)
        // then leaves the database open if a task still holds it).
        Err(_) => {
            if let Some(runtime) = slot.lock().ok().and_then(|mut r| r.take()) {
                runtime.shutdown_background();
            }
            None
        }
    }
}

/// Starts the server on its own runtime; returns it and the address it bound.
pub async fn start(
    app: Arc<App>,
    node_config: &Config,
    moniker: String,
) -> Result<(RpcServer, SocketAddr)> {
    let metrics = app.metrics.clone();
    let module = node_methods(app, node_config, moniker)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RPC_WORKER_THREADS)
        // Calls take a blocking thread before they look for a slot: bound the
        // threads a flood can start (those past the slots answer `node.busy`).
        .max_blocking_threads(2 * RPC_CALLS_AT_ONCE_MAX)
        .thread_name("tamga-rpc")
        .enable_all()
        .build()
        .context("starting the JSON-RPC runtime")?;
    let config = node_config.clone();
    let serving = runtime.spawn(async move { serve(&config, module, metrics).await });
    let started = serving.await.context("the JSON-RPC runtime");
    let (handle, addr) = match started {
        Ok(Ok(bound)) => bound,
        // A runtime dropped inside another's task panics: shut it down first, so
        // the node reports why (a taken port, say) instead.
        Ok(Err(e)) | Err(e) => {
            if let Some(ending) = shut_down(runtime) {
                let _ = ending.join();
            }
            return Err(e);
        }
    };
    let server = RpcServer {
        handle,
        runtime: Some(runtime),
    };
    Ok((server, addr))
}

/// Binds and starts the server for `module` with the node's limits and HTTP layers
/// (the JSON-RPC conformance test serves the specification's examples through it).
pub(crate) async fn serve(
    node_config: &Config,
    module: jsonrpsee::RpcModule<()>,
    metrics: Arc<crate::metrics::Metrics>,
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
    let metrics_for_names = metrics.clone();
    let server = Server::builder()
        .set_config(server_config)
        .set_http_middleware(
            tower::ServiceBuilder::new()
                .layer(crate::explorer::ExplorerLayer)
                .layer(crate::metrics::http::MetricsLayer::new(metrics.clone()))
                .layer(conformance::RequestShapeLayer::new(
                    config.max_request_bytes,
                )),
        )
        .set_rpc_middleware(
            jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new().layer_fn(move |service| {
                crate::metrics::rpc::RpcLatency::new(service, metrics.clone())
            }),
        )
        .build(&config.listen)
        .await
        .with_context(|| format!("binding JSON-RPC to {}", config.listen))?;
    let addr = server.local_addr()?;
    crate::metrics::rpc::serving(&metrics_for_names, &module);
    Ok((server.start(module), addr))
}

#[cfg(test)]
#[path = "openrpc_tests.rs"]
mod openrpc_tests;

#[cfg(test)]
#[path = "conformance_tests.rs"]
mod conformance_tests;

#[cfg(test)]
#[path = "server_tests.rs"]
mod server_tests;
