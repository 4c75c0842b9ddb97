//! JSON-RPC protocol errors get standard codes and leave the node serving, and
//! `rpc.discover` describes the methods; the WebSocket subscription delivers every
//! committed block. (Every example of the JSON-RPC 2.0 specification is checked
//! in the node's `rpc::conformance_tests`.)

use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use std::time::Duration;
use tamga_tests::{http_post, reason, Node};

fn error_code(body: &str) -> i64 {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    value["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

#[test]
fn protocol_errors_have_standard_codes_and_node_keeps_going() {
    let node = Node::dev(100);
    let (_, body) = http_post(&node.addr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").unwrap();
    assert_eq!(error_code(&body), -32700, "malformed JSON");
    let (_, body) = http_post(
        &node.addr,
        r#"{"jsonrpc":"2.0","id":1,"method":"no_such","params":[]}"#,
    )
    .unwrap();
    assert_eq!(error_code(&body), -32601, "unknown method");
    // JSON-RPC 2.0's own example: a malformed request object is an Invalid Request.
    let (_, body) = http_post(
        &node.addr,
        r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
    )
    .unwrap();
    assert_eq!(error_code(&body), -32600, "invalid request object: {body}");
    let document = node.rpc("rpc.discover", json!([])).unwrap();
    assert_eq!(document["openrpc"], "1.3.2");
    let documented = |name: &str| {
        document["methods"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == name)
    };
    assert!(
        documented("tx_submit") && documented("rpc.discover"),
        "{document}"
    );
    let wrong = node.rpc("record_get", json!([42])).unwrap_err();
    assert_eq!(wrong["code"], -32602, "wrong param type");
    let wrong = node.rpc("record_get", json!(["not-hex"])).unwrap_err();
    assert_eq!(wrong["code"], -32602);
    assert_eq!(reason(&wrong), "params.invalid");
    let wrong = node.rpc("tx_submit", json!(["zz"])).unwrap_err();
    assert_eq!(wrong["code"], -32602);
    let garbage = node.rpc("tx_submit", json!(["00ff00"])).unwrap_err();
    assert_eq!(reason(&garbage), "tx.malformed");
    let missing = node
        .rpc("record_get", json!(["00".repeat(32)]))
        .unwrap_err();
    assert_eq!(missing["code"], -32002);
    assert_eq!(reason(&missing), "not_found.record");

    // A body over the 1 MiB limit is refused without being processed.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["{}"]}}"#,
        "ab".repeat(1024 * 1024)
    );
    let (status, body) = http_post(&node.addr, &huge).unwrap();
    assert!(
        status == 413 || body.contains("-32007"),
        "oversized body: {status} {body}"
    );

    // Still serving and still committing blocks.
    let height = node.height();
    node.wait_height(height + 3, Duration::from_secs(20))
        .unwrap();
}

#[test]
fn websocket_subscription_delivers_new_blocks() {
    let node = Node::dev(100);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = format!("ws://{}", node.addr);
        let client = jsonrpsee_ws_client::WsClientBuilder::default()
            .build(&url)
            .await
            .unwrap();
        let mut sub = client
            .subscribe::<Value, _>("block_subscribe", rpc_params![], "block_unsubscribe")
            .await
            .unwrap();
        let mut last = 0;
        for _ in 0..5 {
            let notice = tokio::time::timeout(Duration::from_secs(20), sub.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let height = notice["height"].as_u64().unwrap();
            assert!(
                last == 0 || height == last + 1,
                "heights {last} then {height}"
            );
            assert_eq!(notice["hash"].as_str().unwrap().len(), 64);
            last = height;
        }
    });
}

/// `node_status` reports where a committed transaction's time went, stage by
/// stage, and `node_storage` what RocksDB holds per column family: both move
/// when a transaction commits.
#[test]
fn stages_and_storage_account_for_a_committed_transaction() {
    let node = Node::dev(100);
    let stages = |node: &Node| node.rpc("node_status", json!([])).unwrap()["stages"].clone();
    let before = stages(&node);
    for stage in [
        "verify",
        "dry_run",
        "execute",
        "state_root",
        "commit",
        "recheck",
    ] {
        assert!(before[stage]["us"].is_u64(), "{stage} in {before}");
    }
    node.register("tangible", "alice", "a plot");
    let after = stages(&node);
    for stage in ["verify", "dry_run", "execute", "state_root", "commit"] {
        let txs = |v: &Value| v[stage]["txs"].as_u64().unwrap();
        assert!(txs(&after) > txs(&before), "{stage}: {before} -> {after}");
    }
    let storage = node.rpc("node_storage", json!([])).unwrap();
    let state = &storage["column_families"]["state"];
    let bytes = state["sst_bytes"].as_u64().unwrap() + state["memtable_bytes"].as_u64().unwrap();
    assert!(bytes > 0, "{storage}");
    assert!(storage["wal_bytes"].is_u64() && storage["compaction_pending"].is_boolean());
}
