//! JSON-RPC latency per method: a jsonrpsee RPC middleware that times every call
//! and records it under the method's name. Only names the server serves become
//! labels (anyone can send any method name; those share [`UNKNOWN_METHOD`]), so
//! a stranger cannot grow the metric without bound. A batch is timed whole under
//! [`BATCH`]: jsonrpsee runs a batch's calls past the middleware.

use super::{MethodLabel, Metrics};
use jsonrpsee::server::middleware::rpc::{Batch, Notification, Request, RpcServiceT};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

/// The label of calls to methods this server does not serve.
pub const UNKNOWN_METHOD: &str = "unknown";
/// The label of whole batches.
pub const BATCH: &str = "batch";

/// The method names a server serves.
pub struct MethodNames(HashSet<&'static str>);

impl MethodNames {
    pub fn of<Ctx>(module: &jsonrpsee::RpcModule<Ctx>) -> Self {
        MethodNames(module.method_names().collect())
    }

    /// The label for a call to `method`.
    pub fn label(&self, method: &str) -> &'static str {
        self.0.get(method).copied().unwrap_or(UNKNOWN_METHOD)
    }
}

/// Records the methods `module` serves as the only method labels.
pub fn serving<Ctx>(metrics: &Metrics, module: &jsonrpsee::RpcModule<Ctx>) {
    let _ = metrics.rpc_methods.set(MethodNames::of(module));
}

/// The middleware (one per connection, sharing the metrics).
#[derive(Clone)]
pub struct RpcLatency<S> {
    service: S,
    metrics: Arc<Metrics>,
}

impl<S> RpcLatency<S> {
    pub fn new(service: S, metrics: Arc<Metrics>) -> Self {
        RpcLatency { service, metrics }
    }
}

impl Metrics {
    fn observe_rpc(&self, method: &'static str, started: Instant) {
        let label = MethodLabel { method };
        let seconds = started.elapsed().as_secs_f64();
        self.rpc_latency.get_or_create(&label).observe(seconds);
    }

    fn rpc_label(&self, method: &str) -> &'static str {
        match self.rpc_methods.get() {
            Some(names) => names.label(method),
            None => UNKNOWN_METHOD,
        }
    }
}

impl<S> RpcServiceT for RpcLatency<S>
where
    S: RpcServiceT + Clone + Send + Sync + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(
        &self,
        request: Request<'a>,
    ) -> impl Future<Output = S::MethodResponse> + Send + 'a {
        let method = self.metrics.rpc_label(request.method_name());
        let (service, metrics) = (self.service.clone(), self.metrics.clone());
        async move {
            let started = Instant::now();
            let response = service.call(request).await;
            metrics.observe_rpc(method, started);
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = S::BatchResponse> + Send + 'a {
        let (service, metrics) = (self.service.clone(), self.metrics.clone());
        async move {
            let started = Instant::now();
            let response = service.batch(batch).await;
            metrics.observe_rpc(BATCH, started);
            response
        }
    }

    fn notification<'a>(
        &self,
        notification: Notification<'a>,
    ) -> impl Future<Output = S::NotificationResponse> + Send + 'a {
        self.service.notification(notification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_served_methods_become_labels() {
        let mut module = jsonrpsee::RpcModule::new(());
        module
            .register_method("node_status", |_, _, _| "ok")
            .expect("registers");
        let metrics = Metrics::new();
        assert_eq!(metrics.rpc_label("node_status"), UNKNOWN_METHOD);
        serving(&metrics, &module);
        assert_eq!(metrics.rpc_label("node_status"), "node_status");
        assert_eq!(metrics.rpc_label("made_up_method"), UNKNOWN_METHOD);
    }
}
