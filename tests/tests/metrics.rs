//! A node's observability: `GET /metrics` on the RPC port, parsed as a
//! Prometheus scraper parses it, moving as blocks commit; and `--log-format
//! json`, where every line a starting node writes on stderr is a JSON object.

use prometheus_parse::{Sample, Scrape, Value as Metric};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tamga_tests::{post_raw_jsonrpc, tamga_bin, KillOnDrop, Node};

/// A plain HTTP/1.1 GET; returns status, headers and body.
fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    (status.expect("a status"), head.to_owned(), body.to_owned())
}

fn scrape(node: &Node) -> Scrape {
    let (status, head, body) = http_get(&node.addr, "/metrics");
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    Scrape::parse(lines).expect("the text exposition parses")
}

fn samples<'a>(scrape: &'a Scrape, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
    scrape.samples.iter().filter(move |s| s.metric == name)
}

/// The value of a gauge or counter with no labels.
fn value(scrape: &Scrape, name: &str) -> f64 {
    let sample = samples(scrape, name)
        .next()
        .unwrap_or_else(|| panic!("{name} missing"));
    match sample.value {
        Metric::Gauge(v) | Metric::Counter(v) | Metric::Untyped(v) => v,
        ref other => panic!("{name} is {other:?}"),
    }
}

/// A histogram's observation count for `label = value` (0 when absent).
fn histogram_count(scrape: &Scrape, name: &str, label: Option<(&str, &str)>) -> u64 {
    samples(scrape, name)
        .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .find_map(|s| match &s.value {
            Metric::Histogram(buckets) => Some(buckets.last().map_or(0.0, |b| b.count) as u64),
            _ => None,
        })
        .unwrap_or(0)
}

#[test]
fn metrics_are_scraped_and_move_as_blocks_commit() {
    let node = Node::dev(200);
    let before = scrape(&node);
    for gauge in [
        "tamga_consensus_height",
        "tamga_consensus_round",
        "tamga_mempool_transactions",
        "tamga_mempool_bytes",
        "tamga_sync_target_height",
        "tamga_sync_lag_blocks",
        "tamga_blocks_committed_total",
        "tamga_contract_fuel_used_total",
    ] {
        value(&before, gauge);
    }
    for network in ["consensus", "gossip"] {
        let peers =
            samples(&before, "tamga_peers").find(|s| s.labels.get("network") == Some(network));
        assert!(peers.is_some(), "no peer gauge for {network}");
    }
    assert_eq!(value(&before, "tamga_sync_lag_blocks"), 0.0, "a lone node");
    let height = value(&before, "tamga_height") as u64;
    node.wait_height(height + 3, Duration::from_secs(30))
        .expect("blocks");
    let later = scrape(&node);
    assert!(value(&later, "tamga_height") as u64 >= height + 3);
    assert!(histogram_count(&later, "tamga_rounds_per_height", None) >= 3);
    assert!(histogram_count(&later, "tamga_block_interval_seconds", None) >= 2);

    // A transaction commits: the counter moves by it.
    let committed = value(&later, "tamga_transactions_committed_total");
    node.register("tangible", "alice", "a tractor");
    let after_tx = scrape(&node);
    assert!(
        value(&after_tx, "tamga_transactions_committed_total") >= committed + 1.0,
        "committed transactions did not grow"
    );
    assert!(value(&after_tx, "tamga_height") > value(&later, "tamga_height"));
}

#[test]
fn rpc_latency_is_counted_per_served_method_only() {
    let node = Node::dev(500);
    let method = Some(("method", "node_status"));
    let before = histogram_count(&scrape(&node), "tamga_rpc_request_duration_seconds", method);
    for _ in 0..5 {
        node.client().node_status().expect("node_status");
    }
    let made_up = "no_such_method_at_all";
    for _ in 0..3 {
        let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{made_up}","params":[]}}"#);
        let (_, answer) = post_raw_jsonrpc(&node.addr, &body).expect("post");
        assert!(answer.contains("-32601"), "an unknown method: {answer}");
    }
    let after = scrape(&node);
    let name = "tamga_rpc_request_duration_seconds";
    assert!(histogram_count(&after, name, method) >= before + 5);
    assert!(histogram_count(&after, name, Some(("method", "unknown"))) >= 3);
    assert!(
        samples(&after, name).all(|s| s.labels.get("method") != Some(made_up)),
        "an unserved method name became a label"
    );
    // Everything but `GET /metrics` still reaches the JSON-RPC server.
    let (status, _) = post_raw_jsonrpc(
        &node.addr,
        r#"{"jsonrpc":"2.0","id":1,"method":"node_status","params":[]}"#,
    )
    .expect("post");
    assert_eq!(status, 200);
}

/// Starts `tamga dev --log-format json`, lets it commit a few blocks, and
/// returns every line it wrote on stderr.
fn json_logged_dev_node() -> Vec<String> {
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = KillOnDrop(
        Command::new(tamga_bin())
            .args(["dev", "--rpc-addr", "127.0.0.1:0", "--block-time-ms", "200"])
            .args(["--log-format", "json"])
            .env("TAMGA_HOME", home.path().join("home"))
            .env("TAMGA_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tamga dev starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let stderr = child.0.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let lines = BufReader::new(stderr).lines().map_while(Result::ok);
        lines.collect::<Vec<_>>()
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = BufReader::new(stdout).lines();
    loop {
        let line = out.next().expect("stdout open").expect("a line");
        if line.starts_with("RPC:") {
            break;
        }
        assert!(Instant::now() < deadline, "no RPC line");
    }
    std::thread::sleep(Duration::from_secs(2));
    drop(child);
    reader.join().expect("stderr reader")
}

#[test]
fn json_logs_are_one_object_a_line() {
    let lines = json_logged_dev_node();
    assert!(lines.len() >= 2, "too few log lines: {lines:?}");
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for key in ["timestamp", "level", "target"] {
            assert!(entry[key].is_string(), "{key} missing: {line}");
        }
        assert!(entry["fields"].is_object(), "fields missing: {line}");
    }
    let committed = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .any(|e| e["fields"]["message"] == "committed" && e["fields"]["height"].is_u64());
    assert!(committed, "no structured `committed` event: {lines:?}");
}

/// A gauge's value from a scrape of `node`.
fn gauge(node: &Node, name: &str) -> f64 {
    value(&scrape(node), name)
}

#[test]
fn a_late_node_learns_its_target_from_peers_and_logs_its_catch_up() {
    // 20 blocks a second: a late node catching up at several times that
    // closes the gap in seconds (it chases a moving tip).
    let mut cluster = tamga_tests::cluster::Cluster::start_validators(1, 1, 50);
    cluster
        .wait_height(200, Duration::from_secs(180))
        .expect("the validator makes blocks");
    let log = cluster.homes[1].with_file_name("late-node.log");
    cluster.logs[1] = Some(log.clone());
    cluster.start(1);
    let target = cluster.node(0).height();
    cluster
        .node(1)
        .wait_height(target, Duration::from_secs(120))
        .expect("the late node catches up");
    let late = cluster.node(1);
    // Its sync target is what the validator reports, and it has a peer.
    let deadline = Instant::now() + Duration::from_secs(10);
    while gauge(late, "tamga_sync_target_height") < target as f64 {
        assert!(Instant::now() < deadline, "no sync target from peers");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The lag is the target less the height, from one scrape.
    let peers = scrape(late);
    let (height, target, lag) = (
        value(&peers, "tamga_height"),
        value(&peers, "tamga_sync_target_height"),
        value(&peers, "tamga_sync_lag_blocks"),
    );
    assert_eq!(lag, (target - height).max(0.0), "{height} {target} {lag}");
    let consensus_peers = samples(&peers, "tamga_peers")
        .find(|s| s.labels.get("network") == Some("consensus"))
        .map(|s| match s.value {
            Metric::Gauge(v) => v,
            _ => 0.0,
        });
    assert!(consensus_peers >= Some(1.0), "{consensus_peers:?}");
    // Off a terminal, its catch-up shows as plain log lines: the first as soon
    // as a peer reports the tip, the last once the node reaches the tip peers
    // report (which moves on while it catches up).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let progress = text
            .lines()
            .any(|l| l.contains("catching up: ") && l.contains(" blocks ("));
        if progress && text.contains("caught up at height") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no catch-up lines in the log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
