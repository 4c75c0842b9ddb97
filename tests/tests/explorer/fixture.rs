//! What the explorer's browser test looks at, made through the CLI on a dev
//! node as people would make it: a record with provenance (registered,
//! transferred, pledged, arrested), a contract instance frozen by a dispute, and
//! a condominium with an open proposal.

use serde_json::Value;
use tamga_tests::Node;

/// The record's description: markup anyone can put on the ledger, which the page
/// must show as text.
pub const DESCRIPTION: &str = "Flat 12, 5 Abai Ave <script>alert(1)</script><img src=x>";

pub struct Fixture {
    pub record: String,
    pub transfer_tx: String,
    pub transfer_height: u64,
    pub contract: String,
    pub instance: String,
    pub condo: String,
}

fn field(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {value}"))
        .to_owned()
}

impl Fixture {
    pub fn build(node: &Node) -> Fixture {
        let (record, transfer_tx, transfer_height) = record_with_provenance(node);
        let (contract, instance) = disputed_instance(node);
        let condo = condo_with_open_proposal(node);
        Fixture {
            record,
            transfer_tx,
            transfer_height,
            contract,
            instance,
            condo,
        }
    }
}

/// Registered to alice, sold to bob, pledged to the bank, arrested by the court.
fn record_with_provenance(node: &Node) -> (String, String, u64) {
    let record = node.register("tangible", "alice", DESCRIPTION);
    let transfer = [
        "tx", "record", "transfer", &record, "--to", "bob", "--from", "alice",
    ];
    let transferred = node.cli(&transfer).ok();
    let pledge = [
        "tx", "record", "encumber", &record, "--kind", "pledge", "--holder", "bank", "--from",
        "bob",
    ];
    node.cli(&pledge).ok();
    let order = blake3::hash(b"Court order 2-117/2025").to_hex().to_string();
    let arrest = [
        "tx",
        "record",
        "encumber",
        &record,
        "--kind",
        "arrest",
        "--holder",
        "court",
        "--document",
        &order,
        "--from",
        "court",
    ];
    node.cli(&arrest).ok();
    let height = transferred["height"].as_u64().expect("height");
    (record, field(&transferred, "hash"), height)
}

/// The lease-deposit example between alice and bob, disputed by bob.
fn disputed_instance(node: &Node) -> (String, String) {
    let contract = node.deploy_example("lease-deposit", "1000");
    let instantiate = [
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
    ];
    let instance = field(&node.cli_cosigned(&instantiate, &["bob"]).ok(), "instance");
    let reason = node.home.join("dispute-reason.txt");
    std::fs::write(&reason, "The deposit was not returned.").expect("reason file");
    let reason = reason.to_str().expect("utf-8 path");
    let dispute = [
        "contract",
        "dispute",
        &instance,
        "--reason-file",
        reason,
        "--from",
        "bob",
    ];
    node.cli(&dispute).ok();
    (contract, instance)
}

/// Founded by alice (1/2), bob (1/3) and the bank (1/6); alice proposes to lease
/// its shared access-control system to the ministry and votes for it.
fn condo_with_open_proposal(node: &Node) -> String {
    let create = [
        "tx",
        "condo",
        "create",
        "--agreement",
        "Joint ownership of the access-control system, 5 Abai Ave.",
        "--participant",
        "alice:1/2",
        "--participant",
        "bob:1/3",
        "--participant",
        "bank:1/6",
        "--from",
        "alice",
    ];
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
    let attach = [
        "tx", "condo", "attach", &condo, &system, "--shared", "--from", "alice",
    ];
    node.cli(&attach).ok();
    let ministry = node.subject("ministry").to_hex();
    let lease = [
        "tx",
        "condo",
        "propose",
        &condo,
        "lease",
        "--object",
        &system,
        "--to",
        &ministry,
        "--value",
        "15000",
        "--deadline-blocks",
        "100000",
        "--from",
        "alice",
    ];
    node.cli(&lease).ok();
    condo
}
