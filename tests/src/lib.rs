//! Test harness: starts real `tamga` processes on loopback ports the OS picks
//! (`--rpc-addr 127.0.0.1:0`, the bound URL read from the node's stdout), talks to
//! them through the typed client (`tamga-client`, [`Node::client`]) and the CLI,
//! and kills them when dropped, so a failing test leaves no process behind. Only
//! tests of the JSON-RPC protocol itself (malformed or oversized bodies) write
//! bodies by hand, through [`post_raw_jsonrpc`].

use anyhow::{anyhow, bail, Context, Result};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tamga_client::blocking::Client;
use tamga_client::TxInfo;
use tamga_runtime::types::{Payload, SignedTx, Transaction};
use tamga_runtime::{Hash32, PublicKey, SubjectId};

pub mod bench;
pub mod chain;
pub mod cluster;
pub mod profile;
pub mod proxy;
pub mod scale;
pub mod sockets;
pub mod stranger;

/// How long a node may take to print its RPC URL.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The `tamga` binary: `TAMGA_BIN`, else beside this executable (a bench binary in
/// `target/<profile>/`) or one level up (a test in `target/<profile>/deps/`).
pub fn tamga_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("TAMGA_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable directory");
    let candidates = [
        dir.join("tamga"),
        dir.parent().map(|p| p.join("tamga")).unwrap_or_default(),
    ];
    let found = candidates.iter().find(|c| c.is_file());
    found.cloned().unwrap_or_else(|| {
        panic!(
            "no tamga binary beside {}: build it first (scripts/test.sh does)",
            dir.display()
        )
    })
}

/// The test build of `tamga` (feature `test-faults`), beside the release one:
/// the only binary that honours a `[test_faults]` config section.
pub fn tamga_test_bin() -> PathBuf {
    let bin = tamga_bin().with_file_name("tamga-test");
    assert!(
        bin.is_file(),
        "{} missing: scripts/test.sh builds it (cargo build -p tamga-node --features test-faults)",
        bin.display()
    );
    bin
}

/// A running `tamga` process and its home.
pub struct Node {
    child: Option<Child>,
    pub home: PathBuf,
    pub rpc_url: String,
    pub addr: String,
    /// Height the node printed at start ("Chain: … at height N").
    pub start_height: u64,
    client: Option<Client>,
    _tempdir: Option<tempfile::TempDir>,
}

impl Node {
    /// `tamga dev` in a fresh temporary home.
    pub fn dev(block_time_ms: u64) -> Node {
        Node::dev_with(block_time_ms, &[])
    }

    /// `tamga dev` with extra flags (a benchmark's mempool quota, say).
    pub fn dev_with(block_time_ms: u64, extra: &[&str]) -> Node {
        let tempdir = tempfile::tempdir().expect("temp dir");
        let home = tempdir.path().join("home");
        let ms = block_time_ms.to_string();
        let mut args = vec!["dev", "--rpc-addr", "127.0.0.1:0", "--block-time-ms", &ms];
        args.extend_from_slice(extra);
        let mut node = Node::spawn(&home, &args).expect("tamga dev starts");
        node._tempdir = Some(tempdir);
        node
    }

    /// Stops this `tamga dev` node, unless stopped already, and starts it
    /// again on its own data (`--keep`), with the flags of [`Node::dev_with`].
    pub fn restart_dev(&mut self, block_time_ms: u64, extra: &[&str]) -> Result<()> {
        if self.child.is_some() && !self.stop() {
            bail!("the node did not stop cleanly: its restart would recover, not start");
        }
        let ms = block_time_ms.to_string();
        let mut args = vec![
            "dev",
            "--keep",
            "--rpc-addr",
            "127.0.0.1:0",
            "--block-time-ms",
            &ms,
        ];
        args.extend_from_slice(extra);
        let mut restarted = Node::spawn(&self.home, &args)?;
        restarted._tempdir = self._tempdir.take();
        *self = restarted;
        Ok(())
    }

    /// `tamga start` on an existing home (after a crash, say).
    pub fn start(home: &Path, block_time_ms: u64) -> Result<Node> {
        Node::start_with(home, block_time_ms, false)
    }

    /// `tamga start`; `faulty` runs the test build (`tamga-test`), which reads
    /// the home's `[test_faults]` section.
    pub fn start_with(home: &Path, block_time_ms: u64, faulty: bool) -> Result<Node> {
        Node::start_logged(home, block_time_ms, faulty, None)
    }

    /// Like [`Node::start_with`]; with `log`, the node's log (Malachite's
    /// Byzantine proxy included) goes to that file instead of the test's stderr.
    pub fn start_logged(
        home: &Path,
        block_time_ms: u64,
        faulty: bool,
        log: Option<&Path>,
    ) -> Result<Node> {
        let ms = block_time_ms.to_string();
        let args = ["start", "--rpc-addr", "127.0.0.1:0", "--block-time-ms", &ms];
        let bin = if faulty {
            tamga_test_bin()
        } else {
            tamga_bin()
        };
        Node::spawn_with(&bin, home, &args, log, START_TIMEOUT)
    }

    /// `tamga start` with `args` added, allowed `ready_within` to print its RPC
    /// URL (a node restoring a large state snapshot takes longer than most);
    /// its log goes to `node.log` in its home.
    pub fn start_within(home: &Path, args: &[&str], ready_within: Duration) -> Result<Node> {
        let all: Vec<&str> = ["start", "--rpc-addr", "127.0.0.1:0"]
            .iter()
            .chain(args)
            .copied()
            .collect();
        let log = home.join("node.log");
        Node::spawn_with(&tamga_bin(), home, &all, Some(&log), ready_within)
    }

    fn spawn(home: &Path, args: &[&str]) -> Result<Node> {
        Node::spawn_with(&tamga_bin(), home, args, None, START_TIMEOUT)
    }

    fn spawn_with(
        bin: &Path,
        home: &Path,
        args: &[&str],
        log: Option<&Path>,
        ready_within: Duration,
    ) -> Result<Node> {
        const QUIET: &str = "warn,arc_malachitebft=error,arc_malachitebft_network=off";
        let (filter, stderr) = match log {
            Some(path) => (logged_filter(QUIET), Stdio::from(append(path)?)),
            None => (QUIET.to_owned(), Stdio::inherit()),
        };
        let mut child = Command::new(bin)
            .args(args)
            .env("TAMGA_HOME", home)
            .env("TAMGA_LOG", filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("spawning tamga")?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut node = Node {
            child: Some(child),
            home: home.to_owned(),
            rpc_url: String::new(),
            addr: String::new(),
            start_height: 0,
            client: None,
            _tempdir: None,
        };
        let deadline = Instant::now() + ready_within;
        while node.rpc_url.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines_rx
                .recv_timeout(left)
                .map_err(|_| anyhow!("tamga printed no RPC URL in {ready_within:?}"))?;
            if let Some(rest) = line.strip_prefix("Chain:") {
                node.start_height = rest
                    .rsplit(' ')
                    .next()
                    .and_then(|h| h.parse().ok())
                    .unwrap_or(0);
            }
            if let Some(url) = line.strip_prefix("RPC:") {
                node.rpc_url = url.trim().to_owned();
                node.addr = node.rpc_url.trim_start_matches("http://").to_owned();
            }
        }
        node.client = Some(Client::new(&node.rpc_url)?);
        Ok(node)
    }

    /// The node's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Sends a signal (`STOP`, `CONT`, `TERM`) to the process.
    pub fn signal(&self, name: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{name}"))
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Peak resident memory of the process so far in KiB (`VmHWM`), if running.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_field("VmHWM")?.parse().ok()
    }

    /// The process's `THP_enabled` (false once it has turned transparent huge
    /// pages off for itself with `PR_SET_THP_DISABLE`; true otherwise, whatever
    /// the machine's THP mode), if running on a kernel that reports it.
    pub fn transparent_huge_pages(&self) -> Option<bool> {
        let pid = self.child.as_ref()?.id();
        Some(proc_status_field(&pid.to_string(), "THP_enabled")? == "1")
    }

    fn status_field(&self, name: &str) -> Option<String> {
        proc_status_field(&self.child.as_ref()?.id().to_string(), name)
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait for a clean exit; returns whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let sent = Instant::now();
        while sent.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = child.try_wait() {
                if !status.success() || sent.elapsed() > Duration::from_secs(2) {
                    let took = sent.elapsed();
                    eprintln!(
                        "node {}: SIGTERM, then {status} in {took:?}",
                        self.home.display()
                    );
                }
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "node {}: still running 20 s after SIGTERM",
            self.home.display()
        );
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Runs the CLI against this node with `--output json`.
    pub fn cli(&self, args: &[&str]) -> CliResult {
        self.cli_in(&self.home, args)
    }

    /// The CLI as another person would run it: from their own `home` (a dev
    /// wallet holds only its owner's key), against this node.
    pub fn cli_in(&self, home: &Path, args: &[&str]) -> CliResult {
        let output = Command::new(tamga_bin())
            .args(args)
            .args(["--output", "json"])
            .env("TAMGA_HOME", home)
            .env("TAMGA_RPC", &self.rpc_url)
            .stdin(Stdio::null())
            .output()
            .expect("running tamga");
        CliResult::from(output)
    }

    /// The dev registrar registers an object of `category` (tangible, digital,
    /// claim) for `owner` (a key name, certified key or subject id); returns the
    /// record id.
    pub fn register(&self, category: &str, owner: &str, description: &str) -> String {
        let args = [
            "tx",
            "record",
            "register",
            "--from",
            "registrar",
            "--category",
            category,
            "--description",
            description,
            "--owner",
            owner,
        ];
        let registered = self.cli(&args).ok();
        registered["record"]
            .as_str()
            .unwrap_or_else(|| panic!("no record in {registered}"))
            .to_owned()
    }

    /// alice deploys the example contract `example` with its terms; arbiters
    /// arbiter1 and arbiter2 (quorum 2), `deadline` blocks, appeal to `appeal`.
    /// Returns the contract id.
    pub fn deploy_example(&self, example: &str, deadline: &str) -> String {
        let (wasm, terms) = (contract_wasm(example), contract_terms(example));
        let args = [
            "contract",
            "deploy",
            wasm.to_str().expect("utf-8 path"),
            "--terms",
            terms.to_str().expect("utf-8 path"),
            "--arbiter",
            "arbiter1",
            "--arbiter",
            "arbiter2",
            "--quorum",
            "2",
            "--deadline",
            deadline,
            "--appeal",
            "appeal",
            "--from",
            "alice",
        ];
        let deployed = self.cli(&args).ok();
        deployed["contract"]
            .as_str()
            .unwrap_or_else(|| panic!("no contract in {deployed}"))
            .to_owned()
    }

    /// A dev account's wallet home: its key and nothing else.
    pub fn wallet(&self, name: &str) -> PathBuf {
        self.home.join("wallets").join(name)
    }

    /// A transaction several people sign, each on their own machine: `args`
    /// (a `tamga tx`/`contract`/`cert` command) writes it `--out` a file signed
    /// by its `--from`; each of `cosigners` reviews and signs it from their own
    /// wallet; then it is submitted. No private key leaves its wallet.
    pub fn cli_cosigned(&self, args: &[&str], cosigners: &[&str]) -> CliResult {
        static FILES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = self.home.join(format!("cosigned-{n}.json"));
        let file = file.to_str().expect("utf-8 path");
        let mut first = args.to_vec();
        first.extend(["--out", file]);
        let written = self.cli(&first);
        if !written.success {
            return written;
        }
        for cosigner in cosigners {
            let signed = self.cli_in(
                &self.wallet(cosigner),
                &["tx", "sign", file, "--from", cosigner, "--yes"],
            );
            if !signed.success {
                return signed;
            }
        }
        self.cli(&["tx", "submit", file])
    }

    /// The typed client of this node's JSON-RPC: one function per method.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("a started node has a client")
    }

    pub fn height(&self) -> u64 {
        self.client().node_status().expect("node_status").height
    }

    /// Waits until the node reaches `height`. An unanswered status call (a node
    /// busy on a loaded machine) is a "not yet", not a failure, until the deadline.
    pub fn wait_height(&self, height: u64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let reached = self.client().node_status().map(|status| status.height);
            if matches!(reached, Ok(at) if at >= height) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("height {height} not reached in {timeout:?} (last answer: {reached:?})");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A dev account's key, read from the node's keyring like any client would.
    pub fn key(&self, name: &str) -> SigningKey {
        read_key(&self.home.join("keys").join(format!("{name}.json")))
    }

    /// The node's own consensus key (`validator_key.json`).
    pub fn validator_key(&self) -> SigningKey {
        read_key(&self.home.join("validator_key.json"))
    }

    pub fn public(&self, name: &str) -> PublicKey {
        PublicKey::of(&self.key(name))
    }

    /// The subject a dev account's key is certified for, asked of the node.
    pub fn subject(&self, name: &str) -> SubjectId {
        self.subject_of_key(&self.public(name))
    }

    /// The subject `key`'s certificate names (`cert_status`), remembered: dev
    /// subjects are the same on every dev chain, and a node under a fault test
    /// may not answer.
    pub fn subject_of_key(&self, key: &PublicKey) -> SubjectId {
        static KNOWN: std::sync::Mutex<Vec<(PublicKey, SubjectId)>> =
            std::sync::Mutex::new(Vec::new());
        let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, subject)) = known.iter().find(|(k, _)| k == key) {
            return *subject;
        }
        let found = self.client().cert_status(*key, None);
        let subject = found.expect("cert_status").certificate.subject;
        known.push((*key, subject));
        subject
    }

    pub fn next_nonce(&self, who: &PublicKey) -> u64 {
        let account = self.client().account_get(*who);
        account.expect("account_get").next_nonce
    }

    /// Signs `payload` as `signer` with the next nonce, co-signed by `cosigners`.
    pub fn sign(&self, signer: &str, payload: Payload, cosigners: &[&str]) -> SignedTx {
        let cosigners: Vec<SigningKey> = cosigners.iter().map(|c| self.key(c)).collect();
        self.sign_with(&self.key(signer), payload, &cosigners)
    }

    /// Signs with raw keys, for this node's chain and the signer's next nonce.
    pub fn sign_with(
        &self,
        key: &SigningKey,
        payload: Payload,
        cosigners: &[SigningKey],
    ) -> SignedTx {
        let status = self.client().node_status().expect("node_status");
        let tx = Transaction {
            chain_id: status.chain_id,
            signer: PublicKey::of(key),
            nonce: self.next_nonce(&PublicKey::of(key)),
            payload,
        };
        cosigners.iter().fold(tx.sign(key), |tx, c| tx.cosign(c))
    }

    /// Submits a signed transaction; its hash once admitted.
    pub fn submit(&self, tx: &SignedTx) -> Result<Hash32, tamga_client::Error> {
        self.client().tx_submit(tx).map(|submitted| submitted.hash)
    }

    /// Waits for a transaction to commit; returns its `tx_get` result.
    pub fn wait_tx(&self, hash: Hash32) -> TxInfo {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let result = self.client().tx_get(hash).expect("tx_get");
            if result.is_committed() {
                return result;
            }
            assert!(
                result.status == tamga_client::TxStatus::Pending,
                "tx {hash}: {result:?}"
            );
            assert!(Instant::now() < deadline, "tx {hash} not committed in 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What a CLI call printed, parsed.
pub struct CliResult {
    pub success: bool,
    pub json: Value,
    pub stderr: String,
}

impl From<Output> for CliResult {
    fn from(output: Output) -> Self {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let json = serde_json::from_str(&stdout).unwrap_or_else(|_| json!({ "unparsed": stdout }));
        CliResult {
            success: output.status.success(),
            json,
            stderr: String::from_utf8_lossy(&output.stderr).into(),
        }
    }
}

impl CliResult {
    /// Asserts success and returns the JSON.
    pub fn ok(self) -> Value {
        assert!(
            self.success,
            "command failed: {} {}",
            self.json, self.stderr
        );
        self.json
    }

    /// Asserts failure and returns the error's stable reason.
    pub fn refused(self) -> String {
        assert!(
            !self.success,
            "command should have been refused: {}",
            self.json
        );
        self.json["error"]["reason"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// POSTs `body` as it is to the JSON-RPC server at `addr` (a minimal HTTP/1.1
/// client); returns the HTTP status and body. Only for tests of the protocol
/// itself: bytes no JSON library would produce, bodies over the size limit,
/// parameters of the wrong type. Everything else goes through [`Node::client`].
pub fn post_raw_jsonrpc(addr: &str, body: &str) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    // The server may answer (413) before reading a large body; a write error then
    // is expected and the response is still there to read.
    let _ = stream.write_all(body.as_bytes());
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("no HTTP status in {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// An id as the CLI prints it (64 hex), parsed for the client.
pub fn id(text: &str) -> Hash32 {
    Hash32::from_hex(text).unwrap_or_else(|e| panic!("{text:?} is not an id: {e}"))
}

/// The node's stable `reason` for refusing a call ("" if it did not refuse).
pub fn reason(error: &tamga_client::Error) -> &str {
    error.reason().unwrap_or("")
}

/// The libp2p peer id a home's node uses (derived from its validator key).
pub fn peer_id_of(home: &Path) -> String {
    let output = Command::new(tamga_bin())
        .args(["keys", "peer-id", "--output", "json"])
        .env("TAMGA_HOME", home)
        .output()
        .expect("tamga keys peer-id");
    let value: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    value["peer_id"].as_str().unwrap_or_default().to_owned()
}

/// Reads a key file (`{name, public_key, secret_key}`) as any client would.
pub fn read_key(path: &Path) -> SigningKey {
    let file: Value =
        serde_json::from_slice(&std::fs::read(path).expect("key file")).expect("key JSON");
    let mut seed = [0u8; 32];
    hex::decode_to_slice(file["secret_key"].as_str().expect("secret_key"), &mut seed).expect("hex");
    SigningKey::from_bytes(&seed)
}

/// Kills and reaps a child process when dropped, even if the test panics first.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A registrar's signed registration of a tangible object for `owner`, on `tamga-dev`.
pub fn registration(
    registrar: &SigningKey,
    owner: SubjectId,
    nonce: u64,
    description: String,
) -> SignedTx {
    let payload = tamga_runtime::types::Payload::Register {
        category: tamga_runtime::types::ObjectCategory::Tangible,
        description,
        owner,
        national: false,
        quantity: None,
    };
    Transaction {
        chain_id: "tamga-dev".into(),
        signer: PublicKey::of(registrar),
        nonce,
        payload,
    }
    .sign(registrar)
}

/// A built example contract: `$CARGO_TARGET_DIR/contracts/NAME.wasm`, written by
/// `scripts/build-contracts.sh` (which `scripts/test.sh` runs first).
pub fn contract_wasm(name: &str) -> PathBuf {
    let target = tamga_bin()
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_owned();
    let path = target.join("contracts").join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} missing: run scripts/build-contracts.sh",
        path.display()
    );
    path
}

/// An example contract's terms for people.
pub fn contract_terms(name: &str) -> PathBuf {
    repo_root()
        .join("contracts/examples")
        .join(name)
        .join("terms.md")
}

/// The checkout whose tests are running. Cargo sets `CARGO_MANIFEST_DIR`
/// when it runs a test, to this checkout's `tests/`; the value compiled in
/// names the checkout the binary was built from, and a target directory
/// shared between checkouts (`.ci/run`'s default) keeps a binary built in
/// another one when no source file is newer than it, so files read through
/// it would be that checkout's (it is the fallback when a test binary is run
/// by hand).
pub fn repo_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .expect("tests/ is inside the repository")
        .to_owned()
}

/// Every file under `dir` whose bytes contain `needle` (a clear identifier that
/// must not be there, say).
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = vec![];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    found
}

/// The first word after `name:` in `/proc/<pid>/status` (`pid` may be `self`).
pub fn proc_status_field(pid: &str, name: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.split(':').next() == Some(name))?;
    Some(line.split_whitespace().nth(1)?.to_owned())
}

/// The filter for a node whose log goes to a file: the quiet filter with this
/// node's own lines at info, and `TAMGA_TEST_LOG`'s directives after it when set
/// (to replay a failure with, say, `arc_malachitebft_core_consensus=debug`).
fn logged_filter(quiet: &str) -> String {
    let filter = format!("{quiet},tamga_node=info,arc_malachitebft_engine_byzantine=warn");
    match std::env::var("TAMGA_TEST_LOG") {
        Ok(more) if !more.is_empty() => format!("{filter},{more}"),
        _ => filter,
    }
}

/// Opens a node's log file for appending: a node restarted by a test adds to the
/// log of its earlier run instead of erasing it.
fn append(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .context("log file")
}
