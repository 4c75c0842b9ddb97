//! JSON-RPC 2.0 request-shape checks on HTTP, in front of jsonrpsee.
//!
//! jsonrpsee 0.26 answers a request object it cannot parse with an Invalid
//! Request (-32600) only when it finds an `id` member in it; otherwise it answers a
//! Parse error (-32700), though the JSON parsed (`jsonrpsee-core`'s
//! `server::helpers::prepare_error`). So the specification's own example
//! `{"jsonrpc": "2.0", "method": 1, "params": "bar"}` gets -32700, a body that is
//! valid JSON but neither an object nor an array (`1`) gets HTTP 400 and -32700,
//! and a request whose `params` is a string is run and refused as invalid params.
//!
//! This layer reads a JSON POST body (at most the configured `max_request_bytes`)
//! and rewrites each request object that breaks the specification's shape
//! (`jsonrpc` exactly "2.0", `method` a string, `params` absent or an array or an
//! object, `id` absent, null, a string or a non-negative integer) into `{"id": ID}`:
//! its own id when that is well formed, else null. jsonrpsee answers that with
//! -32600 and that id, in place, inside a batch too. Everything well formed is
//! passed on byte for byte, so jsonrpsee still answers everything else (parse
//! errors, unknown methods, batch limits, sizes). The layer never answers a request
//! itself and changes no answer, but one: jsonrpsee acknowledges notifications over HTTP with the body
//! `null`, and since no reply is due to them, that becomes `204 No Content`
//! without a body. GET requests (WebSocket upgrades, pages), other content types and bodies
//! over the limit pass through untouched, so jsonrpsee refuses them as before.
//!
//! Limits of the fix (measured by `conformance_tests`):
//! - WebSocket: messages after the upgrade never pass through HTTP layers, and
//!   jsonrpsee 0.26 reads them itself, so over WebSocket a malformed request
//!   object without an `id` (the specification's invalid-Request example) is still
//!   answered -32700 instead of -32600, and so is a message that is valid JSON but
//!   neither an object nor an array. Every other example of the specification gets
//!   the specification's answer on both transports.
//! - Ids: jsonrpsee represents ids as strings, null or unsigned 64-bit integers, so
//!   a negative or fractional id is answered as an Invalid Request with id null.
//! - Notifications get no response, as the specification says, but jsonrpsee does
//!   not run them either: a notification has no effect on this node.

use bytes::Bytes;
use http_body_util::BodyExt;
use jsonrpsee::core::BoxError;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use jsonrpsee::types::{Id, TwoPointZero};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What jsonrpsee answers with Invalid Request and a null id.
const INVALID_NULL_ID: &[u8] = br#"{"id":null}"#;

/// The tower layer: wraps the server's HTTP service in [`RequestShape`].
#[derive(Clone, Copy, Debug)]
pub struct RequestShapeLayer {
    max_request_bytes: u32,
}

impl RequestShapeLayer {
    /// Reads at most `max_request_bytes` of a body (the server's own limit).
    pub fn new(max_request_bytes: u32) -> Self {
        RequestShapeLayer { max_request_bytes }
    }
}

impl<S> tower::Layer<S> for RequestShapeLayer {
    type Service = RequestShape<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestShape {
            inner,
            max_request_bytes: self.max_request_bytes,
        }
    }
}

/// Rewrites malformed request objects (see the module docs), then calls `inner`.
#[derive(Clone, Debug)]
pub struct RequestShape<S> {
    inner: S,
    max_request_bytes: u32,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<HttpRequest> for RequestShape<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = BoxFuture<Result<HttpResponse, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest) -> Self::Future {
        if !is_json_rpc_post(&request, self.max_request_bytes) {
            return Box::pin(self.inner.call(request));
        }
        // The clone is the one poll_ready did not see; call the one that is ready.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let max = self.max_request_bytes;
        Box::pin(async move {
            let (request, notifications_only) = reshape(request, max).await?;
            let response = inner.call(request).await?;
            match notifications_only {
                true => silence(response).await,
                false => Ok(response),
            }
        })
    }
}

/// A POST that jsonrpsee will read as JSON-RPC, with no declared length over the limit.
fn is_json_rpc_post(request: &HttpRequest, max: u32) -> bool {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    request.method() == http::Method::POST
        && jsonrpsee::server::http::content_type_is_json(request)
        && declared.is_none_or(|n| n <= u64::from(max))
}

/// The request with its body read and, where needed, rewritten; and whether it
/// holds notifications only.
async fn reshape(request: HttpRequest, max: u32) -> Result<(HttpRequest, bool), BoxError> {
    let (mut parts, body) = request.into_parts();
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, read_bounded(body, max as usize))
        .await
        .map_err(|_| BoxError::from("the request body did not arrive in time"))??;
    let (body, notifications_only) = match read.len() > max as usize {
        // jsonrpsee refuses it as too large when it reads it in turn.
        true => (read, false),
        false => {
            let shaped = normalise(&read);
            let body = shaped.body.map(Bytes::from).unwrap_or(read);
            (body, shaped.notifications_only)
        }
    };
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, body.len().into());
    let body = HttpBody::new(http_body_util::Full::new(body));
    Ok((HttpRequest::from_parts(parts, body), notifications_only))
}

/// jsonrpsee acknowledges notifications over HTTP with the body `null`; the
/// specification says a server does not reply to them, so this is `204 No
/// Content` with no body instead. Any other answer (an error) passes on.
async fn silence(response: HttpResponse) -> Result<HttpResponse, BoxError> {
    use http_body::Body as _;
    let small = response.body().size_hint().upper().is_some_and(|n| n <= 64);
    if response.status() != http::StatusCode::OK || !small {
        return Ok(response);
    }
    let (mut parts, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    if bytes.trim_ascii() != b"null" {
        return Ok(HttpResponse::from_parts(
            parts,
            HttpBody::from(bytes.to_vec()),
        ));
    }
    parts.status = http::StatusCode::NO_CONTENT;
    parts.headers.remove(http::header::CONTENT_TYPE);
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(HttpResponse::from_parts(parts, HttpBody::default()))
}

/// How long a request body may take to arrive: a client that trickles bytes
/// holds a connection slot and this task, so it is cut off.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The body's bytes, stopping once more than `max` have arrived. A body that
/// arrives in one frame (most do) is passed on as it came, without a copy.
async fn read_bounded(mut body: HttpBody, max: usize) -> Result<Bytes, BoxError> {
    let mut first: Option<Bytes> = None;
    let mut read = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        match first.take() {
            None if read.is_empty() => first = Some(data),
            earlier => {
                read.extend_from_slice(&earlier.unwrap_or_default());
                read.extend_from_slice(&data);
            }
        }
        if first.as_ref().map_or(read.len(), Bytes::len) > max {
            break;
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(read)))
}

/// What [`normalise`] makes of a body.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Shaped {
    /// The body jsonrpsee should see instead; `None` to pass it on as it is.
    pub body: Option<Vec<u8>>,
    /// Well-formed notifications only (one, or a batch of them): no reply is due.
    pub notifications_only: bool,
}

/// What one request object is.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Call,
    Notification,
    /// Malformed: send this instead.
    Invalid(Vec<u8>),
}

/// Rewrites each malformed request object in `body` (see the module docs).
/// Bodies that are not JSON pass on: jsonrpsee answers them with a Parse error.
pub(crate) fn normalise(body: &[u8]) -> Shaped {
    let Some(start) = body.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Shaped::default();
    };
    let Ok(text) = std::str::from_utf8(&body[start..]) else {
        return Shaped::default();
    };
    // The common case, one well-formed call, costs one pass and no allocation.
    if let Some(entry) = plain_entry(text) {
        return Shaped {
            notifications_only: matches!(entry, Entry::Notification),
            body: (start > 0).then(|| text.as_bytes().to_vec()),
        };
    }
    let Ok(value) = serde_json::from_str::<&RawValue>(text) else {
        return Shaped::default();
    };
    let trimmed = (start > 0).then(|| text.as_bytes().to_vec());
    if !value.get().starts_with('[') {
        // The plain reading already declined this object: straight to the check.
        let entry = checked_entry(value.get());
        return Shaped {
            notifications_only: matches!(entry, Entry::Notification),
            body: match entry {
                Entry::Invalid(fix) => Some(fix),
                _ => trimmed,
            },
        };
    }
    let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(value.get()) else {
        return Shaped::default();
    };
    // Over the batch limit jsonrpsee refuses the whole batch without reading its
    // entries, so they are not read here either: checking each costs memory
    // per entry, and a 1 MiB body holds half a million of them.
    if items.len() > super::BATCH_CALLS_MAX as usize {
        return Shaped {
            body: trimmed,
            notifications_only: false,
        };
    }
    let entries: Vec<Entry> = items.iter().map(|item| entry(item.get())).collect();
    let notifications_only =
        !entries.is_empty() && entries.iter().all(|e| matches!(e, Entry::Notification));
    if !entries.iter().any(|e| matches!(e, Entry::Invalid(_))) {
        return Shaped {
            body: trimmed,
            notifications_only,
        };
    }
    let mut out = b"[".to_vec();
    for (n, (item, entry)) in items.iter().zip(&entries).enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match entry {
            Entry::Invalid(fix) => out.extend_from_slice(fix),
            _ => out.extend_from_slice(item.get().as_bytes()),
        }
    }
    out.push(b']');
    Shaped {
        body: Some(out),
        notifications_only,
    }
}

/// Whether a request object has the specification's shape; if not, what to send
/// instead: `{"id": ID}` with its id if well formed, else null.
fn entry(item: &str) -> Entry {
    plain_entry(item).unwrap_or_else(|| checked_entry(item))
}

/// The members of a request object that [`checked_entry`] looks at, borrowed
/// from the body (unknown members are skipped, as there).
#[derive(serde::Deserialize)]
struct Members<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

/// A member that is there, `null` included (`Option` alone reads `null` as absent).
fn present<'de, D>(member: D) -> Result<Option<&'de RawValue>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    <&RawValue as serde::Deserialize>::deserialize(member).map(Some)
}

/// A well-formed call or notification in its plainest form (`"2.0"` as written,
/// a method name and an id without escapes, an id that is null, a string or an
/// unsigned integer): what nearly every client sends, read without allocating.
/// `None` for anything else, which [`checked_entry`] then decides: so this
/// answers only where it agrees with it (a duplicated member, say, is left to it).
fn plain_entry(item: &str) -> Option<Entry> {
    // serde would read an array's items as the members in order.
    if !item.starts_with('{') {
        return None;
    }
    let members: Members = serde_json::from_str(item).ok()?;
    let plain_string = |raw: &str| raw.starts_with('"') && !raw.contains('\\');
    let version_ok = members.jsonrpc?.get() == r#""2.0""#;
    let method_ok = plain_string(members.method?.get());
    let params_ok = members
        .params
        .is_none_or(|p| matches!(p.get().as_bytes().first(), Some(b'[' | b'{')));
    if !(version_ok && method_ok && params_ok) {
        return None;
    }
    let Some(id) = members.id.map(RawValue::get) else {
        return Some(Entry::Notification);
    };
    let unsigned = id.bytes().all(|b| b.is_ascii_digit()) && id.parse::<u64>().is_ok();
    (id == "null" || plain_string(id) || unsigned).then_some(Entry::Call)
}

/// [`entry`] for any request object: every member read, each checked by
/// jsonrpsee's own types.
fn checked_entry(item: &str) -> Entry {
    let Ok(members) = serde_json::from_str::<BTreeMap<String, &RawValue>>(item) else {
        return Entry::Invalid(INVALID_NULL_ID.to_vec());
    };
    let id = members.get("id").copied();
    let id_ok = id.is_none_or(|id| serde_json::from_str::<Id>(id.get()).is_ok());
    let version_ok = members
        .get("jsonrpc")
        .is_some_and(|v| serde_json::from_str::<TwoPointZero>(v.get()).is_ok());
    let method_ok = members
        .get("method")
        .is_some_and(|m| serde_json::from_str::<String>(m.get()).is_ok());
    let params_ok = members
        .get("params")
        .is_none_or(|p| matches!(p.get().as_bytes().first(), Some(b'[' | b'{')));
    match (id, id_ok && version_ok && method_ok && params_ok) {
        (None, true) => Entry::Notification,
        (Some(_), true) => Entry::Call,
        (Some(id), false) if id_ok => {
            Entry::Invalid(format!(r#"{{"id":{}}}"#, id.get()).into_bytes())
        }
        _ => Entry::Invalid(INVALID_NULL_ID.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain reading answers the common shapes, and wherever it answers,
    /// the checked reading (jsonrpsee's types) answers the same.
    #[test]
    fn the_plain_reading_agrees_with_the_checked_one() {
        let plain = [
            r#"{"jsonrpc":"2.0","method":"record_get","params":["ab"],"id":1}"#,
            r#"{"id":"x","params":{"a":[1]},"method":"a","jsonrpc":"2.0","extra":{"b":2}}"#,
            r#"{"jsonrpc":"2.0","method":"a","id":null}"#,
            r#"{"jsonrpc":"2.0","method":"a","id":18446744073709551615}"#,
            r#"{"jsonrpc":"2.0","method":"a"}"#,
            r#"{ "jsonrpc" : "2.0" , "\u006dethod" : "a" , "params" : { } , "id" : "7" }"#,
        ];
        for item in plain {
            let read = plain_entry(item);
            assert!(read.is_some(), "read plainly: {item}");
            assert_eq!(read, Some(checked_entry(item)), "{item}");
        }
        let null_id = || Entry::Invalid(INVALID_NULL_ID.to_vec());
        let id_one = || Entry::Invalid(br#"{"id":1}"#.to_vec());
        let left_to_the_check = [
            (
                r#"{"jsonrpc":"2.0","method":"a","id":1,"id":{}}"#,
                null_id(),
            ),
            (
                r#"{"jsonrpc":"2.0","jsonrpc":"1.0","method":"a","id":1}"#,
                id_one(),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"a","id":18446744073709551616}"#,
                null_id(),
            ),
            (r#"{"jsonrpc":"2.0","method":"a","id":-1}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":1.0}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":1e2}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":true}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":[]}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":"\ud800"}"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"\u0061","id":1}"#, Entry::Call),
            (r#"{"jsonrpc":"2\u002e0","method":"a","id":1}"#, Entry::Call),
            (r#"{"jsonrpc":"2.0","method":1,"id":1}"#, id_one()),
            (
                r#"{"jsonrpc":"2.0","method":"a","params":"p","id":1}"#,
                id_one(),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"a","params":null,"id":1}"#,
                id_one(),
            ),
            (r#"{"jsonrpc":"2.0","method":null,"id":1}"#, id_one()),
            (r#"{"jsonrpc":null,"method":"a","id":1}"#, id_one()),
            (r#"{"method":"a","id":1}"#, id_one()),
            (r#"{"jsonrpc":"2.0","id":1}"#, id_one()),
            (r#"["2.0","a",[],1]"#, null_id()),
            (r#"{"jsonrpc":"2.0","method":"a","id":1} x"#, null_id()),
        ];
        for (item, checked) in left_to_the_check {
            assert_eq!(plain_entry(item), None, "{item}");
            assert_eq!(checked_entry(item), checked, "{item}");
        }
    }
}
