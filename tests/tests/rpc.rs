//! JSON-RPC protocol errors get standard codes and leave the node serving, and
//! `rpc.discover` describes the methods; the WebSocket subscription delivers every
//! committed block. Malformed bodies and parameters of the wrong type are what this
//! file tests, so it writes those bodies by hand (`post_raw_jsonrpc`); everything
//! else goes through the client. (Every example of the JSON-RPC 2.0 specification
//! is checked in the node's `rpc::conformance_tests`.)

use serde_json::Value;
use std::time::Duration;
use tamga_runtime::Hash32;
use tamga_tests::{post_raw_jsonrpc, reason, Node};

fn error_of(body: &str) -> Value {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    value["error"].clone()
}

fn error_code(body: &str) -> i64 {
    error_of(body)["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The error object for a raw call body.
fn raw_error(node: &Node, body: &str) -> Value {
    let (_, response) = post_raw_jsonrpc(&node.addr, body).unwrap();
    error_of(&response)
}

#[test]
fn protocol_errors_have_standard_codes_and_node_keeps_going() {
    let node = Node::dev(100);
    let (_, body) =
        post_raw_jsonrpc(&node.addr, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").unwrap();
    assert_eq!(error_code(&body), -32700, "malformed JSON");
    let (_, body) = post_raw_jsonrpc(
        &node.addr,
        r#"{"jsonrpc":"2.0","id":1,"method":"no_such","params":[]}"#,
    )
    .unwrap();
    assert_eq!(error_code(&body), -32601, "unknown method");
    // JSON-RPC 2.0's own example: a malformed request object is an Invalid Request.
    let invalid = raw_error(&node, r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#);
    assert_eq!(invalid["code"], -32600, "invalid request object: {invalid}");
    let document = node.client().rpc_discover().expect("rpc.discover");
    assert_eq!(document["openrpc"], "1.3.2");
    let documented = |name: &str| {
        document["methods"]
            .as_array()
            .expect("methods")
            .iter()
            .any(|m| m["name"] == name)
    };
    assert!(
        documented("tx_submit") && documented("rpc.discover"),
        "{document}"
    );
    let call = |method: &str, params: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#)
    };
    let wrong = raw_error(&node, &call("record_get", "[42]"));
    assert_eq!(wrong["code"], -32602, "wrong param type");
    let wrong = raw_error(&node, &call("record_get", r#"["not-hex"]"#));
    assert_eq!(wrong["code"], -32602);
    assert_eq!(wrong["data"]["reason"], "params.invalid");
    let wrong = raw_error(&node, &call("tx_submit", r#"["zz"]"#));
    assert_eq!(wrong["code"], -32602);
    let garbage = node.client().tx_submit_encoded(&[0x00, 0xff, 0x00]);
    assert_eq!(reason(&garbage.unwrap_err()), "tx.malformed");
    let missing = node.client().record_get(Hash32([0; 32])).unwrap_err();
    assert_eq!(missing.code(), Some(-32002));
    assert_eq!(reason(&missing), "not_found.record");

    // A body over the 1 MiB limit is refused without being processed.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["{}"]}}"#,
        "ab".repeat(1024 * 1024)
    );
    let (status, body) = post_raw_jsonrpc(&node.addr, &huge).unwrap();
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
    let mut blocks = node.client().block_subscribe().unwrap();
    let mut last = 0;
    for _ in 0..5 {
        let notice = blocks.next_timeout(Duration::from_secs(20)).unwrap();
        let height = notice.height;
        assert!(
            last == 0 || height == last + 1,
            "heights {last} then {height}"
        );
        let block = node.client().block_get(Some(height)).unwrap();
        assert_eq!(notice.hash, block.hash, "the notice names the block");
        last = height;
    }
}

/// `node_status` reports where a committed transaction's time went, stage by
/// stage, and `node_storage` what RocksDB holds per column family: both move
/// when a transaction commits.
#[test]
fn stages_and_storage_account_for_a_committed_transaction() {
    let node = Node::dev(100);
    let stages = |node: &Node| node.client().node_status().unwrap().stages;
    let before = stages(&node);
    for stage in [
        "verify",
        "dry_run",
        "execute",
        "state_root",
        "commit",
        "recheck",
    ] {
        assert!(before.contains_key(stage), "{stage} in {before:?}");
    }
    node.register("tangible", "alice", "a plot");
    let after = stages(&node);
    for stage in ["verify", "dry_run", "execute", "state_root", "commit"] {
        let txs = |v: &std::collections::BTreeMap<_, tamga_client::StageTime>| v[stage].txs;
        assert!(
            txs(&after) > txs(&before),
            "{stage}: {before:?} -> {after:?}"
        );
    }
    // Typed: the byte counts, the WAL and the compaction flag are all there.
    let storage = node.client().node_storage().unwrap();
    let state = &storage.column_families["state"];
    let bytes = state.sst_bytes + state.memtable_bytes;
    assert!(bytes > 0, "{storage:?}");
    let cache = storage.block_cache;
    assert!(cache.usage_bytes <= cache.capacity_bytes, "{cache:?}");
}
