//! Evidence that leaves the system (Art. 62 p.1): an ownership certificate taken
//! from a 4-validator cluster whose validator set changed is checked by `tamga
//! verify` with every node stopped; one changed byte, or another chain's genesis,
//! is refused with the part that failed named.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use tamga_tests::cluster::{add_fifth_validator, Cluster};
use tamga_tests::tamga_bin;

const WAIT: Duration = Duration::from_secs(90);

/// `tamga verify`, as someone with no node and no network runs it.
fn verify(cert: &Path, genesis: &Path, json: bool) -> Output {
    verify_document(cert, genesis, None, json)
}

/// `tamga verify`, with `--document FILE` when given.
fn verify_document(cert: &Path, genesis: &Path, document: Option<&Path>, json: bool) -> Output {
    let mut command = Command::new(tamga_bin());
    command
        .arg("verify")
        .arg(cert)
        .arg("--genesis")
        .arg(genesis);
    if let Some(document) = document {
        command.arg("--document").arg(document);
    }
    if json {
        command.args(["--output", "json"]);
    }
    command
        .env_remove("TAMGA_RPC")
        .env("TAMGA_HOME", "/nonexistent/tamga-home")
        .stdin(Stdio::null())
        .output()
        .expect("running tamga verify")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[test]
fn an_ownership_certificate_from_a_cluster_verifies_offline_and_tampering_is_refused() {
    let mut cluster = Cluster::start_validators(4, 1, 200);
    cluster.start(4);
    cluster.wait_height(2, WAIT).unwrap();
    let record = cluster
        .node(0)
        .register("digital", "alice", "domain tamga.kz");
    let effective = add_fifth_validator(&cluster);
    cluster.wait_height(effective + 1, WAIT).unwrap();
    let node2 = cluster.node(2);
    let transfer = [
        "tx", "record", "transfer", &record, "--to", "bob", "--from", "alice",
    ];
    node2.cli(&transfer).ok();
    cluster.wait_height(node2.height() + 1, WAIT).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.tamga");
    let cert_arg = cert.to_str().unwrap();
    let written = cluster
        .node(4)
        .cli(&["query", "record", &record, "--certificate", cert_arg]);
    let height = written.ok()["height"].as_u64().unwrap();
    assert!(height > effective, "certified after the change took effect");
    let genesis = dir.path().join("genesis.json");
    std::fs::copy(cluster.node(0).home.join("genesis.json"), &genesis).unwrap();
    let bob = cluster.node(0).subject("bob").to_string();
    for i in 0..5 {
        cluster.kill9(i);
    }

    let output = verify(&cert, &genesis, false);
    assert!(output.status.success(), "{}", text(&output));
    let report = text(&output);
    assert!(
        report.contains(&format!("owner:         subject {bob}")),
        "{report}"
    );
    assert!(report.contains("through 1 change(s)"), "{report}");
    let output = verify(&cert, &genesis, true);
    let verified: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(verified["height"], json!(height));
    assert_eq!(verified["finding"]["record"]["owner"], json!(bob));
    assert_eq!(verified["validator_set_changes"], json!(1));

    // One changed byte, in several places of the file: refused, never accepted.
    let bytes = std::fs::read(&cert).unwrap();
    let tampered = dir.path().join("tampered.tamga");
    for at in [12, bytes.len() / 3, bytes.len() / 2, bytes.len() - 40] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x20;
        std::fs::write(&tampered, &changed).unwrap();
        let output = verify(&tampered, &genesis, false);
        assert!(
            !output.status.success(),
            "byte {at} changed, still accepted"
        );
        assert!(text(&output).contains("REFUSED"), "{}", text(&output));
    }
    // Another chain's genesis (the dev chain's): refused, named.
    let dev = tamga_tests::repo_root().join("seeds/dev-genesis.json");
    let output = verify(&cert, &dev, false);
    assert!(!output.status.success());
    let refused = text(&output);
    let expected = "REFUSED: validator-set change 1 (block at height";
    assert!(refused.contains(expected), "{refused}");
    assert!(
        refused.contains("but the genesis given is for chain tamga-dev"),
        "{refused}"
    );
}

/// Runs `tamga` against `node` (JSON output) and returns the parsed output.
fn cli_ok(node: &tamga_tests::Node, args: &[&str]) -> Value {
    node.cli(args).ok()
}

#[test]
fn an_anchored_document_is_proven_offline_and_a_changed_byte_is_not() {
    let mut node = tamga_tests::Node::dev(100);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agreement.txt");
    std::fs::write(
        &file,
        "Sale agreement: flat 12, 5 Abai Ave, 30,000,000 KZT\n",
    )
    .unwrap();
    let file_arg = file.to_str().unwrap();
    let anchored = cli_ok(
        &node,
        &[
            "doc", "anchor", file_arg, "--from", "alice", "--cosign", "bob",
        ],
    );
    let height = anchored["height"].as_u64().unwrap();
    let online = cli_ok(&node, &["doc", "verify", file_arg]);
    assert_eq!(online["anchored"], json!(true));
    let again = node
        .cli(&["doc", "anchor", file_arg, "--from", "alice"])
        .refused();
    assert_eq!(again, "document.already_signed");
    let cert = dir.path().join("doc.tamga");
    let cert_arg = cert.to_str().unwrap();
    cli_ok(&node, &["doc", "certificate", file_arg, "--out", cert_arg]);
    let genesis = dir.path().join("genesis.json");
    std::fs::copy(node.home.join("genesis.json"), &genesis).unwrap();
    let (alice, bob) = (node.subject("alice"), node.subject("bob"));
    node.stop();

    let output = verify_document(&cert, &genesis, Some(&file), true);
    assert!(output.status.success(), "{}", text(&output));
    let verified: Value = serde_json::from_slice(&output.stdout).unwrap();
    let signatures = &verified["finding"]["signatures"];
    assert_eq!(signatures[0]["subject"], json!(alice.to_string()));
    assert_eq!(signatures[1]["subject"], json!(bob.to_string()));
    assert_eq!(signatures[0]["height"], json!(height));
    // The same certificate against the file with one byte changed: refused.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[31] ^= 0x01;
    let changed = dir.path().join("changed.txt");
    std::fs::write(&changed, bytes).unwrap();
    let output = verify_document(&cert, &genesis, Some(&changed), false);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("is not the certified file"),
        "{}",
        text(&output)
    );
}
