//! A userspace TCP proxy for fault tests on loopback, with no privileges: each
//! [`Link`] forwards one direction of a node-to-node connection and can be cut
//! (every connection through it closed, new ones refused), delayed (each chunk
//! held `delay ± jitter`, in order) or made lossy. TCP never loses bytes, so
//! packet loss is modelled as what TCP makes of it: a lost segment holds back
//! everything behind it for a retransmission timeout.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a "lost" chunk holds back the stream (a typical TCP RTO floor).
const RETRANSMIT_MS: u64 = 200;

#[derive(Default)]
struct Shape {
    cut: AtomicBool,
    delay_ms: AtomicU64,
    jitter_ms: AtomicU64,
    loss_per_mille: AtomicU64,
    /// Every socket open through the link, to close them when it is cut.
    open: Mutex<Vec<TcpStream>>,
}

/// One proxied direction: `127.0.0.1:port` forwards to `target`.
#[derive(Clone)]
pub struct Link {
    pub port: u16,
    shape: Arc<Shape>,
}

impl Link {
    /// Starts forwarding from a free port to `target`; runs until the process ends.
    pub fn start(target: u16) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("bound").port();
        let shape = Arc::new(Shape::default());
        let accepting = shape.clone();
        std::thread::spawn(move || {
            for inbound in listener.incoming().flatten() {
                if accepting.cut.load(Ordering::SeqCst) {
                    let _ = inbound.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                connect(&accepting, inbound, outbound);
            }
        });
        Link { port, shape }
    }

    /// Cuts the link: open connections close, new ones are refused.
    pub fn cut(&self) {
        self.shape.cut.store(true, Ordering::SeqCst);
        for socket in self.shape.open.lock().unwrap().drain(..) {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    pub fn heal(&self) {
        self.shape.cut.store(false, Ordering::SeqCst);
    }

    /// Each chunk waits `delay_ms ± jitter_ms`; `loss_per_mille` of chunks are
    /// "lost" and hold the stream back for a retransmission.
    pub fn shape(&self, delay_ms: u64, jitter_ms: u64, loss_per_mille: u64) {
        self.shape.delay_ms.store(delay_ms, Ordering::SeqCst);
        self.shape.jitter_ms.store(jitter_ms, Ordering::SeqCst);
        self.shape
            .loss_per_mille
            .store(loss_per_mille, Ordering::SeqCst);
    }
}

fn connect(shape: &Arc<Shape>, inbound: TcpStream, outbound: TcpStream) {
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let clones = [inbound.try_clone(), outbound.try_clone()];
    let [Ok(inbound_w), Ok(outbound_r)] = clones else {
        return;
    };
    if let (Ok(a), Ok(b)) = (inbound.try_clone(), outbound.try_clone()) {
        let mut open = shape.open.lock().unwrap();
        // Sockets of connections that ended are dropped from the list.
        open.retain(|socket| socket.peer_addr().is_ok());
        open.extend([a, b]);
    }
    pump(shape.clone(), inbound, outbound);
    pump(shape.clone(), outbound_r, inbound_w);
}

/// Copies `from` to `to` through a delay line: a reader stamps each chunk with
/// its delivery time (never earlier than the previous chunk's), a writer sends
/// it then.
fn pump(shape: Arc<Shape>, mut from: TcpStream, mut to: TcpStream) {
    let (line, delivered) = mpsc::channel::<(Instant, Vec<u8>)>();
    let reader_shape = shape.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut last = Instant::now();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let mut seed = now.map(|d| d.as_nanos() as u64).unwrap_or(1) | 1;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if reader_shape.cut.load(Ordering::SeqCst) {
                break;
            }
            let at = (Instant::now() + hold(&reader_shape, &mut seed)).max(last);
            last = at;
            if line.send((at, buf[..n].to_vec())).is_err() {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
    });
    std::thread::spawn(move || {
        for (at, bytes) in delivered {
            let wait = at.saturating_duration_since(Instant::now());
            std::thread::sleep(wait);
            if shape.cut.load(Ordering::SeqCst) || to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// How long one chunk is held: delay ± jitter, plus a retransmission if lost.
fn hold(shape: &Shape, seed: &mut u64) -> Duration {
    let mut next = || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let delay = shape.delay_ms.load(Ordering::Relaxed);
    let jitter = shape.jitter_ms.load(Ordering::Relaxed);
    let loss = shape.loss_per_mille.load(Ordering::Relaxed);
    let mut ms = delay.saturating_sub(jitter)
        + if jitter > 0 {
            next() % (2 * jitter + 1)
        } else {
            0
        };
    if loss > 0 && next() % 1000 < loss {
        ms += RETRANSMIT_MS;
    }
    Duration::from_millis(ms)
}
