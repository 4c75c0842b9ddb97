//! The explorer page the node serves at `/` on its RPC port. Over plain HTTP: the
//! page and its files come with their headers, an unknown file is a 404, and
//! JSON-RPC and the WebSocket subscription on the same port work as before. In
//! a real browser (headless Chromium, installed when missing): against a dev
//! node holding a record with provenance, a contract instance in dispute and a
//! condominium with an open proposal, the latest blocks arrive live, a record
//! found with the search box shows the owner and timeline RPC reports, its
//! ownership certificate downloads and `tamga verify` accepts it, an unknown id
//! is a plain sentence, and the block, owner, contract, instance, condominium
//! and certificate views show what RPC says. A screenshot of each view is saved
//! under `$CARGO_TARGET_DIR/explorer-screens/`.

use headless_chrome::protocol::cdp::Browser as Cdp;
use headless_chrome::Tab;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use tamga_runtime::Hash32;
use tamga_tests::{tamga_bin, Node};

use browser::WAIT;

/// One HTTP/1.1 request; returns the status, the header block (lower-cased) and the body.
fn http(addr: &str, request_line: &str, headers: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request =
        format!("{request_line} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn the_page_is_served_beside_json_rpc_and_the_websocket() {
    let node = Node::dev(100);
    let (status, head, body) = http(&node.addr, "GET /", "");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let policy = head
        .lines()
        .find(|l| l.starts_with("content-security-policy:"))
        .unwrap_or_else(|| panic!("no policy in {head}"));
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        &format!("connect-src 'self' ws://{}", node.addr),
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} missing: {policy}");
    }
    assert!(body.contains("<title>Tamga explorer</title>"), "{body}");
    let (status, head, body) = http(&node.addr, "GET /explorer/app.js", "");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/javascript"), "{head}");
    assert!(
        body.contains(include_str!("../../node/src/explorer/app.js").trim_end()),
        "app.js is not the file compiled into the node"
    );
    let (status, head, _) = http(&node.addr, "GET /explorer/no-such-file.js", "");
    assert_eq!(status, 404, "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");

    // JSON-RPC over POST on the same port, and the WebSocket subscription.
    assert_eq!(
        json_of(node.client().node_status())["chain_id"],
        "tamga-dev"
    );
    let client = node.client();
    let mut blocks = client
        .block_subscribe()
        .expect("block_subscribe over WebSocket");
    let notice = blocks
        .next_timeout(WAIT)
        .expect("a block notice within the wait");
    assert!(notice.height > 0, "{notice:?}");
}

/// A typed client's answer as the node's JSON, which the page renders.
fn json_of<T: serde::Serialize>(answer: Result<T, tamga_client::Error>) -> Value {
    serde_json::to_value(answer.expect("the node answers")).expect("serializes")
}

/// A hex id from the fixture.
fn hash(hex: &str) -> Hash32 {
    Hash32::from_hex(hex).expect("a 64-hex id")
}

#[path = "explorer/browser.rs"]
mod browser;
#[path = "explorer/fixture.rs"]
mod fixture;
use browser::{
    chromium, count, eval, launch, screens_dir, shot, text, visit, wait_for, SHOT_WIDTH,
};
use fixture::Fixture;

#[test]
fn the_explorer_in_a_real_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let node = Node::dev(200);
    let fx = Fixture::build(&node);
    let profile = tempfile::tempdir().expect("profile dir");
    let browser = launch(chromium, profile.path());
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(WAIT);
    let dir = screens_dir();
    tab.navigate_to(&format!("{}/", node.rpc_url))
        .and_then(|t| t.wait_until_navigated())
        .expect("the page loads");

    live_blocks(&tab, &node, &dir);
    search_a_record(&tab, &node, &fx, &dir);
    download_its_certificate(&tab, &node, &fx, profile.path());
    unknown_ids(&tab, &dir);
    block_view(&tab, &node, &fx, &dir);
    owner_view(&tab, &node, &dir);
    contract_views(&tab, &node, &fx, &dir);
    condo_view(&tab, &node, &fx, &dir);
    certificate_view(&tab, &node, &dir);
    on_a_phone(&tab, &fx, &dir);
    eprintln!("explorer screenshots: {}", dir.display());
}

/// The latest blocks list grows as blocks commit, with heights the node has.
fn live_blocks(tab: &Tab, node: &Node, dir: &Path) {
    wait_for(
        tab,
        "document.querySelectorAll('#blocks li').length > 0",
        "the latest blocks",
    );
    let first = eval(
        tab,
        "Number(document.querySelector('#blocks li').dataset.height)",
    )
    .as_u64()
    .expect("a height");
    wait_for(
        tab,
        &format!(
            "Number(document.querySelector('#blocks li').dataset.height) >= {}",
            first + 2
        ),
        "new blocks arriving live",
    );
    // One look at the newest row: its height and hash together.
    let newest = eval(
        tab,
        "(li => [Number(li.dataset.height), li.querySelector('.hash').title])(document.querySelector('#blocks li'))",
    );
    let top = newest[0].as_u64().expect("a height");
    assert!(
        top <= node.height(),
        "the page shows block {top} the node lacks"
    );
    let hash = json_of(node.client().block_get(Some(top)))["hash"].clone();
    assert_eq!(
        newest[1], hash,
        "the newest block's hash differs from RPC's"
    );
    let heights = eval(
        tab,
        "[...document.querySelectorAll('#blocks li')].map(li => Number(li.dataset.height))",
    );
    let heights: Vec<u64> = heights
        .as_array()
        .expect("heights")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert!(
        heights.windows(2).all(|w| w[0] == w[1] + 1),
        "a gap in the latest blocks: {heights:?}"
    );
    assert!(
        text(tab, "#live").starts_with("Live"),
        "{}",
        text(tab, "#live")
    );
    shot(tab, dir, "home", SHOT_WIDTH, false);
}

/// Typed into the search box, a record id leads to the record: owner and
/// timeline as RPC reports them, its hostile description shown as text.
fn search_a_record(tab: &Tab, node: &Node, fx: &Fixture, dir: &Path) {
    tab.wait_for_element("#search-input")
        .and_then(|input| input.click().map(|_| ()))
        .expect("the search box");
    tab.type_str(&fx.record)
        .and_then(|t| t.press_key("Enter"))
        .expect("typing a record id");
    wait_for(
        tab,
        &format!(
            "location.hash === '#/record/{}' && document.getElementById('view').dataset.view === 'record'",
            fx.record
        ),
        "the record found by search",
    );
    let record = json_of(node.client().record_get(hash(&fx.record)));
    assert_eq!(
        text(tab, "#record-owner"),
        record["owner"].as_str().expect("owner")
    );
    assert_eq!(text(tab, "#record-description"), fixture::DESCRIPTION);
    assert_eq!(count(tab, "#view script, #view img, #view iframe"), 0);
    assert!(text(tab, "#record-arrest").contains("Under arrest"));
    let history = json_of(node.client().record_history(hash(&fx.record), None, None));
    let entries = history["entries"].as_array().expect("entries");
    let shown = eval(
        tab,
        "[...document.querySelectorAll('#timeline li')].map(li => [Number(li.dataset.height), li.querySelector('.what').textContent])",
    );
    let shown = shown.as_array().expect("timeline entries");
    assert_eq!(shown.len(), entries.len(), "timeline {shown:?}");
    let expected = ["Registered to", "Transferred from", "Pledged", "Arrested"];
    for ((entry, row), words) in entries.iter().zip(shown).zip(expected) {
        assert_eq!(row[0], entry["height"], "timeline {shown:?}");
        let what = row[1].as_str().unwrap_or_default();
        assert!(
            what.starts_with(words),
            "{what:?} should start with {words:?}"
        );
    }
    shot(tab, dir, "record", SHOT_WIDTH, false);
}

/// The download button saves the certificate file, and `tamga verify` accepts it.
fn download_its_certificate(tab: &Tab, node: &Node, fx: &Fixture, profile: &Path) {
    let downloads = profile.join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads dir");
    tab.call_method(Cdp::SetDownloadBehavior {
        behavior: Cdp::SetDownloadBehaviorBehaviorOption::Allow,
        browser_context_id: None,
        download_path: Some(downloads.to_string_lossy().into_owned()),
        events_enabled: None,
    })
    .expect("downloads allowed");
    tab.wait_for_element("#download-certificate")
        .and_then(|b| b.click().map(|_| ()))
        .expect("the download button");
    let deadline = Instant::now() + WAIT;
    let file = loop {
        let done = std::fs::read_dir(&downloads)
            .expect("downloads")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "tamga"));
        if let Some(file) = done {
            break file;
        }
        assert!(
            Instant::now() < deadline,
            "no certificate downloaded: {}",
            text(tab, "#certificate-note")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let verified = Command::new(tamga_bin())
        .arg("verify")
        .arg(&file)
        .arg("--genesis")
        .arg(node.home.join("genesis.json"))
        .args(["--output", "json"])
        .env_remove("TAMGA_RPC")
        .output()
        .expect("tamga verify");
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "verify refused the download: {report}"
    );
    assert!(report.contains(&fx.record), "{report}");
    assert!(text(tab, "#certificate-note").starts_with("Downloaded"));
}

/// An id nothing on the chain has, searched or linked, is a plain sentence.
fn unknown_ids(tab: &Tab, dir: &Path) {
    let unknown = "00".repeat(31) + "01";
    visit(tab, &format!("#/search/{unknown}"), "search");
    let said = text(tab, "#view .notice");
    assert!(
        said.starts_with(&format!("Nothing on this chain has the id {unknown}")),
        "{said}"
    );
    shot(tab, dir, "unknown", SHOT_WIDTH, false);
    visit(tab, &format!("#/record/{unknown}"), "record");
    let said = text(tab, "#view .notice");
    assert_eq!(said, format!("There is no record {unknown} on this chain."));
    visit(tab, "#/search/not-an-id", "search");
    assert!(text(tab, "#view .notice").starts_with("Type a record id"));
    let all = text(tab, "#view");
    assert!(
        !all.contains('{') && !all.contains(concat!("json", "rpc")),
        "JSON shown: {all}"
    );
}

/// A block with its transactions and the commit certificate's signers.
fn block_view(tab: &Tab, node: &Node, fx: &Fixture, dir: &Path) {
    let height = fx.transfer_height;
    visit(tab, &format!("#/block/{height}"), "block");
    let block = json_of(node.client().block_get(Some(height)));
    let txs = block["txs"].as_array().expect("txs");
    assert_eq!(count(tab, "#block-txs tbody tr"), txs.len() as u64);
    let links = eval(
        tab,
        "[...document.querySelectorAll('#block-txs a')].map(a => a.title)",
    );
    assert!(
        links
            .as_array()
            .expect("links")
            .contains(&json!(fx.transfer_tx)),
        "{links}"
    );
    let signers = block["commit"]["signatures"]
        .as_array()
        .expect("signatures");
    let shown = eval(
        tab,
        "[...document.querySelectorAll('#commit-signers tbody a')].map(a => a.title)",
    );
    let expected: Vec<&Value> = signers.iter().map(|s| &s["validator"]).collect();
    assert_eq!(
        shown
            .as_array()
            .expect("signers")
            .iter()
            .collect::<Vec<_>>(),
        expected
    );
    shot(tab, dir, "block", SHOT_WIDTH, false);
}

/// Everything bob holds, found by his public key.
fn owner_view(tab: &Tab, node: &Node, dir: &Path) {
    let key = node.public("bob").to_hex();
    visit(tab, &format!("#/owner/{key}"), "owner");
    let held = json_of(
        node.client()
            .record_by_owner(node.public("bob"), None, None),
    );
    assert_eq!(
        text(tab, "#owner-subject"),
        held["owner"].as_str().expect("owner")
    );
    let ids: Vec<&str> = held["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let shown = eval(
        tab,
        "[...document.querySelectorAll('#owner-records tbody tr a')].map(a => a.title)",
    );
    let shown: Vec<&str> = shown
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(shown, ids);
    shot(tab, dir, "owner", SHOT_WIDTH, false);
}

/// The contract's terms and clause; the instance's parties and dispute.
fn contract_views(tab: &Tab, node: &Node, fx: &Fixture, dir: &Path) {
    visit(tab, &format!("#/contract/{}", fx.contract), "contract");
    let contract = json_of(node.client().contract_get(hash(&fx.contract)));
    assert_eq!(
        text(tab, "#contract-terms"),
        contract["terms"].as_str().expect("terms")
    );
    let arbiters = contract["arbitration"]["arbiters"]
        .as_array()
        .expect("arbiters");
    for arbiter in arbiters {
        let id = arbiter.as_str().expect("arbiter");
        assert!(
            text(tab, "#contract-arbitration").contains(id),
            "arbiter {id} not shown"
        );
    }
    shot(tab, dir, "contract", SHOT_WIDTH, false);
    visit(tab, &format!("#/instance/{}", fx.instance), "instance");
    assert!(
        text(tab, "#instance-status").starts_with("Frozen"),
        "{}",
        text(tab, "#instance-status")
    );
    assert!(text(tab, "#instance-dispute").contains("opened by"));
    assert_eq!(count(tab, "#instance-parties tbody tr"), 2);
    shot(tab, dir, "instance", SHOT_WIDTH, false);
}

/// Shares as a chart and the open proposal with its tally.
fn condo_view(tab: &Tab, node: &Node, fx: &Fixture, dir: &Path) {
    visit(tab, &format!("#/condo/{}", fx.condo), "condo");
    let condo = json_of(node.client().condo_get(hash(&fx.condo)));
    let participants = condo["participants"].as_array().expect("participants");
    assert_eq!(
        count(tab, "#condo-chart path, #condo-chart circle"),
        participants.len() as u64
    );
    for p in participants {
        let row = format!(
            "#condo-participants li[data-subject='{}'] strong",
            p["subject"].as_str().expect("subject")
        );
        assert_eq!(
            text(tab, &row),
            p["fraction"].as_str().expect("fraction"),
            "{row}"
        );
    }
    assert_eq!(count(tab, "#condo-proposals .proposal"), 1);
    assert!(text(tab, "#condo-proposals").contains("1/2 voted for it; it needs 2/3"));
    shot(tab, dir, "condo", SHOT_WIDTH, false);
}

/// A certified key's certificate and its status.
fn certificate_view(tab: &Tab, node: &Node, dir: &Path) {
    let key = node.public("bob").to_hex();
    visit(tab, &format!("#/cert/{key}"), "cert");
    let status = json_of(node.client().cert_status(node.public("bob"), None));
    assert_eq!(status["status"]["status"], "valid");
    assert!(text(tab, "#cert-status").starts_with("Valid at height"));
    shot(tab, dir, "certificate", SHOT_WIDTH, false);
}

/// On a phone-sized screen the record fits: nothing scrolls sideways.
fn on_a_phone(tab: &Tab, fx: &Fixture, dir: &Path) {
    visit(tab, &format!("#/record/{}", fx.record), "record");
    shot(tab, dir, "record-phone", 390, true);
    let wide = eval(tab, "document.documentElement.scrollWidth")
        .as_u64()
        .unwrap_or(0);
    assert!(wide <= 390, "the page is {wide}px wide on a 390px screen");
}
