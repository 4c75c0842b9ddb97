//! Every example of the JSON-RPC 2.0 specification's "Examples" section
//! (https://www.jsonrpc.org/specification, section 7), sent over HTTP and over
//! WebSocket to a server built by [`super::serve`], the node's own ServerConfig
//! and HTTP layers, serving the specification's example methods (registered here
//! only). Responses are compared by meaning: `jsonrpc`, `id`, `result` and the
//! error `code` (not the message text), batch responses in any order.

use super::conformance::normalise;
use super::*;
use jsonrpsee::core::client::{ReceivedMessage, TransportReceiverT, TransportSenderT};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The specification's example methods: `subtract` (by position or by name),
/// `sum`, `notify_hello`, `get_data`.
fn example_methods() -> jsonrpsee::RpcModule<()> {
    let mut module = jsonrpsee::RpcModule::new(());
    module
        .register_method("subtract", |params, _, _| {
            let value: Value = params.parse()?;
            let (minuend, subtrahend) = match &value {
                Value::Array(a) => (a[0].as_i64(), a[1].as_i64()),
                _ => (value["minuend"].as_i64(), value["subtrahend"].as_i64()),
            };
            let (Some(m), Some(s)) = (minuend, subtrahend) else {
                return Err(errors::invalid_params("two integers"));
            };
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!(m - s))
        })
        .unwrap();
    module
        .register_method("sum", |params, _, _| {
            let numbers: Vec<i64> = params.parse()?;
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!(numbers.iter().sum::<i64>()))
        })
        .unwrap();
    module
        .register_method("notify_hello", |params, _, _| {
            let (n,): (i64,) = params.parse()?;
            Ok::<_, jsonrpsee::types::ErrorObjectOwned>(json!(n))
        })
        .unwrap();
    module
        .register_method("get_data", |_, _, _| json!(["hello", 5]))
        .unwrap();
    module
}

/// (what, request body, the response the specification gives; None: no response).
fn examples() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let invalid = json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null});
    let parse =
        json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null});
    vec![
        ("positional params", r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
            Some(json!({"jsonrpc": "2.0", "result": 19, "id": 1}))),
        ("positional params, swapped", r#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
            Some(json!({"jsonrpc": "2.0", "result": -19, "id": 2}))),
        ("named params", r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
            Some(json!({"jsonrpc": "2.0", "result": 19, "id": 3}))),
        ("named params, reordered", r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
            Some(json!({"jsonrpc": "2.0", "result": 19, "id": 4}))),
        ("notification", r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#, None),
        ("notification without params", r#"{"jsonrpc": "2.0", "method": "foobar"}"#, None),
        ("non-existent method", r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
            Some(json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}))),
        ("invalid JSON", r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#, Some(parse.clone())),
        ("invalid Request object", r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#, Some(invalid.clone())),
        ("batch, invalid JSON", "[\n  {\"jsonrpc\": \"2.0\", \"method\": \"sum\", \"params\": [1,2,4], \"id\": \"1\"},\n  {\"jsonrpc\": \"2.0\", \"method\"\n]",
            Some(parse)),
        ("empty array", "[]", Some(invalid.clone())),
        ("invalid batch, not empty", "[1]", Some(json!([invalid]))),
        ("invalid batch", "[1,2,3]", Some(json!([invalid, invalid, invalid]))),
        ("batch", r#"[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"} 
    ]"#, Some(json!([
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            invalid,
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
        ]))),
        ("batch of notifications", r#"[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]"#, None),
    ]
}

/// A response reduced to what it means: `jsonrpc`, `id`, `result`, the error's
/// code; a batch's responses sorted (the specification allows any order).
fn meaning(response: &Value) -> Value {
    match response {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(meaning).collect();
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        Value::Object(o) => json!({
            "jsonrpc": o.get("jsonrpc"),
            "id": o.get("id"),
            "result": o.get("result"),
            "error": o.get("error").map(|e| &e["code"]),
        }),
        other => other.clone(),
    }
}

/// Sends `body` as an HTTP POST with a JSON content type, as a client would;
/// returns the status and the body. Only this conformance test builds raw bodies.
async fn post_raw_jsonrpc(addr: SocketAddr, body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .unwrap()
    .unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned());
    (status, body.unwrap_or_default())
}

/// The server the node runs, serving the specification's example methods.
async fn example_server() -> (ServerHandle, SocketAddr) {
    let mut config = Config::default();
    config.rpc.listen = "127.0.0.1:0".into();
    serve(
        &config,
        example_methods(),
        std::sync::Arc::new(crate::metrics::Metrics::new()),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn every_specification_example_over_http() {
    let (server, addr) = example_server().await;
    let mut wrong = Vec::new();
    for (what, request, expected) in examples() {
        let (status, body) = post_raw_jsonrpc(addr, request).await;
        let got = match body.trim() {
            "" => None,
            text => Some(
                serde_json::from_str::<Value>(text)
                    .unwrap_or_else(|e| panic!("{what}: {e}: {text}")),
            ),
        };
        if got.as_ref().map(meaning) != expected.as_ref().map(meaning) {
            wrong.push(format!(
                "{what}: {request}\n  expected {expected:?}\n  got {status} {body}"
            ));
        }
    }
    server.stop().unwrap();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What WebSocket answers differently, and why: messages after the upgrade do not
/// pass the HTTP layer (see `conformance`'s docs).
const WEBSOCKET_DIVERGES: &[&str] = &["invalid Request object"];

#[tokio::test]
async fn every_specification_example_over_websocket() {
    let (server, addr) = example_server().await;
    let url = format!("ws://{addr}").parse().unwrap();
    let (mut tx, mut rx) = jsonrpsee_client_transport::ws::WsTransportClientBuilder::default()
        .build(url)
        .await
        .unwrap();
    // Messages are read by one task, so waiting for one that never comes loses nothing.
    let (messages, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        while let Ok(message) = rx.receive().await {
            if messages.send(message).is_err() {
                return;
            }
        }
    });
    let mut wrong = Vec::new();
    for (what, request, mut expected) in examples() {
        if WEBSOCKET_DIVERGES.contains(&what) {
            expected = Some(json!({"jsonrpc": "2.0", "error": {"code": -32700}, "id": null}));
        }
        tx.send(request.to_owned()).await.unwrap();
        // No answer is one that has not come within the wait.
        let wait = Duration::from_millis(if expected.is_some() { 10_000 } else { 500 });
        let got = match tokio::time::timeout(wait, inbox.recv()).await {
            Err(_) => None,
            Ok(Some(ReceivedMessage::Text(text))) => {
                Some(serde_json::from_str::<Value>(&text).unwrap())
            }
            Ok(other) => panic!("{what}: {other:?}"),
        };
        if got.as_ref().map(meaning) != expected.as_ref().map(meaning) {
            wrong.push(format!(
                "{what}: {request}\n  expected {expected:?}\n  got {got:?}"
            ));
        }
    }
    reader.abort();
    server.stop().unwrap();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Beyond the examples: what the HTTP layer rewrites, and what it leaves alone.
#[test]
fn malformed_request_objects_become_invalid_requests_with_their_id() {
    let rewritten = |body: &str| {
        let shaped = normalise(body.as_bytes());
        shaped.body.map(|b| String::from_utf8(b).unwrap())
    };
    // Well formed: passed on as it is.
    for body in [
        r#"{"jsonrpc":"2.0","method":"a","params":[1],"id":1}"#,
        r#"{"jsonrpc":"2.0","method":"a","params":{"x":1},"id":"x"}"#,
        r#"{"jsonrpc":"2.0","method":"a","id":null}"#,
        r#"{"jsonrpc":"2.0","method":"a"}"#,
        r#"[{"jsonrpc":"2.0","method":"a","id":1},{"jsonrpc":"2.0","method":"b"}]"#,
        r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
        "",
        "[]",
    ] {
        assert_eq!(rewritten(body), None, "{body}");
    }
    // Malformed: an Invalid Request with the id if it has a well-formed one.
    let cases = [
        (
            r#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#,
            r#"{"id":null}"#,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"a","params":"bar","id":7}"#,
            r#"{"id":7}"#,
        ),
        (
            r#"{"jsonrpc":"1.0","method":"a","id":"x"}"#,
            r#"{"id":"x"}"#,
        ),
        (r#"{"method":"a","id":2}"#, r#"{"id":2}"#),
        (
            r#"{"jsonrpc":"2.0","method":"a","id":{}}"#,
            r#"{"id":null}"#,
        ),
        (
            r#"{"jsonrpc":"2.0","method":"a","id":-1}"#,
            r#"{"id":null}"#,
        ),
        (r#"{"foo":"boo"}"#, r#"{"id":null}"#),
        ("1", r#"{"id":null}"#),
        (r#""text""#, r#"{"id":null}"#),
        (
            r#"[1,{"jsonrpc":"2.0","method":"a","id":1},{"id":3,"method":[]}]"#,
            r#"[{"id":null},{"jsonrpc":"2.0","method":"a","id":1},{"id":3}]"#,
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(rewritten(body).as_deref(), Some(expected), "{body}");
    }
    // A batch past the limit is jsonrpsee's to refuse whole: its entries are
    // neither checked nor rewritten (half a million of them fit in 1 MiB).
    let at_limit = format!("[{}]", vec!["1"; 100].join(","));
    assert!(
        rewritten(&at_limit).is_some(),
        "a batch at the limit is checked"
    );
    let over = format!("[{}]", vec!["1"; 101].join(","));
    assert_eq!(rewritten(&over), None, "a batch over the limit passes on");
    // Notifications only: no reply is due.
    let only = |body: &str| normalise(body.as_bytes()).notifications_only;
    assert!(only(r#"{"jsonrpc":"2.0","method":"a"}"#));
    assert!(only(
        r#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b","params":[]}]"#
    ));
    assert!(!only(
        r#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b","id":1}]"#
    ));
    assert!(!only(r#"[{"jsonrpc":"2.0","method":"a"},1]"#));
    assert!(!only(r#"{"jsonrpc":"2.0","method":1}"#));
    assert!(!only("[]"));
    // Leading whitespace (jsonrpsee looks only 128 bytes in) is dropped.
    let spaced = format!(
        "{}{}",
        " ".repeat(200),
        r#"{"jsonrpc":"2.0","method":"a","id":1}"#
    );
    assert_eq!(rewritten(&spaced).as_deref(), Some(spaced.trim_start()));
}
