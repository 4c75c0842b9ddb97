//! A digital condominium (Art. 35) on a running node, through the CLI and
//! JSON-RPC: three founders with shares 1/2, 1/3 and 1/6 sign one founding
//! transaction each from their own wallet; a shared object passes to the
//! condominium's account, beyond any single participant's reach; a sale needs
//! 3/4 of the shares and is carried out exactly when the last vote reaches it.
//! Governed by the `condo-governance` contract instead, a lease passes at two
//! thirds through contract calls; on four validators every node shows the same
//! condominium, founded through one node and voted through the others.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tamga_runtime::records::{Asset, Event, RecordStatus};
use tamga_runtime::types::EncumbranceKind;
use tamga_tests::cluster::Cluster;
use tamga_tests::{id, reason, tamga_bin, CliResult, Node};

/// A valid test IIN of a woman born on 15 March 1992 (check digit computed).
fn carol_iin() -> String {
    (0..100)
        .find_map(|serial| {
            let body = format!("920315400{serial:02}");
            let mut digits = [0u8; 12];
            for (slot, b) in digits.iter_mut().zip(body.bytes()) {
                *slot = b - b'0';
            }
            tamga_runtime::pki::identifier::check_digit(&digits).map(|c| format!("{body}{c}"))
        })
        .expect("some serial has a check digit")
}

fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

/// carol is no dev account: she makes her key in a wallet of her own and the
/// dev root authority certifies it. Returns her subject id.
fn certify_carol(node: &Node) -> String {
    let made = node
        .cli_in(&node.wallet("carol"), &["keys", "new", "carol"])
        .ok();
    let key = field(&made, "public_key");
    let iin = carol_iin();
    let issued = node
        .cli(&[
            "cert",
            "issue",
            "--from",
            "authority",
            "--key",
            &key,
            "--kind",
            "individual",
            "--identifier",
            &iin,
            "--name",
            "Carol Karimova",
        ])
        .ok();
    field(&issued, "subject")
}

/// `tamga tx condo ARGS` as `who`, from their own wallet.
fn condo_tx(node: &Node, who: &str, args: &[&str]) -> CliResult {
    condo_tx_from(node, &node.wallet(who), who, args)
}

/// `tamga tx condo ARGS` as `who`, from the wallet at `wallet`, through `node`.
fn condo_tx_from(node: &Node, wallet: &Path, who: &str, args: &[&str]) -> CliResult {
    let all = [&["tx", "condo"][..], args, &["--from", who]].concat();
    node.cli_in(wallet, &all)
}

fn owner_of(node: &Node, record: &str) -> Value {
    json!(node.client().record_get(id(record)).unwrap().owner)
}

/// The founders write, review and sign the founding transaction, each on their
/// own machine; it is refused until every founder signed. Returns the id.
fn found(node: &Node, carol: &str, rule: &[&str]) -> String {
    let file = node.home.join("founding.json");
    let file = file.to_str().unwrap();
    // alice's wallet holds her key only: the others are named by subject id.
    let bob_share = format!("{}:1/3", node.subject("bob"));
    let carol_share = format!("{carol}:1/6");
    let written = condo_tx(
        node,
        "alice",
        &[
            "create",
            "--agreement",
            "Joint ownership of the access-control system of 12 Abai Ave, Almaty.",
            "--participant",
            "alice:1/2",
            "--participant",
            &bob_share,
            "--participant",
            &carol_share,
            "--out",
            file,
        ]
        .iter()
        .chain(rule)
        .copied()
        .collect::<Vec<_>>(),
    )
    .ok();
    assert_eq!(written["signed_by"].as_array().unwrap().len(), 1);
    let shown = node.cli_in(&node.wallet("bob"), &["tx", "show", file]).ok();
    let description = field(&shown, "description");
    assert!(description.starts_with("Found a digital condominium (Art. 35) of 3"));
    assert!(description.contains("holds 3/6 (1/2)"), "{description}");
    let expected = field(&shown, "condo");
    node.cli_in(
        &node.wallet("bob"),
        &["tx", "sign", file, "--from", "bob", "--yes"],
    )
    .ok();
    let early = node.cli(&["tx", "submit", file]).refused();
    assert_eq!(early, "condo.founder_signature_missing");
    node.cli_in(
        &node.wallet("carol"),
        &["tx", "sign", file, "--from", "carol", "--yes"],
    )
    .ok();
    let founded = node.cli(&["tx", "submit", file]).ok();
    assert_eq!(field(&founded, "condo"), expected);
    assert_eq!(founded["shares"].as_array().unwrap().len(), 3);
    expected
}

/// `tamga query condo` for people (the harness asks for JSON).
fn condo_text(node: &Node, condo: &str) -> String {
    let output = Command::new(tamga_bin())
        .args(["query", "condo", condo])
        .env("TAMGA_HOME", &node.home)
        .env("TAMGA_RPC", &node.rpc_url)
        .stdin(Stdio::null())
        .output()
        .expect("running tamga");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// alice hands her access-control system over as a shared object: it passes to the
/// condominium's account. Returns the system's id.
fn share_a_system(node: &Node, condo: &str) -> String {
    let system = node.register("digital", "alice", "Access-control system, 12 Abai Ave");
    condo_tx(node, "alice", &["attach", condo, &system, "--shared"]).ok();
    system
}

/// `query condo` shows each share as numerator, denominator and fraction, and
/// the shared system owned by the condominium's account.
fn check_shown(node: &Node, condo: &str, system: &str, carol: &str) -> Value {
    let (alice, bob) = (node.subject("alice"), node.subject("bob"));
    let shown = node.cli(&["query", "condo", condo]).ok();
    let account = shown["account"].clone();
    let shares: Vec<(Value, Value, Value)> = shown["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["subject"].clone(),
                p["share"].clone(),
                p["fraction"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        [
            (json!(alice), json!({"num": 3, "den": 6}), json!("1/2")),
            (json!(bob), json!({"num": 2, "den": 6}), json!("1/3")),
            (json!(carol), json!({"num": 1, "den": 6}), json!("1/6")),
        ]
    );
    assert_eq!(shown["shared"][0]["record"], json!(system));
    assert_eq!(shown["shared"][0]["owner"], account);
    assert_eq!(owner_of(node, system), account);
    assert_eq!(
        shown["governance"]["thresholds"]["sale_or_termination"],
        "3/4"
    );
    let text = condo_text(node, condo);
    assert!(
        text.contains(&format!("participant  {alice}  3/6 (1/2)")),
        "{text}"
    );
    shown
}

/// A sale to the bank needs 3/4: alice's 1/2 opens it, carol's 1/6 brings it
/// to 2/3 and nothing moves; bob's 1/3 reaches it and the sale is carried out
/// in his own transaction. A second vote by alice is refused.
fn sell_by_vote(node: &Node, condo: &str, system: &str, account: &Value) {
    let bank = node.subject("bank");
    let bank_hex = bank.to_hex();
    let proposed = condo_tx(
        node,
        "alice",
        &[
            "propose", condo, "sell", "--object", system, "--to", &bank_hex, "--value", "45000000",
        ],
    )
    .ok();
    assert_eq!(proposed["proposal"], 1);
    assert_eq!(proposed["tally"], 3);
    let again = condo_tx(node, "alice", &["vote", condo, "1"]).refused();
    assert_eq!(again, "condo.already_voted");

    let voted = condo_tx(node, "carol", &["vote", condo, "1"]).ok();
    assert_eq!(voted["tally"], 4);
    assert_eq!(voted["decided"], Value::Null);
    let listed = node.cli(&["query", "proposals", condo]).ok();
    let sale = &listed["proposals"][0];
    assert_eq!(sale["status"], "open");
    assert_eq!(sale["tally"], json!({"num": 4, "den": 6}));
    assert_eq!(sale["threshold"], "3/4");
    assert_eq!(owner_of(node, system), *account);

    let decided = condo_tx(node, "bob", &["vote", condo, "1"]).ok();
    assert!(decided["decided"]["sell"].is_object(), "{decided}");
    assert_eq!(owner_of(node, system), json!(bank));
    let listed = node.cli(&["query", "proposals", condo]).ok();
    assert_eq!(listed["proposals"][0]["status"], "executed");
    assert_eq!(listed["proposals"][0]["executed_height"], decided["height"]);
    let shown = node.cli(&["query", "condo", condo]).ok();
    assert_eq!(shown["shared"], json!([]));
}

#[test]
fn three_founders_share_a_digital_system_and_sell_it_at_three_quarters() {
    let node = Node::dev(100);
    let carol = certify_carol(&node);
    let condo = found(&node, &carol, &["--threshold", "sale=3/4"]);
    let system = share_a_system(&node, &condo);
    let shown = check_shown(&node, &condo, &system, &carol);

    // No single participant disposes of a shared object.
    let bob = node.subject("bob").to_hex();
    let alone = node
        .cli_in(
            &node.wallet("alice"),
            &[
                "tx", "record", "transfer", &system, "--to", &bob, "--from", "alice",
            ],
        )
        .refused();
    assert_eq!(alone, "record.not_owner");

    sell_by_vote(&node, &condo, &system, &shown["account"]);

    // alice's participation is a record of her own (Art. 35 p.5).
    let alice = node.subject("alice");
    let owned = node.client().record_by_owner(alice, None, None).unwrap();
    let share = owned
        .records
        .iter()
        .find(|r| matches!(r.asset, Asset::Share { .. }))
        .unwrap_or_else(|| panic!("no share record in {owned:?}"));
    assert_eq!(
        share.asset,
        Asset::Share {
            condo: id(&condo),
            numerator: 3
        }
    );
    assert_eq!(shown["participants"][0]["records"], json!([share.id]));

    let unknown = node.client().condo_get(id(&system)).unwrap_err();
    assert_eq!(reason(&unknown), "condo.not_found");
}

/// Deploys `condo-governance` (two thirds) and starts an instance whose parties
/// are alice, bob and carol, each accepting from their own wallet.
fn governing_instance(node: &Node) -> String {
    let contract = node.deploy_example("condo-governance", "20");
    let carol = node
        .cli_in(&node.wallet("carol"), &["keys", "show", "carol"])
        .ok();
    let carol = field(&carol, "public_key");
    let started = node
        .cli(&[
            "contract",
            "instantiate",
            &contract,
            "--party",
            "alice",
            "--party",
            "bob",
            "--party",
            &carol,
            "--arg",
            "u64:2",
            "--arg",
            "u64:3",
            "--from",
            "alice",
        ])
        .ok();
    let instance = field(&started, "instance");
    for who in ["bob", "carol"] {
        let args = ["contract", "accept", &instance, "--from", who];
        node.cli_in(&node.wallet(who), &args).ok();
    }
    instance
}

/// `tamga contract call INSTANCE vote PROPOSAL` as `who`, from their wallet.
fn contract_vote(node: &Node, who: &str, instance: &str, proposal: &str) -> CliResult {
    let number = format!("u64:{proposal}");
    let args = [
        "contract",
        "call",
        instance,
        "--arg",
        "text:vote",
        "--arg",
        &number,
        "--from",
        who,
    ];
    node.cli_in(&node.wallet(who), &args)
}

#[test]
fn the_governance_contract_decides_a_lease_of_a_shared_object_at_two_thirds() {
    let node = Node::dev(100);
    let carol = certify_carol(&node);
    let instance = governing_instance(&node);
    let condo = found(&node, &carol, &["--instance", &instance]);
    let system = share_a_system(&node, &condo);
    let bank = node.subject("bank").to_hex();
    let lease = [
        "propose", &condo, "lease", "--object", &system, "--to", &bank, "--value", "120000",
    ];
    assert_eq!(condo_tx(&node, "alice", &lease).ok()["proposal"], 1);
    let by_vote = condo_tx(&node, "bob", &["vote", &condo, "1"]).refused();
    assert_eq!(by_vote, "condo.decided_by_contract");
    // A vote for a proposal not yet made is refused by the contract.
    let early = contract_vote(&node, "bob", &instance, "2").refused();
    assert_eq!(early, "contract.aborted");
    // alice's 1/2 is short of 2/3: nothing is leased yet.
    contract_vote(&node, "alice", &instance, "1").ok();
    let record = node.client().record_get(id(&system)).unwrap();
    assert_eq!(record.encumbrances, vec![]);
    let again = contract_vote(&node, "alice", &instance, "1").refused();
    assert_eq!(again, "contract.aborted");
    // bob's 1/3 makes 5/6: the contract approves and the lease is on the system.
    contract_vote(&node, "bob", &instance, "1").ok();
    let record = node.client().record_get(id(&system)).unwrap();
    assert_eq!(record.encumbrances[0].kind, EncumbranceKind::Lease);
    assert_eq!(json!(record.encumbrances[0].holder), json!(bank));
    let listed = node.cli(&["query", "proposals", &condo]).ok();
    assert_eq!(listed["proposals"][0]["status"], "executed");
    assert_eq!(
        listed["proposals"][0]["tally"],
        Value::Null,
        "the contract keeps the votes"
    );
}

#[test]
fn on_four_validators_a_condominium_founded_on_one_node_and_voted_on_the_others_agrees() {
    let cluster = Cluster::start_validators(4, 0, 200);
    cluster.wait_height(2, Duration::from_secs(90)).unwrap();
    let (n0, n1, n2, n3) = (
        cluster.node(0),
        cluster.node(1),
        cluster.node(2),
        cluster.node(3),
    );
    let carol = certify_carol(n0);
    let condo = found(n0, &carol, &["--threshold", "sale=3/4"]);
    let system = share_a_system(n1, &condo);
    let bank = n0.subject("bank").to_hex();
    let sale = [
        "propose", &condo, "sell", "--object", &system, "--to", &bank, "--value", "1",
    ];
    condo_tx_from(n2, &n2.wallet("alice"), "alice", &sale).ok();
    condo_tx_from(n3, &n0.wallet("carol"), "carol", &["vote", &condo, "1"]).ok();
    let decided = condo_tx_from(n1, &n1.wallet("bob"), "bob", &["vote", &condo, "1"]).ok();
    assert!(decided["decided"]["sell"].is_object(), "{decided}");
    let height = decided["height"].as_u64().unwrap();
    cluster
        .wait_height(height + 1, Duration::from_secs(60))
        .unwrap();
    let view = |node: &Node| {
        let mut shown = json!(node.client().condo_get(id(&condo)).unwrap());
        let proposals = node.client().condo_proposals(id(&condo), None, None);
        let mut proposals = json!(proposals.unwrap());
        shown["at_height"] = Value::Null;
        proposals["at_height"] = Value::Null;
        let system = json!(node.client().record_get(id(&system)).unwrap());
        (shown, proposals, system)
    };
    let first = view(n0);
    assert_eq!(first.2["owner"], json!(bank));
    assert_eq!(first.1["proposals"][0]["status"], "executed");
    for i in 1..4 {
        assert_eq!(view(cluster.node(i)), first, "node {i} differs");
    }
    let nodes: Vec<&Node> = (0..4).map(|i| cluster.node(i)).collect();
    tamga_tests::chain::assert_chains_identical(&nodes, height);
}

/// `tamga tx condo create` of the access-control system, alice holding 1/2,
/// followed by `rest`.
fn founding_args<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let common = [
        "tx",
        "condo",
        "create",
        "--agreement",
        "Joint ownership of the access-control system.",
        "--participant",
        "alice:1/2",
    ];
    [&common[..], rest].concat()
}

/// The README's condominium walkthrough, step by step: founded by alice, bob and
/// the bank; a lease at 2/3; the bank's share offered, refused to an outsider in
/// the pre-emption window and taken by bob; a unanimous dissolution.
#[test]
fn the_readme_condominium_walkthrough_runs_through_the_cli() {
    let node = Node::dev(100);
    let create = founding_args(&[
        "--participant",
        "bob:1/3",
        "--participant",
        "bank:1/6",
        "--threshold",
        "sale=3/4",
        "--preemption-blocks",
        "20",
        "--from",
        "alice",
    ]);
    let condo = field(&node.cli_cosigned(&create, &["bob", "bank"]).ok(), "condo");
    let register = [
        "tx",
        "record",
        "register",
        "--from",
        "alice",
        "--category",
        "digital",
        "--description",
        "Access-control system, 5 Abai Ave",
        "--owner",
        "alice",
    ];
    let system = field(
        &node.cli_in(&node.wallet("alice"), &register).ok(),
        "record",
    );
    let tx = |who: &str, args: &[&str]| condo_tx(&node, who, args);
    tx("alice", &["attach", &condo, &system, "--shared"]).ok();
    let ministry = node.subject("ministry").to_hex();
    let lease = [
        "propose", &condo, "lease", "--object", &system, "--to", &ministry, "--value", "15000",
    ];
    tx("alice", &lease).ok();
    assert_eq!(
        tx("alice", &["vote", &condo, "1"]).refused(),
        "condo.already_voted"
    );
    assert!(tx("bank", &["vote", &condo, "1"]).ok()["decided"]["lease"].is_object());
    let record = node.client().record_get(id(&system)).unwrap();
    assert_eq!(json!(record.encumbrances[0].holder), json!(ministry));

    let shown = node.cli(&["query", "condo", &condo]).ok();
    let bank_share = shown["participants"][2]["records"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let offer = [
        "transfer-share",
        &condo,
        "--record",
        &bank_share,
        "--terms",
        "150,000 KZT",
    ];
    assert_eq!(tx("bank", &offer).ok()["offer"], 1);
    assert_eq!(
        tx("registrar", &["take-share", &condo, "1"]).refused(),
        "condo.preemption_window"
    );
    tx("bob", &["take-share", &condo, "1"]).ok();
    let offers = node.cli(&["query", "offers", &condo]).ok();
    assert_eq!(offers["offers"][0]["status"], "taken");
    assert_eq!(owner_of(&node, &bank_share), json!(node.subject("bob")));
    let history = node.client().record_history(id(&bank_share), None, None);
    let history = history.unwrap();
    assert!(
        history
            .entries
            .iter()
            .any(|e| matches!(e.event, Event::CondoShareTaken { .. })),
        "{history:?}"
    );

    let allot = format!("{system}=alice");
    assert_eq!(
        tx("alice", &["dissolve", &condo, "--allot", &allot]).ok()["proposal"],
        2
    );
    tx("bob", &["vote", &condo, "2"]).ok();
    let shown = node.cli(&["query", "condo", &condo]).ok();
    assert_eq!(shown["status"], "dissolved");
    assert_eq!(owner_of(&node, &system), json!(node.subject("alice")));
    let share = node.client().record_get(id(&bank_share)).unwrap();
    assert_eq!(share.status, RecordStatus::Terminated);
}

/// A representative (the bank) leases alone within its mandate; a sale, outside
/// it, is refused and nothing moves.
#[test]
fn a_representative_acts_alone_only_within_its_mandate() {
    let node = Node::dev(100);
    let mandate = node.home.join("mandate.txt");
    std::fs::write(&mandate, "The bank leases the system for up to 20,000 KZT.").unwrap();
    let create = founding_args(&[
        "--participant",
        "bob:1/2",
        "--representative",
        "bank",
        "--mandate-file",
        mandate.to_str().unwrap(),
        "--mandate-kinds",
        "lease",
        "--mandate-value-max",
        "20000",
        "--from",
        "alice",
    ]);
    let unsigned = node.cli_cosigned(&create, &["bob"]).refused();
    assert_eq!(unsigned, "condo.representative_signature_missing");
    let condo = field(&node.cli_cosigned(&create, &["bob", "bank"]).ok(), "condo");
    let system = node.register("digital", "alice", "Access-control system, 5 Abai Ave");
    condo_tx(&node, "alice", &["attach", &condo, &system, "--shared"]).ok();
    let ministry = node.subject("ministry").to_hex();
    let deal = |what: &str, value: &str| -> Vec<String> {
        [
            "act", &condo, what, "--object", &system, "--to", &ministry, "--value", value,
        ]
        .map(String::from)
        .to_vec()
    };
    let act = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        condo_tx(&node, "bank", &args)
    };
    assert_eq!(act(deal("sell", "1")).refused(), "condo.outside_mandate");
    assert_eq!(
        act(deal("lease", "50000")).refused(),
        "condo.outside_mandate"
    );
    let record = node.client().record_get(id(&system)).unwrap();
    assert_eq!(record.encumbrances, vec![]);
    act(deal("lease", "15000")).ok();
    let record = node.client().record_get(id(&system)).unwrap();
    assert_eq!(json!(record.encumbrances[0].holder), json!(ministry));
}
