//! JSON-RPC queries per second, wrk-style: `C` threads, each with one keep-alive
//! HTTP/1.1 connection, send pre-built POST requests back to back for a fixed time
//! and read each response by its `Content-Length`. The same cheap client measures
//! the node and a bare jsonrpsee server (in this process) that answers
//! `record_get` with a fixed copy of a real result, so their ratio is the node's
//! own cost per query beside the RPC framework's.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What one load run counted.
pub struct Load {
    /// Answers with HTTP 200 and a JSON-RPC result, per second.
    pub qps: f64,
    /// Answers that were an HTTP or JSON-RPC error.
    pub errors: u64,
}

/// A full HTTP/1.1 keep-alive POST of `body` to `addr`.
pub fn request(addr: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A JSON-RPC 2.0 call's body.
pub fn call(method: &str, params: serde_json::Value) -> String {
    serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string()
}

/// One keep-alive connection reading responses by `Content-Length`.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connects");
        stream.set_nodelay(true).expect("nodelay");
        let timeout = Some(Duration::from_secs(30));
        stream.set_read_timeout(timeout).expect("read timeout");
        Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends `request`, reads one response; returns whether it was a success
    /// (HTTP 200 with a JSON-RPC `"result"`).
    fn exchange(&mut self, request: &[u8]) -> bool {
        self.stream.write_all(request).expect("request written");
        let (head_end, length, status_ok) = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or_else(|| panic!("no Content-Length in {head}"));
                break (end + 4, length, head.starts_with("http/1.1 200"));
            }
            self.fill();
        };
        while self.buf.len() < head_end + length {
            self.fill();
        }
        let body = &self.buf[head_end..head_end + length];
        // jsonrpsee writes `{"jsonrpc":"2.0","id":1,"result":…` or `…"error":…`.
        let ok = status_ok && find(&body[..body.len().min(64)], b"\"result\"").is_some();
        self.buf.drain(..head_end + length);
        ok
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("response read");
        assert!(n > 0, "server closed a keep-alive connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `connections` threads send `requests` (each thread from its own offset,
/// cycling) to `addr` for `duration`; counts answers.
pub fn load(addr: &str, requests: &[Vec<u8>], connections: usize, duration: Duration) -> Load {
    assert!(!requests.is_empty(), "requests to send");
    let started = Instant::now();
    let deadline = started + duration;
    let counts: Vec<(u64, u64)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..connections)
            .map(|c| {
                s.spawn(move || {
                    let mut conn = Conn::open(addr);
                    let (mut ok, mut failed) = (0u64, 0u64);
                    let mut i = c * requests.len() / connections;
                    while Instant::now() < deadline {
                        if conn.exchange(&requests[i % requests.len()]) {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                        i += 1;
                    }
                    (ok, failed)
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("load thread"))
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let ok: u64 = counts.iter().map(|c| c.0).sum();
    Load {
        qps: ok as f64 / secs,
        errors: counts.iter().map(|c| c.1).sum(),
    }
}

/// A bare jsonrpsee server on loopback whose one method, `record_get`, answers
/// `result` whatever the parameters. Runs until the runtime is dropped.
pub struct BareServer {
    pub addr: SocketAddr,
    _handle: jsonrpsee::server::ServerHandle,
    _runtime: tokio::runtime::Runtime,
}

impl BareServer {
    pub fn start(result: serde_json::Value, worker_threads: usize) -> BareServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let (addr, handle) = runtime.block_on(async move {
            let server = jsonrpsee::server::Server::builder()
                .build("127.0.0.1:0")
                .await
                .expect("bare server binds");
            let addr = server.local_addr().expect("bound address");
            let mut module = jsonrpsee::RpcModule::new(());
            module
                .register_method("record_get", move |_, _, _| {
                    Ok::<_, jsonrpsee::types::ErrorObjectOwned>(result.clone())
                })
                .expect("method registers");
            (addr, server.start(module))
        });
        BareServer {
            addr,
            _handle: handle,
            _runtime: runtime,
        }
    }
}
