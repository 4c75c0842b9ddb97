//! Hostile Wasm against a running node: every case is a clear, named refusal, the
//! node keeps serving, and the next block commits.

use std::time::Duration;
use tamga_client::{Error, TxInfo};
use tamga_runtime::contracts::ArbitrationClause;
use tamga_runtime::records::Event;
use tamga_runtime::types::{Bytes, Payload};
use tamga_runtime::Hash32;
use tamga_tests::{reason, Node};

fn clause(node: &Node) -> ArbitrationClause {
    ArbitrationClause {
        arbiters: vec![node.subject("arbiter1")],
        quorum: 1,
        deadline_blocks: 10,
        appeal: None,
    }
}

/// Submits as alice and waits for the commit; `Err` is the refusal.
fn run(node: &Node, payload: Payload) -> Result<TxInfo, Error> {
    let tx = node.sign("alice", payload, &[]);
    let hash = node.submit(&tx)?;
    Ok(node.wait_tx(hash))
}

/// The first event of a committed transaction.
fn first_event(done: &TxInfo) -> Event {
    done.events()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no event: {done:?}"))
}

fn deploy(node: &Node, code: Vec<u8>) -> Result<TxInfo, Error> {
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
    let Event::ContractDeployed { contract, .. } = first_event(&deployed) else {
        panic!("not deployed: {deployed:?}")
    };
    let payload = Payload::Instantiate {
        contract,
        parties: vec![node.subject("alice")],
        init_args: Bytes(vec![]),
    };
    let done = run(node, payload).expect("instantiated");
    let Event::InstanceProposed { instance, .. } = first_event(&done) else {
        panic!("not instantiated: {done:?}")
    };
    instance
}

fn call(node: &Node, instance: Hash32) -> Result<TxInfo, Error> {
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
    assert_eq!(reason(&error), "contract.stack_exhausted");
    assert!(error.rpc().unwrap().message.contains("stack"), "{error}");
    assert_unaffected(&node);

    // 0/0 returns the canonical NaN on every machine.
    let nan = instance_of(
        &node,
        &module(
            r#"(func (export "call") (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0))) (call $output (i32.const 0) (i32.const 8)))"#,
        ),
    );
    let done = call(&node, nan).unwrap();
    let Event::ContractCalled { output, .. } = first_event(&done) else {
        panic!("not called: {done:?}")
    };
    assert_eq!(output.0, 0x7ff8_0000_0000_0000u64.to_le_bytes());
    assert_unaffected(&node);
}

/// A loop over a host call that copies a large input burns no more than a loop
/// over instructions: each copy is paid for by the byte, so the call stops at its
/// fuel limit with `contract.out_of_fuel` (refused at admission, in milliseconds)
/// instead of copying for ever.
#[test]
fn a_loop_over_a_host_call_runs_out_of_fuel() {
    let node = Node::dev(100);
    let copier = instance_of(
        &node,
        r#"(module (import "tamga_v1" "input_read" (func $read (param i32)))
             (memory (export "memory") 1)
             (func (export "call") (loop $l (call $read (i32.const 0)) (br $l))))"#,
    );
    let payload = Payload::Call {
        instance: copier,
        input: Bytes(vec![7; 60 * 1024]),
    };
    let error = run(&node, payload).unwrap_err();
    assert_eq!(reason(&error), "contract.out_of_fuel", "{error}");
    assert_unaffected(&node);
}

/// Calls that each burn most of a call's fuel are all valid, but a block holds
/// only as many as its fuel budget covers: the proposer closes the block there
/// and the rest follow in later blocks, so no block takes long to execute. All
/// 30 are pending at once (one batch, blocks 3 s apart), so only the budget
/// splits them: the fullest block holds exactly budget / fuel-per-call.
#[test]
fn a_block_holds_only_as_much_contract_work_as_its_fuel_budget() {
    use tamga_runtime::contracts::vm::limits::{BLOCK_FUEL_MAX, FUEL_PER_CALL};
    let node = Node::dev(3000);
    // About 7 fuel per iteration: 2,000,000 iterations is most of one call's fuel.
    let burner = instance_of(
        &node,
        r#"(module (memory (export "memory") 1)
             (func (export "call") (local $i i32)
               (loop $l
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))))"#,
    );
    let alice = node.key("alice");
    let first = node.next_nonce(&node.public("alice"));
    let batch: Vec<_> = (0..30u64)
        .map(|k| {
            tamga_runtime::types::Transaction {
                chain_id: "tamga-dev".into(),
                signer: node.public("alice"),
                nonce: first + k,
                payload: Payload::Call {
                    instance: burner,
                    input: Bytes(vec![]),
                },
            }
            .sign(&alice)
        })
        .collect();
    let admitted = node.client().tx_submit_batch(&batch).unwrap();
    let hashes: Vec<Hash32> = admitted
        .iter()
        .map(|r| r.hash().expect("admitted"))
        .collect();
    let mut per_block: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
    let mut fuel_each = 0;
    for hash in &hashes {
        let done = node.wait_tx(*hash);
        let Event::ContractCalled { fuel_used, .. } = first_event(&done) else {
            panic!("not called: {done:?}")
        };
        fuel_each = fuel_used;
        assert!(
            fuel_each > FUEL_PER_CALL / 2 && fuel_each <= FUEL_PER_CALL,
            "fuel {fuel_each}"
        );
        let entry = per_block.entry(done.height.unwrap()).or_default();
        entry.0 += 1;
        entry.1 += fuel_each;
    }
    for (height, (calls, fuel)) in &per_block {
        assert!(
            *fuel <= BLOCK_FUEL_MAX,
            "block {height}: {calls} calls burned {fuel}"
        );
    }
    let fullest = per_block.values().map(|(calls, _)| *calls).max().unwrap();
    assert_eq!(fullest, BLOCK_FUEL_MAX / fuel_each, "blocks: {per_block:?}");
}
