//! JSON-RPC queries per second: `C` connections, each a typed client
//! (`tamga-client`) with its own keep-alive connection, ask back to back for a
//! fixed time. The same client measures the node and a bare jsonrpsee server
//! (in this process) that answers `record_get` with a fixed copy of a real
//! result, which the client reads into the same `Record`, so their ratio is the
//! node's own cost per query beside the RPC framework's and the client's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tamga_client::Client;
use tamga_runtime::{Hash32, SubjectId};

/// What one load run counted.
pub struct Load {
    /// Answers that were a result, per second.
    pub qps: f64,
    /// Answers that were an error (transport or JSON-RPC).
    pub errors: u64,
    /// Queries sent past the sender's own share of the arguments, so with an
    /// argument another connection also asked, or this one asked before.
    pub reused: u64,
}

/// What each query asks. Of `n` arguments and `C` connections, connection `c`
/// asks arguments `c·n/C`, `c·n/C + 1`, ... (cycling); past `n/C` of them it asks
/// what another connection has (counted in [`Load::reused`]).
#[derive(Clone)]
pub enum Query {
    /// `record_get` of each id.
    RecordGet(Arc<Vec<Hash32>>),
    /// `record_byOwner` of `owner`, a 100-record page after each cursor.
    ByOwner {
        owner: SubjectId,
        cursors: Arc<Vec<Hash32>>,
    },
    /// `record_history` of each id.
    History(Arc<Vec<Hash32>>),
}

impl Query {
    fn len(&self) -> usize {
        match self {
            Query::RecordGet(ids) | Query::History(ids) => ids.len(),
            Query::ByOwner { cursors, .. } => cursors.len(),
        }
    }

    async fn ask(&self, client: &Client, i: usize) -> Result<(), tamga_client::Error> {
        match self {
            Query::RecordGet(ids) => client.record_get(ids[i % ids.len()]).await.map(drop),
            Query::ByOwner { owner, cursors } => {
                let after = Some(cursors[i % cursors.len()]);
                let page = client.record_by_owner(*owner, after, Some(100));
                page.await.map(drop)
            }
            Query::History(ids) => {
                let history = client.record_history(ids[i % ids.len()], None, None);
                history.await.map(drop)
            }
        }
    }
}

/// `connections` clients ask `query` of the server at `url` for `duration`,
/// on `threads` runtime threads; counts answers, and queries that reused an
/// argument.
pub fn load(
    url: &str,
    query: &Query,
    connections: usize,
    threads: usize,
    duration: Duration,
) -> Load {
    assert!(query.len() > 0, "queries to send");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let deadline = started + duration;
    let share = (query.len() / connections) as u64;
    let counts: Vec<(u64, u64)> = runtime.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                let client = Client::new(url).expect("client");
                let query = query.clone();
                tokio::spawn(async move {
                    let (mut ok, mut failed) = (0u64, 0u64);
                    let mut i = c * query.len() / connections;
                    while Instant::now() < deadline {
                        match query.ask(&client, i).await {
                            Ok(()) => ok += 1,
                            Err(_) => failed += 1,
                        }
                        i += 1;
                    }
                    (ok, failed)
                })
            })
            .collect();
        let mut counts = Vec::with_capacity(tasks.len());
        for task in tasks {
            counts.push(task.await.expect("load task"));
        }
        counts
    });
    let secs = started.elapsed().as_secs_f64();
    let ok: u64 = counts.iter().map(|c| c.0).sum();
    let sent = |c: &(u64, u64)| c.0 + c.1;
    Load {
        qps: ok as f64 / secs,
        errors: counts.iter().map(|c| c.1).sum(),
        reused: counts.iter().map(|c| sent(c).saturating_sub(share)).sum(),
    }
}

/// Queries per second on two servers measured in alternating windows (first,
/// second, first, ...), one window of each per entry of `windows`, which is the
/// query both are asked in it: on a shared machine the rate of either drifts by
/// tens of percent within a minute, and alternating exposes both to the same
/// drift. Returns each server's loads in window order.
pub fn alternating(
    urls: [&str; 2],
    windows: &[Query],
    connections: usize,
    threads: usize,
    window: Duration,
) -> [Vec<Load>; 2] {
    let mut loads: [Vec<Load>; 2] = Default::default();
    for query in windows {
        for (url, loads) in urls.iter().zip(loads.iter_mut()) {
            loads.push(load(url, query, connections, threads, window));
        }
    }
    loads
}

/// The median rate of `loads` (the mean of the middle two for an even count).
pub fn median(loads: &[Load]) -> f64 {
    assert!(!loads.is_empty(), "a median of no loads");
    let mut sorted: Vec<f64> = loads.iter().map(|l| l.qps).collect();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() % 2 {
        1 => sorted[mid],
        _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
    }
}

/// A bare jsonrpsee server on loopback whose one method, `record_get`, answers
/// `result` whatever the parameters, serialized straight from its type as the
/// node's point reads are (no `serde_json::Value` between, which would make the
/// baseline slower than the node and the ratio flatter than it is). Runs until
/// the runtime is dropped.
pub struct BareServer {
    pub addr: SocketAddr,
    _handle: jsonrpsee::server::ServerHandle,
    _runtime: tokio::runtime::Runtime,
}

impl BareServer {
    pub fn start<T>(result: T, worker_threads: usize) -> BareServer
    where
        T: serde::Serialize + Clone + Send + Sync + 'static,
    {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn loads(rates: &[f64]) -> Vec<Load> {
        let load = |&qps| Load {
            qps,
            errors: 0,
            reused: 0,
        };
        rates.iter().map(load).collect()
    }

    #[test]
    fn the_median_is_the_middle_rate_whatever_the_order() {
        // Skewed, so that neither a mean nor an unsorted middle passes.
        assert_eq!(median(&loads(&[100.0, 10.0, 20.0])), 20.0);
        assert_eq!(median(&loads(&[5.0])), 5.0);
        assert_eq!(median(&loads(&[100.0, 1.0, 3.0, 2.0])), 2.5);
    }
}
