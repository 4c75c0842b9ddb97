//! Hostile Wasm against a running node: every case is a clear, named refusal, the
//! node keeps serving, and the next block commits.

use serde_json::Value;
use std::time::Duration;
use tamga_runtime::contracts::ArbitrationClause;
use tamga_runtime::types::{Bytes, Payload};
use tamga_runtime::Hash32;
use tamga_tests::{reason, Node};

fn clause(node: &Node) -> ArbitrationClause {
    ArbitrationClause {
        arbiters: vec![node.public("arbiter1")],
        quorum: 1,
        deadline_blocks: 10,
        appeal: None,
    }
}

/// Submits as alice and waits for the commit; `Err` is the refusal.
fn run(node: &Node, payload: Payload) -> Result<Value, Value> {
    let tx = node.sign("alice", payload, &[]);
    let hash = node.submit(&tx)?["hash"].as_str().unwrap().to_owned();
    Ok(node.wait_tx(&hash))
}

fn deploy(node: &Node, code: Vec<u8>) -> Result<Value, Value> {
    run(
        node,
        Payload::Deploy {
            code: Bytes(code),
            terms: "Test terms.".into(),
            arbitration: clause(node),
        },
    )
}

/// Deploys and instantiates `wat` with alice as the only party; returns the instance.
fn instance_of(node: &Node, wat: &str) -> Hash32 {
    let deployed = deploy(node, wat::parse_str(wat).unwrap()).expect("valid module deploys");
    let contract = Hash32::from_hex(
        deployed["events"][0]["contract_deployed"]["contract"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let payload = Payload::Instantiate {
        contract,
        parties: vec![node.public("alice")],
        init_args: Bytes(vec![]),
    };
    let done = run(node, payload).expect("instantiated");
    Hash32::from_hex(
        done["events"][0]["instance_proposed"]["instance"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

fn call(node: &Node, instance: Hash32) -> Result<Value, Value> {
    run(
        node,
        Payload::Call {
            instance,
            input: Bytes(vec![]),
        },
    )
}

/// The node still answers and commits the next block.
fn assert_unaffected(node: &Node) {
    let height = node.height();
    node.wait_height(height + 1, Duration::from_secs(20))
        .expect("next block commits");
}

fn module(body: &str) -> String {
    format!(
        r#"(module (import "tamga_v1" "output" (func $output (param i32 i32))) (memory (export "memory") 1) {body})"#
    )
}

#[test]
fn hostile_modules_get_clear_errors_and_the_node_goes_on() {
    let node = Node::dev(100);

    let refused = |code: Vec<u8>| reason(&deploy(&node, code).unwrap_err()).to_owned();
    assert_eq!(
        refused(b"\0asm\x01\0\0\0garbage".to_vec()),
        "contract.invalid_module",
        "invalid bytes"
    );
    let big = module(&format!(
        r#"(data (i32.const 0) "{}") (func (export "call"))"#,
        "x".repeat(300 * 1024)
    ));
    assert_eq!(
        refused(wat::parse_str(big).unwrap()),
        "contract.invalid_module",
        "oversized module"
    );
    let no_call =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "run")))"#).unwrap();
    assert_eq!(
        refused(no_call),
        "contract.invalid_module",
        "missing export"
    );
    assert_unaffected(&node);

    let endless = instance_of(
        &node,
        &module(r#"(func (export "call") (loop $l (br $l)))"#),
    );
    assert_eq!(
        reason(&call(&node, endless).unwrap_err()),
        "contract.out_of_fuel"
    );
    assert_unaffected(&node);

    // Grows memory until refused, then traps: the cap holds, the node is fine.
    let bomb = instance_of(
        &node,
        &module(
            r#"(func (export "call") (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable)"#,
        ),
    );
    let error = call(&node, bomb).unwrap_err();
    assert_eq!(reason(&error), "contract.trap", "{error}");
    assert_unaffected(&node);

    let recursion = instance_of(&node, &module(r#"(func $f (export "call") (call $f))"#));
    let error = call(&node, recursion).unwrap_err();
    assert_eq!(reason(&error), "contract.trap");
    assert!(
        error["message"].as_str().unwrap().contains("stack"),
        "{error}"
    );
    assert_unaffected(&node);

    // 0/0 returns the canonical NaN on every machine.
    let nan = instance_of(
        &node,
        &module(
            r#"(func (export "call") (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0))) (call $output (i32.const 0) (i32.const 8)))"#,
        ),
    );
    let done = call(&node, nan).unwrap();
    let output = done["events"][0]["contract_called"]["output"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(output, hex::encode(0x7ff8_0000_0000_0000u64.to_le_bytes()));
    assert_unaffected(&node);
}
