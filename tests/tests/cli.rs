//! A node of one's own: `tamga init`, `tamga keys`, `tamga start`, bad input
//! refused with a clear error, and `--output json` on long-running commands.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_tests::{id, tamga_bin, KillOnDrop, Node};

/// `tamga init` with the operator it certifies as the chain's root authority.
const INIT: [&str; 5] = [
    "init",
    "--operator-bin",
    "060440000113",
    "--operator-name",
    "Example Operator LLP",
];

fn tamga(home: &std::path::Path, args: &[&str]) -> (bool, Value, String) {
    let out = Command::new(tamga_bin())
        .args(args)
        .args(["--output", "json"])
        .env("TAMGA_HOME", home)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn init_keys_and_start_a_node_of_ones_own() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (ok, init, _) = tamga(&home, &[&INIT[..], &["--chain-id", "my-chain"]].concat());
    assert!(ok, "{init}");
    assert_eq!(init["chain_id"], "my-chain");
    let (ok, again, _) = tamga(&home, &INIT);
    assert!(
        !ok && again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already holds a node")
    );
    let (ok, bad, _) = tamga(
        &dir.path().join("x"),
        &[&INIT[..], &["--chain-id", "Bad Chain"]].concat(),
    );
    assert!(
        !ok && bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("chain_id"),
        "{bad}"
    );
    // The operator's BIN is checked like any identifier (Art. 45 p.2).
    let bad_bin = [
        "init",
        "--operator-bin",
        "060440000114",
        "--operator-name",
        "X",
    ];
    let (ok, bad, _) = tamga(&dir.path().join("y"), &bad_bin);
    let message = bad["error"]["message"].as_str().unwrap_or_default();
    assert!(!ok && message.contains("check digit"), "{bad}");

    let (ok, key, _) = tamga(&home, &["keys", "new", "carol"]);
    assert!(ok, "{key}");
    let (_, listed, _) = tamga(&home, &["keys", "list"]);
    assert_eq!(listed[0]["name"], "carol");
    let (_, shown, _) = tamga(&home, &["keys", "show", "carol"]);
    assert_eq!(shown["public_key"], key["public_key"]);
    let (ok, _, _) = tamga(&home, &["keys", "new", "../escape"]);
    assert!(!ok, "key names are checked");

    // The default consensus and gossip ports are fixed; this test lets the OS pick.
    // `init` writes the caches' sizes, and the node opens its storage with them.
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    let sizes = [
        ("block_cache_mib = 512", "block_cache_mib = 16"),
        ("state_cache_mib = 768", "state_cache_mib = 24"),
        ("tree_cache_mib = 768", "tree_cache_mib = 40"),
    ];
    let mut config = config
        .replace("127.0.0.1:26656", "127.0.0.1:0")
        .replace("127.0.0.1:26655", "127.0.0.1:0");
    for (default, small) in sizes {
        assert!(config.contains(default), "{config}");
        config = config.replace(default, small);
    }
    assert!(config.contains("warm_caches = true"), "{config}");
    std::fs::write(home.join("config.toml"), config).unwrap();
    let node = Node::start(&home, 100).expect("tamga start");
    node.wait_height(2, std::time::Duration::from_secs(20))
        .unwrap();
    let status = node.client().node_status().unwrap();
    assert_eq!(status.chain_id, "my-chain");
    let usage = node.client().node_storage().unwrap();
    let mib = |n: u64| n * 1024 * 1024;
    assert_eq!(usage.block_cache.capacity_bytes, mib(16), "{usage:?}");
    assert_eq!(usage.state_cache.capacity_bytes, mib(24), "{usage:?}");
    assert_eq!(usage.tree_cache.capacity_bytes, mib(40), "{usage:?}");
    assert!(
        usage.state_cache.entries > 0,
        "blocks wrote state: {usage:?}"
    );
    // warm_caches = true: the warm-up ran, and says what it read.
    let asked = std::time::Instant::now();
    let warm_up = loop {
        let warm_up = node.client().node_storage().unwrap().warm_up;
        let running = warm_up.state == tamga_client::WarmUpState::Running;
        if !running || asked.elapsed() > std::time::Duration::from_secs(20) {
            break warm_up;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        warm_up.state,
        tamga_client::WarmUpState::Done,
        "{warm_up:?}"
    );
    assert!(warm_up.state_values > 0, "{warm_up:?}");
    // Without --rpc-url, the CLI finds the node through its home.
    let (ok, status, err) = tamga(&home, &["query", "status"]);
    assert!(ok, "{err}");
    assert_eq!(status["chain_id"], "my-chain");
}

#[test]
fn dev_announces_itself_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        Command::new(tamga_bin())
            .args(["dev", "--rpc-addr", "127.0.0.1:0", "--output", "json"])
            .env("TAMGA_HOME", dir.path().join("dev"))
            .env("TAMGA_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let banner: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let ready: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(banner["event"], "dev");
    assert_eq!(banner["accounts"].as_array().unwrap().len(), 11);
    // The printed keys are the ones the CLI signs with.
    let alice = &banner["accounts"][4];
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("dev/keys/alice.json")).unwrap())
            .unwrap();
    assert_eq!(alice["name"], "alice");
    assert_eq!(alice["secret_key"], file["secret_key"]);
    assert_eq!(alice["public_key"], file["public_key"]);
    assert_eq!(ready["event"], "ready");
    assert!(ready["rpc"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
}

#[test]
fn the_validator_set_changes_by_transaction_through_the_cli() {
    let node = Node::dev(100);
    let change = ["tx", "validators", "set", "--validator", "validator:2"];
    let refused = node
        .cli(&[&change[..], &["--from", "alice"]].concat())
        .refused();
    assert_eq!(refused, "validators.insufficient_power");
    let done = node
        .cli(&[&change[..], &["--from", "validator"]].concat())
        .ok();
    let scheduled = &done["events"][0]["validator_set_scheduled"];
    let effective = scheduled["effective_height"].as_u64().unwrap();
    assert_eq!(effective, done["height"].as_u64().unwrap() + 2);
    node.wait_height(effective + 1, std::time::Duration::from_secs(20))
        .unwrap();
    let set = node.cli(&["query", "validators"]).ok();
    assert_eq!(set["validators"][0]["power"], 2, "{set}");
    assert_eq!(set["total_power"], 2);
}

/// The release binary has no fault switches: a `[test_faults]` section in its
/// config is refused as an unknown field before anything starts.
#[test]
fn the_release_binary_refuses_test_fault_switches() {
    let (message, _) =
        refused_start(|config| format!("{config}\n[test_faults]\nwrong_state_root = true\n"));
    assert!(message.contains("test_faults"), "{message}");
}

/// The node turns transparent huge pages off for itself (node/src/main.rs: the
/// kernel zeroing huge pages for mimalloc's arenas was the largest cost at
/// 100 ms blocks). Linux only, where `/proc/<pid>/status` says; skipped on a
/// kernel that does not report it (before 5.0). The test process itself must
/// have them on, so the node's `0` is its own doing, not inherited.
#[test]
#[cfg(target_os = "linux")]
fn a_node_runs_without_transparent_huge_pages() {
    let Some(ours) = tamga_tests::proc_status_field("self", "THP_enabled") else {
        eprintln!("skipped: this kernel does not report THP_enabled");
        return;
    };
    assert_eq!(
        ours, "1",
        "the test process has THP off: nothing to tell apart"
    );
    assert!(
        std::env::var_os("MIMALLOC_ALLOW_THP").is_none(),
        "MIMALLOC_ALLOW_THP is set: mimalloc would turn THP off itself"
    );
    let node = Node::dev(100);
    assert_eq!(
        node.transparent_huge_pages(),
        Some(false),
        "THP_enabled in /proc/<pid>/status"
    );
}

/// A cache size outside its bounds is refused, naming the setting and its
/// bounds, before anything starts.
#[test]
fn a_cache_size_out_of_bounds_is_refused() {
    let cases = [
        (
            "block_cache_mib = 512",
            "block_cache_mib = 4",
            "block_cache_mib",
            4,
        ),
        (
            "state_cache_mib = 768",
            "state_cache_mib = 0",
            "state_cache_mib",
            0,
        ),
        (
            "tree_cache_mib = 768",
            "tree_cache_mib = 70000",
            "tree_cache_mib",
            70_000,
        ),
    ];
    for (default, wrong, name, mib) in cases {
        let (message, home) = refused_start(|config| {
            let edited = config.replace(default, wrong);
            assert_ne!(edited, config, "init writes the setting");
            edited
        });
        let expected = format!("storage.{name} must be 8..=65536 (got {mib})");
        assert!(message.contains(&expected), "{message}");
        let database = home.path().join("node/data/CURRENT");
        assert!(!database.exists(), "the database was not opened: {message}");
    }
}

/// `tamga init` into a fresh home, `edit` its `config.toml`, then `tamga start`,
/// which must fail: what it said, and the directory (kept until dropped).
fn refused_start(edit: impl FnOnce(String) -> String) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (ok, init, _) = tamga(&home, &[&INIT[..], &["--chain-id", "my-chain"]].concat());
    assert!(ok, "{init}");
    let path = home.join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(config)).unwrap();
    let mut start = KillOnDrop(
        Command::new(tamga_bin())
            .args(["start", "--output", "json"])
            .env("TAMGA_HOME", &home)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // A start that wrongly accepts the config would run forever: fail instead
    // (the child is killed on drop).
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = start.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "tamga start accepted the config");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    start
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    start
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let said = format!("{out} {err}");
    assert!(
        !status.success(),
        "the edited config must be refused: {said}"
    );
    (said, dir)
}

/// The CLI in text mode (no `--output json`) against `node`, from its home:
/// whether it succeeded, and what it printed.
fn text(node: &Node, args: &[&str]) -> (bool, String) {
    let out = Command::new(tamga_bin())
        .args(args)
        .env("TAMGA_HOME", &node.home)
        .env("TAMGA_RPC", &node.rpc_url)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let errors = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{printed}{errors}"))
}

/// In text mode a record's history and a transaction's events read as
/// sentences naming keys and subjects by this keyring's names; `--output json`
/// prints the node's events as they are.
#[test]
fn history_and_transactions_read_as_sentences_with_keyring_names() {
    let node = Node::dev(100);
    let rec = node.register("tangible", "alice", "Flat 7");
    let transfer = [
        "tx", "record", "transfer", &rec, "--to", "bob", "--from", "alice",
    ];
    let (ok, out) = text(&node, &transfer);
    assert!(ok, "{out}");
    let short = &rec[..12];
    assert!(
        out.contains(&format!(
            "event: record {short}…: transferred from alice to bob"
        )),
        "{out}"
    );
    let entries = node
        .client()
        .record_history(id(&rec), None, None)
        .unwrap()
        .entries;
    let (registered, transferred) = (entries[0].height, entries[1].height);
    let (ok, history) = text(&node, &["query", "history", &rec]);
    assert!(ok, "{history}");
    assert!(
        history.contains(&format!(
            "registered to alice by registrar at height {registered}"
        )),
        "{history}"
    );
    assert!(
        history.contains(&format!(
            "transferred from alice to bob at height {transferred}"
        )),
        "{history}"
    );
    assert!(!history.contains('{'), "no raw JSON in text: {history}");

    // JSON is the node's: subjects as hex, events as the ledger names them.
    let json = node.cli(&["query", "history", &rec]).ok();
    let event = &json["entries"][0]["event"]["registered"];
    assert_eq!(event["owner"], serde_json::json!(node.subject("alice")));
    assert_eq!(
        event["registrar"],
        serde_json::json!(node.subject("registrar"))
    );
    assert_eq!(json["entries"].as_array().unwrap().len(), 2, "{json}");
    assert!(
        !json.to_string().contains("alice"),
        "no names in JSON: {json}"
    );
}
