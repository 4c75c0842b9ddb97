//! Joining a chain from a state snapshot instead of replaying every block since
//! genesis (`[state_sync] rpc`): a registry with years of history adds a node in
//! the time it takes to copy its state. The node trusts only its genesis file:
//!
//! 1. it asks the serving node for its newest snapshot and checks the anchor
//!    (the snapshot's block header and commit certificate, every validator-set
//!    change since genesis, each signed by more than 2/3 of the set in force,
//!    and the genesis hash and validator schedule proven in its state) exactly
//!    as an offline verifier checks a certificate (`tamga_verify::verify_anchor`);
//! 2. it takes the block itself, whose header must be the anchor's;
//! 3. it pages the state in key order, each key above the one before, up to
//!    [`STATE_BYTES_MAX`] and within [`JOIN_TIME_MAX`], writing each page;
//! 4. it builds the state tree and makes the chain its own only if the root is
//!    the anchor's ([`Storage::restore_finish`]); a serving node that lied is
//!    refused and what was written of its state removed.
//!
//! Then it follows the chain from the next height as any node does. It holds no
//! blocks before the snapshot, nor transaction locations or provenance up to
//! and including it, and says so when asked.

use crate::storage::{Anchored, RestoreError, Storage, StorageError, Tip};
use std::time::{Duration, Instant};
use tamga_client::Client;
use tamga_runtime::types::{encoding, Block, Bytes};
use tamga_runtime::Genesis;
use tamga_verify::StateAnchor;

/// The most state a joiner takes in, in bytes: keys and values, and
/// [`PAIR_OVERHEAD_BYTES`] per pair. The pages are written as they come, but
/// the values are held to build the tree at the end, so a serving node cannot
/// make a joiner hold much more than this, with large values or with many
/// small ones (the tree's batch holds the values once more, and RocksDB a
/// batch of them at a time as it writes). A state above it cannot join this
/// way: such a node replays from genesis.
pub const STATE_BYTES_MAX: u64 = 8 << 30;

/// What one pair costs a joiner beyond its bytes while the tree is built: its
/// key hash, and jmt's leaf, share of internal nodes, maps and bookkeeping for
/// it (about 0.9-1.1 KiB, counted from its types' sizes).
const PAIR_OVERHEAD_BYTES: u64 = 1024;

/// How long a join may take, all attempts together: a serving node that drips
/// pages is cut off (an honest one pages a million records in seconds). It is
/// checked between requests; the final tree build runs to its end.
pub const JOIN_TIME_MAX: Duration = Duration::from_secs(3600);

/// How many times a joiner starts over when the serving node no longer serves
/// the snapshot it was paging (it keeps two, so once is the usual worst case),
/// or serves none yet, waiting [`ATTEMPT_PAUSE`] before each.
const ATTEMPTS_MAX: usize = 5;
const ATTEMPT_PAUSE: Duration = Duration::from_secs(2);

/// How many times one page is asked for again after a transient failure (the
/// serving node busy, a connection dropped), waiting a little longer each time.
const PAGE_TRIES_MAX: u32 = 8;
const PAGE_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Why a node could not join from a snapshot. What was written of its state
/// stays marked as restoring: the node starts no chain on it, and the next
/// restore clears it first.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("calling the serving node: {0}")]
    Rpc(#[from] tamga_client::Error),
    #[error("the snapshot's {what} does not decode: {reason}")]
    Decode { what: &'static str, reason: String },
    #[error("the snapshot's block at height {height} does not verify from this node's genesis: {reason}")]
    Unverified {
        height: u64,
        reason: tamga_verify::VerifyError,
    },
    #[error("the serving node broke the snapshot protocol: {0}")]
    Protocol(String),
    #[error("the snapshot's state passes {STATE_BYTES_MAX} bytes (counting {PAIR_OVERHEAD_BYTES} per pair), the most a joiner takes in")]
    TooLarge,
    #[error("the restore took longer than {JOIN_TIME_MAX:?}")]
    TooSlow,
    #[error(transparent)]
    Restore(#[from] RestoreError),
}

impl From<StorageError> for JoinError {
    fn from(e: StorageError) -> Self {
        JoinError::Restore(e.into())
    }
}

/// What a restore did, for the node's start-up lines.
pub struct Joined {
    pub tip: Tip,
    pub pairs: usize,
    pub bytes: usize,
    pub elapsed: Duration,
}

impl Joined {
    /// One line before the node's usual start-up lines (one JSON object with
    /// `--output json`).
    pub fn announce(&self, url: &str, json: bool) {
        let (height, secs) = (self.tip.height, self.elapsed.as_secs_f64());
        if json {
            let event = serde_json::json!({
                "event": "state_sync", "from": url, "height": height,
                "pairs": self.pairs, "bytes": self.bytes, "seconds": secs,
            });
            println!("{event}");
        } else {
            let mib = self.bytes as f64 / (1 << 20) as f64;
            println!(
                "Synced: state at height {height} from {url}: {} pairs, {mib:.1} MiB, in {secs:.1} s",
                self.pairs
            );
        }
    }
}

/// Restores the newest snapshot the node at `url` serves into `storage` (which
/// must hold no chain), checked against `genesis`.
pub async fn join(storage: &Storage, genesis: &Genesis, url: &str) -> anyhow::Result<Joined> {
    use anyhow::Context;
    let client = Client::new(url).with_context(|| format!("state sync from {url}"))?;
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + JOIN_TIME_MAX;
    let mut attempt = 1;
    loop {
        let once = join_once(storage, genesis, &client, started);
        let result = match tokio::time::timeout_at(deadline, once).await {
            Ok(result) => result,
            Err(_) => Err(JoinError::TooSlow),
        };
        match result {
            Err(JoinError::Rpc(e))
                if attempt < ATTEMPTS_MAX && e.reason() == Some("not_found.snapshot") =>
            {
                tracing::warn!(attempt, "state sync: {e}; starting again");
                attempt += 1;
                tokio::time::sleep(ATTEMPT_PAUSE).await;
            }
            result => return result.with_context(|| format!("state sync from {url}")),
        }
    }
}

async fn join_once(
    storage: &Storage,
    genesis: &Genesis,
    client: &Client,
    started: Instant,
) -> Result<Joined, JoinError> {
    let info = client.snapshot_info().await?;
    let anchor: StateAnchor =
        encoding::decode_serde(&info.anchor.0).map_err(|e| JoinError::Decode {
            what: "anchor",
            reason: e.to_string(),
        })?;
    let height = anchor.header.height;
    if height != info.height {
        return Err(JoinError::Protocol(format!(
            "it says height {} but its anchor is at height {height}",
            info.height
        )));
    }
    tamga_verify::verify_anchor(&anchor, genesis)
        .map_err(|reason| JoinError::Unverified { height, reason })?;
    let block = anchored_block(client, &anchor).await?;
    let anchored = Anchored {
        genesis_hash: genesis.hash(),
        block: &block,
        commit: &anchor.commit,
        set_changes: &anchor.set_changes,
    };
    anchored.check()?;
    tracing::info!(height, "state sync: anchor verified; fetching the state");
    tokio::task::block_in_place(|| storage.restore_begin())?;
    let (leaves, pairs, bytes) = fetch_state(storage, client, height).await?;
    let tip = tokio::task::block_in_place(|| storage.restore_finish(&anchored, leaves))?;
    Ok(Joined {
        tip,
        pairs,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// The snapshot's block, whose header must be the one the anchor verified and
/// whose transactions must be the ones that header commits to.
async fn anchored_block(client: &Client, anchor: &StateAnchor) -> Result<Block, JoinError> {
    let height = anchor.header.height;
    let raw = client.block_get_raw(height).await?;
    let block: Block = encoding::decode(&raw.block.0).map_err(|e| JoinError::Decode {
        what: "block",
        reason: e.to_string(),
    })?;
    if block.header != anchor.header {
        return Err(JoinError::Protocol(format!(
            "the block it serves at height {height} is not the anchor's"
        )));
    }
    if tamga_runtime::types::txs_hash(&block.txs) != block.header.txs_hash {
        return Err(JoinError::Protocol(format!(
            "the block it serves at height {height} carries other transactions than its header commits to"
        )));
    }
    Ok(block)
}

type Leaves = Vec<(jmt::KeyHash, jmt::OwnedValue)>;

/// Every page of the snapshot's state, each checked ([`Paging::take`]) and
/// written as it comes; the leaves for the tree, the pairs and their bytes.
async fn fetch_state(
    storage: &Storage,
    client: &Client,
    height: u64,
) -> Result<(Leaves, usize, usize), JoinError> {
    let mut paging = Paging::default();
    loop {
        let chunk = fetch_page(client, height, paging.after.clone()).await?;
        if chunk.height != height {
            return Err(JoinError::Protocol(format!(
                "asked for the snapshot at {height}, given a page of {}",
                chunk.height
            )));
        }
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            chunk.pairs.into_iter().map(|(k, v)| (k.0, v.0)).collect();
        let more = paging.take(&pairs, chunk.next.map(|n| n.0))?;
        tokio::task::block_in_place(|| storage.restore_page(&pairs))?;
        paging.leaves.extend(
            (pairs.into_iter()).map(|(key, value)| (tamga_verify::tree::key_hash(&key), value)),
        );
        if !more {
            return Ok((paging.leaves, paging.pairs, paging.bytes as usize));
        }
    }
}

/// One page, asked again after a transient failure ([`PAGE_TRIES_MAX`]).
async fn fetch_page(
    client: &Client,
    height: u64,
    after: Option<Vec<u8>>,
) -> Result<tamga_client::StateChunk, JoinError> {
    let mut tries = 1;
    loop {
        match client
            .snapshot_chunk(height, after.clone().map(Bytes))
            .await
        {
            Err(e) if tries < PAGE_TRIES_MAX && transient(&e) => {
                tracing::debug!(tries, "state sync: page not served ({e}); asking again");
                tokio::time::sleep(PAGE_RETRY_PAUSE * tries).await;
                tries += 1;
            }
            result => return Ok(result?),
        }
    }
}

/// A failure that asking again may cure: no answer, or the node busy.
fn transient(e: &tamga_client::Error) -> bool {
    matches!(e, tamga_client::Error::Transport { .. }) || e.reason() == Some("node.busy")
}

/// A joiner's account of the pages so far: a serving node cannot loop it,
/// hand it a key twice or out of order, or make it take more than
/// [`STATE_BYTES_MAX`].
struct Paging {
    /// [`STATE_BYTES_MAX`], but in tests.
    limit: u64,
    after: Option<Vec<u8>>,
    leaves: Leaves,
    pairs: usize,
    /// Keys and values, and [`PAIR_OVERHEAD_BYTES`] per pair.
    counted: u64,
    /// Keys and values.
    bytes: u64,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            limit: STATE_BYTES_MAX,
            after: None,
            leaves: Vec::new(),
            pairs: 0,
            counted: 0,
            bytes: 0,
        }
    }
}

impl Paging {
    /// Checks one page: each key above the one before, within the bound, and
    /// a page that says more follows holds pairs and resumes after its last
    /// key. Whether more follows.
    fn take(
        &mut self,
        pairs: &[(Vec<u8>, Vec<u8>)],
        next: Option<Vec<u8>>,
    ) -> Result<bool, JoinError> {
        for (key, value) in pairs {
            if self.after.as_ref().is_some_and(|last| key <= last) {
                return Err(JoinError::Protocol(
                    "its keys are out of order (a key at or below the one before)".into(),
                ));
            }
            let bytes = (key.len() + value.len()) as u64;
            self.bytes += bytes;
            self.counted += bytes + PAIR_OVERHEAD_BYTES;
            if self.counted > self.limit {
                return Err(JoinError::TooLarge);
            }
            self.after = Some(key.clone());
            self.pairs += 1;
        }
        match next {
            None if self.pairs == 0 => Err(JoinError::Protocol("its state is empty".into())),
            None => Ok(false),
            Some(_) if pairs.is_empty() => Err(JoinError::Protocol(
                "a page says more follows but holds nothing".into(),
            )),
            Some(next) if Some(&next) == self.after.as_ref() => Ok(true),
            Some(_) => Err(JoinError::Protocol(
                "a page does not resume after its own last key".into(),
            )),
        }
    }
}

#[cfg(test)]
#[path = "state_sync_tests.rs"]
mod tests;
