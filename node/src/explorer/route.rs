//! The explorer's HTTP layer in front of the JSON-RPC server (a tower layer,
//! composed in `rpc::start` with `set_http_middleware`). It answers a plain `GET`
//! of `/` or of a path under [`super::ASSET_PREFIX`]; a `POST` (JSON-RPC), a
//! WebSocket upgrade (a `GET` carrying `Upgrade: websocket`) and every other path
//! go on untouched to the service behind it, so other layers (metrics, say) and
//! the JSON-RPC server see them as before.

use http::header;
use http::{Method, Request};
use jsonrpsee::server::HttpResponse;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Puts the explorer in front of a service.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExplorerLayer;

impl<S> Layer<S> for ExplorerLayer {
    type Service = Explorer<S>;

    fn layer(&self, inner: S) -> Explorer<S> {
        Explorer { inner }
    }
}

/// The service [`ExplorerLayer`] makes: the explorer's files, else `inner`.
#[derive(Clone, Debug)]
pub struct Explorer<S> {
    inner: S,
}

type Answer<E> = Pin<Box<dyn Future<Output = Result<HttpResponse, E>> + Send>>;

impl<S, B> Service<Request<B>> for Explorer<S>
where
    S: Service<Request<B>, Response = HttpResponse>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = Answer<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match own_answer(&request) {
            Some(response) => Box::pin(std::future::ready(Ok(response))),
            None => Box::pin(self.inner.call(request)),
        }
    }
}

/// The explorer's answer to this request, if it is one of its own.
fn own_answer<B>(request: &Request<B>) -> Option<HttpResponse> {
    if request.method() != Method::GET || is_upgrade(request) {
        return None;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    super::answer(request.uri().path(), host)
}

/// A WebSocket handshake (or any other protocol upgrade): the server's business.
fn is_upgrade<B>(request: &Request<B>) -> bool {
    request.headers().contains_key(header::UPGRADE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn request(method: Method, path: &str, upgrade: bool) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(path);
        if upgrade {
            builder = builder
                .header(header::UPGRADE, "websocket")
                .header(header::CONNECTION, "Upgrade");
        }
        builder.body(()).expect("a request")
    }

    #[test]
    fn only_plain_gets_of_its_own_paths_are_answered() {
        let page = own_answer(&request(Method::GET, "/", false)).expect("the page");
        assert_eq!(page.status(), StatusCode::OK);
        let missing = own_answer(&request(Method::GET, "/explorer/x.js", false));
        assert_eq!(missing.map(|r| r.status()), Some(StatusCode::NOT_FOUND));
        assert!(own_answer(&request(Method::POST, "/", false)).is_none());
        assert!(own_answer(&request(Method::GET, "/", true)).is_none());
        assert!(own_answer(&request(Method::GET, "/metrics", false)).is_none());
        assert!(own_answer(&request(Method::HEAD, "/", false)).is_none());
    }
}
