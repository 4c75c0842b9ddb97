//! Smart contracts on a running node (Art. 67): the escrow sale through the CLI,
//! and the dispute path of the lease deposit — frozen calls, who may dispute and
//! rule, quorum, and escalation to the appeal arbiter past the deadline.

use serde_json::Value;
use std::time::Duration;
use tamga_runtime::contracts::vm::SLOT_RESIDENT_BYTES;
use tamga_tests::{contract_terms, contract_wasm, Node};

fn id(value: &Value, key: &str) -> String {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {value}"))
        .to_owned()
}

fn owner(node: &Node, record: &str) -> Value {
    node.cli(&["query", "record", record]).ok()["owner"].clone()
}

/// alice owns a flat; bob holds 5000 KZT (a money claim issued by the bank).
fn flat_and_money(node: &Node) -> (String, String, String) {
    let flat = node.register("tangible", "alice", "Flat 12");
    let class = id(
        &node
            .cli(&[
                "tx",
                "class",
                "register",
                "--from",
                "bank",
                "--category",
                "claim",
                "--name",
                "Tenge claim",
                "--unit",
                "KZT",
            ])
            .ok(),
        "class",
    );
    // bob consents to being registered as the owner: he signs the bank's
    // transaction from his own wallet.
    let money = id(
        &node
            .cli_cosigned(
                &[
                    "tx",
                    "record",
                    "register",
                    "--from",
                    "bank",
                    "--category",
                    "claim",
                    "--description",
                    "KZT",
                    "--owner",
                    "bob",
                    "--class",
                    &class,
                    "--amount",
                    "5000",
                ],
                &["bob"],
            )
            .ok(),
        "record",
    );
    (flat, class, money)
}

/// An escrow sale: seller alice, buyer bob, price 1000 of `class`, `deadline`
/// height; signed by alice, and co-signed by `cosigners` from their wallets.
fn escrow_instance(
    node: &Node,
    contract: &str,
    class: &str,
    deadline: &str,
    cosigners: &[&str],
) -> String {
    let (class_arg, deadline_arg) = (format!("id:{class}"), format!("u64:{deadline}"));
    let mut args = vec![
        "contract",
        "instantiate",
        contract,
        "--party",
        "alice",
        "--party",
        "bob",
        "--arg",
        "subject:alice",
        "--arg",
        "subject:bob",
    ];
    args.extend([
        "--arg",
        &class_arg,
        "--arg",
        "u64:1000",
        "--arg",
        &deadline_arg,
        "--from",
        "alice",
    ]);
    id(&node.cli_cosigned(&args, cosigners).ok(), "instance")
}

#[test]
fn escrow_sale_swaps_through_the_cli() {
    let node = Node::dev(100);
    let (flat, class, money) = flat_and_money(&node);
    let contract = node.deploy_example("escrow-sale", "20");
    let shown = node.cli(&["contract", "show", &contract]).ok();
    assert!(
        shown["terms"].as_str().unwrap().contains("Escrow sale"),
        "terms readable by people"
    );
    assert_eq!(shown["arbitration"]["quorum"], 2);

    let instance = escrow_instance(&node, &contract, &class, "100000", &[]);
    // Not started until bob accepts.
    assert_eq!(
        node.cli(&["contract", "deposit", &instance, &flat, "--from", "alice"])
            .refused(),
        "contract.not_active"
    );
    node.cli(&["contract", "accept", &instance, "--from", "bob"])
        .ok();
    node.cli(&["contract", "deposit", &instance, &flat, "--from", "alice"])
        .ok();
    assert_eq!(
        node.cli(&["contract", "query", &instance]).ok()["output"],
        "010000"
    );
    // The wrong price is refused by the contract; the exact price completes the swap.
    assert_eq!(
        node.cli(&["contract", "deposit", &instance, &money, "--amount", "999", "--from", "bob"])
            .refused(),
        "contract.aborted"
    );
    node.cli(&[
        "contract", "deposit", &instance, &money, "--amount", "1000", "--from", "bob",
    ])
    .ok();
    assert_eq!(owner(&node, &flat), serde_json::json!(node.subject("bob")));
    let alice_holds = node.cli(&["query", "owner", "alice"]).ok();
    assert_eq!(
        alice_holds["records"][0]["asset"]["fungible"]["amount"],
        1000
    );
    assert_eq!(
        node.cli(&["contract", "query", &instance]).ok()["output"],
        "010101"
    );
    // Settled: reclaiming is refused by the contract.
    assert_eq!(
        node.cli(&[
            "contract",
            "call",
            &instance,
            "--arg",
            "text:reclaim",
            "--from",
            "bob"
        ])
        .refused(),
        "contract.aborted"
    );
    // The compiled module is kept on disk for the next start.
    let cached = std::fs::read_dir(node.home.join("data/wasm-cache")).unwrap();
    assert!(cached
        .filter_map(Result::ok)
        .any(|f| f.path().extension().is_some_and(|e| e == "cwasm")));
}

/// bob rents from alice and deposits 1000 KZT as security; the lease ends at once.
fn lease(node: &Node, deadline: &str) -> (String, String) {
    let (_, _, money) = flat_and_money(node);
    let contract = node.deploy_example("lease-deposit", deadline);
    let instance = id(
        &node
            .cli_cosigned(
                &[
                    "contract",
                    "instantiate",
                    &contract,
                    "--party",
                    "alice",
                    "--party",
                    "bob",
                    "--arg",
                    "subject:alice",
                    "--arg",
                    "subject:bob",
                    "--arg",
                    "u64:0",
                    "--from",
                    "alice",
                ],
                &["bob"],
            )
            .ok(),
        "instance",
    );
    let deposited = node
        .cli(&[
            "contract", "deposit", &instance, &money, "--amount", "1000", "--from", "bob",
        ])
        .ok();
    let held = deposited["events"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|e| e["deposited"]["record"].as_str())
        .unwrap()
        .to_owned();
    (instance, held)
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `tamga contract dispute` citing `reason_file`, signed by `from`.
fn dispute(node: &Node, instance: &str, reason_file: &str, from: &str) -> tamga_tests::CliResult {
    node.cli(&[
        "contract",
        "dispute",
        instance,
        "--reason-file",
        reason_file,
        "--from",
        from,
    ])
}

/// `tamga contract rule` with `--direct` for each direction, signed by `from` and
/// co-signed by `cosign`, each from their own wallet.
fn rule(
    node: &Node,
    instance: &str,
    decision: &str,
    directions: &[&str],
    decision_file: &str,
    from: &str,
    cosign: &[&str],
) -> tamga_tests::CliResult {
    let mut args = vec![
        "contract",
        "rule",
        instance,
        "--decision",
        decision,
        "--decision-file",
        decision_file,
        "--from",
        from,
    ];
    for direction in directions {
        args.extend(["--direct", direction]);
    }
    node.cli_cosigned(&args, cosign)
}

#[test]
fn a_dispute_freezes_the_lease_until_a_quorum_of_arbiters_rules() {
    let node = Node::dev(100);
    let docs = tempfile::tempdir().unwrap();
    let (instance, held) = lease(&node, "1000");
    node.cli(&[
        "contract",
        "call",
        &instance,
        "--arg",
        "text:claim",
        "--from",
        "alice",
    ])
    .ok();
    let reason = file(
        &docs,
        "reason.md",
        "I left the flat in perfect order; photos attached.",
    );
    assert_eq!(
        dispute(&node, &instance, &reason, "bank").refused(),
        "contract.not_party"
    );
    dispute(&node, &instance, &reason, "bob").ok();
    // Frozen: the landlord cannot collect, not even after the claim window.
    node.wait_height(node.height() + 7, Duration::from_secs(30))
        .unwrap();
    assert_eq!(
        node.cli(&[
            "contract",
            "call",
            &instance,
            "--arg",
            "text:collect",
            "--from",
            "alice"
        ])
        .refused(),
        "contract.frozen"
    );

    let decision = file(&docs, "decision.md", "The deposit returns to the tenant.");
    let direct = format!("{held}=bob");
    assert_eq!(
        rule(
            &node,
            &instance,
            "transfer",
            &[&direct],
            &decision,
            "bank",
            &[]
        )
        .refused(),
        "contract.quorum_not_met",
        "a non-arbiter cannot rule"
    );
    assert_eq!(
        rule(
            &node,
            &instance,
            "transfer",
            &[&direct],
            &decision,
            "arbiter1",
            &[]
        )
        .refused(),
        "contract.quorum_not_met",
        "one of a quorum of two"
    );
    assert_eq!(
        owner(&node, &held),
        node.cli(&["contract", "instance", &instance]).ok()["account"],
        "nothing moved"
    );
    let ruled = rule(
        &node,
        &instance,
        "transfer",
        &[&direct],
        &decision,
        "arbiter1",
        &["arbiter2"],
    )
    .ok();
    assert!(ruled["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["ruled"]["arbiters"].as_array().map(|a| a.len()) == Some(2)));
    assert_eq!(owner(&node, &held), serde_json::json!(node.subject("bob")));
    assert_eq!(
        node.cli(&["contract", "instance", &instance]).ok()["status"],
        "active"
    );
}

#[test]
fn past_the_deadline_the_dispute_goes_to_the_appeal_arbiter() {
    let node = Node::dev(100);
    let docs = tempfile::tempdir().unwrap();
    let (instance, held) = lease(&node, "3");
    let reason = file(&docs, "reason.md", "The landlord withholds the deposit.");
    let opened = dispute(&node, &instance, &reason, "bob").ok();
    let deadline = opened["events"][0]["dispute_opened"]["deadline_height"]
        .as_u64()
        .unwrap();
    node.wait_height(deadline + 1, Duration::from_secs(30))
        .unwrap();
    let decision = file(&docs, "decision.md", "Split: half to each.");
    let (half, rest) = (format!("{held}=alice:500"), format!("{held}=bob"));
    let partial = rule(
        &node,
        &instance,
        "terminate",
        &[&half],
        &decision,
        "appeal",
        &[],
    );
    assert_eq!(
        partial.refused(),
        "contract.holdings_left",
        "termination must distribute everything held"
    );
    let both = [half.as_str(), rest.as_str()];
    assert_eq!(
        rule(
            &node,
            &instance,
            "terminate",
            &both,
            &decision,
            "arbiter1",
            &["arbiter2"]
        )
        .refused(),
        "contract.deadline_passed"
    );
    rule(
        &node,
        &instance,
        "terminate",
        &both,
        &decision,
        "appeal",
        &[],
    )
    .ok();
    assert_eq!(
        node.cli(&["contract", "instance", &instance]).ok()["status"],
        "terminated"
    );
    for who in ["alice", "bob"] {
        let holds = node.cli(&["query", "owner", who]).ok();
        let halves = holds["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["asset"]["fungible"]["amount"] == 500)
            .count();
        assert_eq!(halves, 1, "{who} got half of the deposit");
    }
}

#[test]
fn bad_clauses_are_refused_and_escrow_reclaims_after_the_deadline() {
    let node = Node::dev(100);
    let wasm = contract_wasm("escrow-sale");
    let terms = contract_terms("escrow-sale");
    let (wasm, terms) = (wasm.to_str().unwrap(), terms.to_str().unwrap());
    let deploy = |arbiters: &[&str], quorum: &str| {
        let mut args = vec![
            "contract",
            "deploy",
            wasm,
            "--terms",
            terms,
            "--quorum",
            quorum,
            "--deadline",
            "5",
            "--from",
            "alice",
        ];
        for a in arbiters {
            args.extend(["--arbiter", a]);
        }
        node.cli(&args)
    };
    assert_eq!(
        deploy(&["arbiter1", "arbiter2"], "3").refused(),
        "contract.bad_quorum"
    );
    assert_eq!(
        deploy(&["arbiter1", "arbiter1"], "1").refused(),
        "contract.duplicate_arbiter"
    );
    assert!(
        !deploy(&[], "1").success,
        "no arbitration clause, no deployment"
    );

    // Deadline height 0: already past, so either party may reclaim.
    let (flat, class, _) = flat_and_money(&node);
    let contract = id(&deploy(&["arbiter1"], "1").ok(), "contract");
    let instance = escrow_instance(&node, &contract, &class, "0", &["bob"]);
    node.cli(&["contract", "deposit", &instance, &flat, "--from", "alice"])
        .ok();
    assert_eq!(
        owner(&node, &flat),
        node.cli(&["contract", "instance", &instance]).ok()["account"]
    );
    node.cli(&[
        "contract",
        "call",
        &instance,
        "--arg",
        "text:reclaim",
        "--from",
        "bob",
    ])
    .ok();
    assert_eq!(
        owner(&node, &flat),
        serde_json::json!(node.subject("alice")),
        "the seller has the flat back"
    );
}

/// The example contracts' whole initial memory fits what a sandbox slot keeps
/// mapped between calls, so each call's memory is reset in place rather than
/// handed back to the kernel: the workspace's `.cargo/config.toml` builds them
/// with a 32 KiB stack, where rustc's default 1 MiB would make 17 pages.
#[test]
fn the_example_contracts_memory_fits_a_slots_resident_bytes() {
    for example in ["escrow-sale", "lease-deposit", "condo-governance"] {
        let code = std::fs::read(contract_wasm(example)).expect("built example");
        let pages: u64 = wasmparser::Parser::new(0)
            .parse_all(&code)
            .filter_map(|payload| match payload.expect("a valid module") {
                wasmparser::Payload::MemorySection(memories) => Some(memories),
                _ => None,
            })
            .flatten()
            .map(|memory| memory.expect("a memory type").initial)
            .sum();
        let bytes = pages * 65_536;
        assert!(
            (1..=SLOT_RESIDENT_BYTES as u64).contains(&bytes),
            "{example}: initial memory {bytes} bytes, a slot keeps {SLOT_RESIDENT_BYTES}"
        );
    }
}
