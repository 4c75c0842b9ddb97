//! `GET /metrics` on the RPC port: a tower layer in front of jsonrpsee's HTTP
//! service that answers that one request with the text exposition and passes
//! everything else (POST calls, WebSocket upgrades, other paths and methods) on
//! untouched. The page is rendered from a fixed set of metrics whose labels are
//! bounded, so its size does not depend on what callers send.

use super::Metrics;
use http::header::{CONTENT_TYPE, UPGRADE};
use http::{Method, Request, Response, StatusCode};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The path the metrics are served at.
pub const METRICS_PATH: &str = "/metrics";
/// What prometheus-client renders: OpenMetrics 1.0 text, which Prometheus scrapes.
pub const CONTENT_TYPE_OPENMETRICS: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves [`METRICS_PATH`] from `metrics`.
#[derive(Clone)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        MetricsLayer { metrics }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

/// Whether this request is a scrape (and nothing the RPC server should see).
fn is_scrape<B>(request: &Request<B>) -> bool {
    request.method() == Method::GET
        && request.uri().path() == METRICS_PATH
        && !request.headers().contains_key(UPGRADE)
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, B, R> tower::Service<Request<B>> for MetricsService<S>
where
    S: tower::Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: From<String> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !is_scrape(&request) {
            return Box::pin(self.inner.call(request));
        }
        let mut response = Response::new(R::from(self.metrics.render()));
        *response.status_mut() = StatusCode::OK;
        let content_type = http::HeaderValue::from_static(CONTENT_TYPE_OPENMETRICS);
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        Box::pin(std::future::ready(Ok(response)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str) -> Request<()> {
        Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .expect("a valid request")
    }

    #[test]
    fn only_a_plain_get_of_the_path_is_a_scrape() {
        assert!(is_scrape(&request(Method::GET, "/metrics")));
        assert!(is_scrape(&request(Method::GET, "/metrics?x=1")));
        assert!(!is_scrape(&request(Method::POST, "/metrics")));
        assert!(!is_scrape(&request(Method::GET, "/")));
        assert!(!is_scrape(&request(Method::GET, "/metrics/x")));
        let mut upgrade = request(Method::GET, "/metrics");
        upgrade
            .headers_mut()
            .insert(UPGRADE, http::HeaderValue::from_static("websocket"));
        assert!(!is_scrape(&upgrade));
    }
}
