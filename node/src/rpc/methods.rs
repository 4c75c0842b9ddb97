//! The JSON-RPC methods. Parameters are positional arrays. Each method is
//! registered with its [`MethodDef`]: that definition (parameters, result, errors)
//! is what `rpc.discover` documents; this table is the overview.
//!
//! | method              | params                         | result                                   |
//! |---------------------|--------------------------------|------------------------------------------|
//! | `node_status`       | `[]`                           | chain id, height, hashes, mempool size, stage timings (below) |
//! | `node_storage`      | `[]`                           | RocksDB's bytes per column family, the WAL, pending compaction, the block cache, the node's caches (below) |
//! | `tx_submit`         | `[tx_hex]`                     | `{hash}` once admitted to the mempool    |
//! | `tx_submitBatch`    | `[[tx_hex, ...]]` (≤ 1000)     | per tx `{hash}` or `{error}`             |
//! | `tx_get`            | `[hash]`                       | status, height, index, events or error   |
//! | `block_get`         | `[height?]` (latest if absent) | header, hash, txs, commit certificate, evidence seen at that height |
//! | `block_getRaw`      | `[height]`                     | block and commit in canonical bytes (hex) |
//! | `evidence_list`     | `[from?, to?, limit?]`         | equivocation evidence seen at those heights |
//! | `record_get`        | `[record_id]`                  | the record                               |
//! | `record_history`    | `[record_id, skip?, limit?]`   | provenance entries, oldest first         |
//! | `record_byOwner`    | `[subject or public_key, after?, limit?]` | records the subject (or the subject a certified key speaks for) owns, in id order, and a cursor |
//! | `account_get`       | `[public_key]`                 | next nonce (counting pending txs)        |
//! | `validators_get`    | `[]`                           | set for the next height, scheduled change|
//! | `block_subscribe`   | `[]` (WebSocket)               | notification `block` per committed block |
//! | `condo_get`         | `[condo_id]`                   | a digital condominium (Art. 35): agreement, shares, governance, objects, open proposals |
//! | `condo_proposals`   | `[condo_id, after?, limit?]` (≤ 100) | its proposals after number `after`: action, voters, tally against threshold (none when a contract decides), status |
//! | `condo_offers`      | `[condo_id, after?, limit?]` (≤ 100) | its share offers after number `after`: windows, taker, status |
//! | `rpc.discover`      | `[]`                           | the OpenRPC document of every method (see `openrpc`) |
//!
//! `node_storage` is `{"column_families": {name: {"sst_bytes",
//! "memtable_bytes"}}, "wal_bytes", "compaction_pending"}`: per RocksDB column
//! family the live SST files on disk and the memtables in memory
//! (`rocksdb.size-all-mem-tables`, not disk), and the write-ahead log files'
//! total, whether compaction work is queued, and `"block_cache":
//! {"capacity_bytes", "usage_bytes", "pinned_bytes"}`, then the node's own caches
//! in front of RocksDB, `"state_cache"` and `"tree_cache"`: `{"capacity_bytes",
//! "usage_bytes", "entries"}` (see `storage::usage`), and `"warm_up"`, the
//! caches' warm-up at start: `{"state": "off" | "running" | "done" | "failed",
//! "elapsed_ms", "state_values", "tree_nodes", "nodes_missing",
//! "batches_raced", "complete", "error"}` (the counts once done, `error` null
//! unless it failed; see `storage::warm`).
//! `node_status`'s `stages` are the time per stage of a transaction's path (see `stages`).
//!
//! Contract, certificate, and document and ownership-certificate methods are listed
//! in their own modules (`contracts`, `pki`, `documents`); the condominium methods'
//! statuses are explained in `condo`.

use super::errors::*;
use super::methods_defs::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use crate::mempool::check::{check_parallel_parts, through_batch, Staged};
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::PendingSubscriptionSink;
use serde_json::{json, Value};
use std::sync::Arc;
use tamga_runtime::records::Record;
use tamga_runtime::state::keys;
use tamga_runtime::types::SignedTx;
use tamga_runtime::{Hash32, PublicKey, SubjectId, VerifiedTx};

/// Largest page any listing returns.
pub(super) const PAGE_MAX: usize = 1000;
/// Largest batch `tx_submitBatch` takes.
pub(super) const SUBMIT_BATCH_MAX: usize = 1000;

type RpcResult = Result<Value, ErrorObjectOwned>;

pub(super) fn register(m: &mut super::Methods, moniker: String) -> anyhow::Result<()> {
    m.add(status_def(), move |app, _| status(app, &moniker))?;
    m.add(storage_def(), |app, _| storage_usage(app))?;
    m.add(submit_def(), submit_one)?;
    m.add(submit_batch_def(), submit_batch)?;
    m.add(tx_def(), tx_get)?;
    m.add(block_def(), block_get)?;
    m.add(raw_def(), block_get_raw)?;
    m.add(evidence_def(), evidence_list)?;
    m.add_point_read(record_def(), record_get)?;
    m.add(history_def(), record_history)?;
    m.add(by_owner_def(), records_by_owner)?;
    m.add(account_def(), account_get)?;
    m.add(validators_def(), |app, _| validators_get(app))?;
    let app = m.app.clone();
    m.add_subscription(
        MethodDef::new("block_subscribe", "Over WebSocket: a `block` notification per committed block")
            .describe("Each committed block is sent as a `block` notification (height, hash, and what it committed); a subscriber too slow to keep up misses blocks rather than slowing the node.")
            .result("subscription", schema::subscription_id(), "the subscription's id"),
        "block",
        MethodDef::new("block_unsubscribe", "Ends a `block_subscribe` subscription")
            .param("subscription", schema::subscription_id(), "the id `block_subscribe` gave")
            .result("ended", json!({ "type": "boolean" }), "whether the subscription existed"),
        move |params, pending, _, ext| subscribe_blocks(params, pending, app.clone(), ext),
    )?;
    Ok(())
}

fn hash_param(text: &str, what: &str) -> Result<Hash32, ErrorObjectOwned> {
    Hash32::from_hex(text).map_err(|e| invalid_params(format!("{what}: {e}")))
}

fn key_param(text: &str) -> Result<PublicKey, ErrorObjectOwned> {
    PublicKey::from_hex(text).map_err(|e| invalid_params(format!("public key: {e}")))
}

/// A subject id, or a certified public key standing for its subject.
fn owner_param(app: &App, text: &str) -> Result<SubjectId, ErrorObjectOwned> {
    let id = SubjectId::from_hex(text).map_err(|e| invalid_params(format!("owner: {e}")))?;
    let subject: Option<tamga_runtime::pki::Subject> = app
        .storage
        .state_value(&keys::subject(&id), "subject")
        .map_err(node_error)?;
    if subject.is_some() {
        return Ok(id);
    }
    let cert = tamga_runtime::pki::certificate_of_key(&app.storage, &PublicKey(id.0))
        .map_err(|e| node_error(format!("{e:?}")))?;
    Ok(cert.map(|c| c.subject).unwrap_or(id))
}

fn limit_param(limit: Option<usize>) -> Result<usize, ErrorObjectOwned> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=PAGE_MAX).contains(&n) => Ok(n),
        Some(n) => Err(invalid_params(format!("limit {n} must be 1..={PAGE_MAX}"))),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("ledger types serialize to JSON")
}

fn status(app: &App, moniker: &str) -> RpcResult {
    let tip = app.tip();
    let (consensus_height, round) = app.round();
    let signed = app.signing.get().and_then(|s| s.last());
    let signed = signed
        .map(|(height, round, step)| json!({ "height": height, "round": round, "step": step }));
    let (mempool_txs, mempool_held) = {
        let mempool = app.mempool();
        (mempool.len(), mempool.parked())
    };
    Ok(json!({
        "consensus": {
            "height": consensus_height, "round": round, "last_signed": signed,
            "parts_dropped": app.parts_dropped.load(std::sync::atomic::Ordering::Relaxed),
            "parts_executed": app.parts_executed.load(std::sync::atomic::Ordering::Relaxed),
            "parts_refused": app.parts_refused.load(std::sync::atomic::Ordering::Relaxed),
        },
        "chain_id": app.chain_id,
        "moniker": moniker,
        "height": tip.height,
        "block_hash": tip.block_hash,
        "state_root": tip.state_root,
        "time_ms": tip.time_ms,
        "mempool_txs": mempool_txs,
        "mempool_held": mempool_held,
        "history_from": app.storage.history_from().map_err(node_error)?,
        "signatures_reused": app.recent_checks.reused(),
        "stages": app.stages.report(),
    }))
}

/// `node_storage`'s answer: what the database holds, and the caches' warm-up.
#[derive(serde::Serialize)]
struct StorageReport {
    #[serde(flatten)]
    usage: crate::storage::usage::StorageUsage,
    warm_up: crate::storage::WarmUpStatus,
}

/// What the database holds per column family (see `storage::usage`): a call
/// apart from `node_status`, which tools poll for the height.
fn storage_usage(app: &App) -> RpcResult {
    let usage = app.storage.usage().map_err(node_error)?;
    Ok(to_json(&StorageReport {
        usage,
        warm_up: app.warm_up(),
    }))
}

/// A transaction decoded and verified, or why not, as the RPC error.
pub(super) type Checked = Result<(VerifiedTx, Vec<u8>), ErrorObjectOwned>;

/// Decode and verify: the expensive part, done outside the mempool lock.
pub(super) fn check_hex(app: &App, tx_hex: &str) -> Checked {
    app.check_received(hex_bytes(tx_hex)?)
        .map_err(|e| admit_error(&e.into()))
}

/// [`check_hex`] of each, in order, their signatures checked in one batch.
fn check_hex_all(app: &App, part: &[String]) -> Vec<Checked> {
    let decoded = (part.iter())
        .map(|tx| match hex_bytes(tx) {
            Ok(bytes) => Staged::ToBatch(bytes),
            Err(error) => Staged::Decided(Err(error)),
        })
        .collect();
    through_batch(decoded, |all| {
        (app.check_received_all(all).into_iter())
            .map(|checked| checked.map_err(|e| admit_error(&e.into())))
            .collect()
    })
}

fn hex_bytes(tx_hex: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(tx_hex.strip_prefix("0x").unwrap_or(tx_hex))
        .map_err(|e| invalid_params(format!("transaction must be hex: {e}")))
}

/// Admits a checked transaction (in submission order: nonces follow each other)
/// and hands it to gossip.
pub(super) fn admit(app: &App, checked: Checked) -> Result<Hash32, ErrorObjectOwned> {
    let (vtx, bytes) = checked?;
    app.admit(vtx, bytes).map_err(|e| admit_error(&e))
}

fn submit_one(app: &App, params: Params) -> RpcResult {
    let (tx_hex,): (String,) = params.parse()?;
    let checked = (app.stages.verify).time(1, || check_hex(app, &tx_hex));
    Ok(json!({ "hash": admit(app, checked)? }))
}

fn submit_batch(app: &App, params: Params) -> RpcResult {
    let (txs,): (Vec<String>,) = params.parse()?;
    if txs.is_empty() || txs.len() > SUBMIT_BATCH_MAX {
        return Err(invalid_params(format!(
            "batch must hold 1..={SUBMIT_BATCH_MAX} transactions"
        )));
    }
    let results: Vec<Value> = check_parallel_parts(&txs, &app.stages.verify, |part| {
        check_hex_all(app, part)
    })
    .into_iter()
    .map(|checked| match admit(app, checked) {
        Ok(hash) => json!({ "hash": hash }),
        Err(e) => {
            json!({ "error": { "code": e.code(), "message": e.message(), "data": e.data() } })
        }
    })
    .collect();
    Ok(Value::Array(results))
}

fn committed_tx(app: &App, id: &Hash32) -> Result<Option<Value>, ErrorObjectOwned> {
    let location = app.storage.tx_location(id).map_err(node_error)?;
    Ok(location.map(|location| {
        json!({
            "hash": id, "status": "committed", "height": location.height,
            "index": location.index, "events": location.events,
        })
    }))
}

fn tx_get(app: &App, params: Params) -> RpcResult {
    let (hash,): (String,) = params.parse()?;
    let id = hash_param(&hash, "transaction hash")?;
    if let Some(committed) = committed_tx(app, &id)? {
        return Ok(committed);
    }
    let status = app.mempool().status(&id);
    match status {
        Some(crate::mempool::TxStatus::Pending) => Ok(json!({ "hash": id, "status": "pending" })),
        Some(crate::mempool::TxStatus::Dropped(why)) => Ok(json!({
            "hash": id, "status": "dropped",
            "error": { "reason": "mempool.dropped", "message": why },
        })),
        Some(crate::mempool::TxStatus::Rejected(e)) => Ok(json!({
            "hash": id, "status": "rejected",
            "error": { "reason": e.reason(), "message": e.to_string() },
        })),
        // A block commits to storage before the mempool forgets its transactions, so
        // one that left the mempool since the first look is in storage now.
        None => match committed_tx(app, &id)? {
            Some(committed) => Ok(committed),
            None => Err(tx_not_found(app, id)?),
        },
    }
}

/// A transaction this node does not know: on a node that joined from a
/// snapshot it may have committed below the snapshot.
fn tx_not_found(app: &App, id: Hash32) -> Result<ErrorObjectOwned, ErrorObjectOwned> {
    let history_from = app.storage.history_from().map_err(node_error)?;
    Ok(match history_from {
        0 => not_found("transaction", id),
        from => before_history(
            format!("transaction {id} is not pending here, nor committed above the snapshot"),
            from,
        ),
    })
}

fn signed_tx_json(tx: &SignedTx) -> Value {
    let mut value = to_json(tx);
    value["id"] = to_json(&tx.id());
    value
}

/// The validator set that governs the next height, and a scheduled change if any.
fn validators_get(app: &App) -> RpcResult {
    use tamga_runtime::validators::{set_for_height, total_power, ValidatorSchedule};
    let height = app.tip().height + 1;
    let validators = set_for_height(&app.storage, height).map_err(node_error)?;
    let key = tamga_runtime::state::keys::validators();
    let schedule: Option<ValidatorSchedule> = app
        .storage
        .state_value(&key, "validator set")
        .map_err(node_error)?;
    let scheduled = schedule
        .and_then(|s| s.next)
        .filter(|n| n.effective_height > height);
    Ok(json!({
        "height": height,
        "total_power": total_power(&validators),
        "validators": validators,
        "scheduled": scheduled,
    }))
}

fn block_get(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let height: Option<u64> = seq.optional_next()?;
    let height = height.unwrap_or_else(|| app.tip().height);
    check_history(app, "block", height)?;
    let block = app
        .storage
        .block(height)
        .map_err(node_error)?
        .ok_or_else(|| not_found("block", height))?;
    let commit = app.storage.commit(height).map_err(node_error)?;
    let evidence = app
        .storage
        .evidence(height, height, PAGE_MAX)
        .map_err(node_error)?;
    Ok(json!({
        "hash": block.header.hash(),
        "header": block.header,
        "txs": block.txs.iter().map(signed_tx_json).collect::<Vec<_>>(),
        "commit": commit,
        "evidence": evidence,
    }))
}

/// A block and its commit certificate exactly as stored: the bytes every node
/// must hold identically.
fn block_get_raw(app: &App, params: Params) -> RpcResult {
    use tamga_runtime::types::encoding::encode;
    let (height,): (u64,) = params.parse()?;
    check_history(app, "block", height)?;
    let block = app.storage.block(height).map_err(node_error)?;
    let commit = app.storage.commit(height).map_err(node_error)?;
    let (Some(block), Some(commit)) = (block, commit) else {
        return Err(not_found("block", height));
    };
    Ok(json!({
        "height": height,
        "hash": block.header.hash(),
        "block": hex::encode(encode(&block)),
        "commit": hex::encode(encode(&commit)),
    }))
}

/// Equivocation evidence this node saw, by the height at which it saw it
/// (node-local: each node reports what reached it).
fn evidence_list(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let from: Option<u64> = seq.optional_next()?;
    let to: Option<u64> = seq.optional_next()?;
    let limit = limit_param(seq.optional_next()?)?;
    let (from, to) = (from.unwrap_or(1), to.unwrap_or(u64::MAX));
    let evidence = app.storage.evidence(from, to, limit).map_err(node_error)?;
    Ok(json!({ "evidence": evidence }))
}

fn record_get(app: &App, params: Params) -> Result<Record, ErrorObjectOwned> {
    let (id,): (String,) = params.parse()?;
    let id = hash_param(&id, "record id")?;
    app.storage
        .record(&id)
        .map_err(node_error)?
        .ok_or_else(|| not_found("record", id))
}

fn record_history(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let id: String = seq.next()?;
    let skip: Option<usize> = seq.optional_next()?;
    let limit = limit_param(seq.optional_next()?)?;
    let id = hash_param(&id, "record id")?;
    let Some(record) = app.storage.record(&id).map_err(node_error)? else {
        return Err(not_found("record", id));
    };
    // The snapshot's own block's provenance entries are not kept either.
    let history_from = app.storage.history_from().map_err(node_error)?;
    if history_from > 0 && record.registered_height <= history_from {
        let what = format!(
            "the provenance of record {id}, registered at height {}",
            record.registered_height
        );
        return Err(before_history(what, history_from));
    }
    let entries = app
        .storage
        .history(&id, skip.unwrap_or(0), limit)
        .map_err(node_error)?;
    Ok(json!({ "record": id, "entries": entries }))
}

fn records_by_owner(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let owner = owner_param(app, &seq.next::<String>()?)?;
    let after: Option<String> = seq.optional_next()?;
    let limit = limit_param(seq.optional_next()?)?;
    let after = after.map(|a| hash_param(&a, "after")).transpose()?;
    let ids = app
        .storage
        .records_by_owner(&owner, after, limit)
        .map_err(node_error)?;
    let mut records = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(record) = app.storage.record(id).map_err(node_error)? {
            records.push(record);
        }
    }
    let next = if ids.len() == limit {
        ids.last().copied()
    } else {
        None
    };
    Ok(json!({ "owner": owner, "records": records, "next": next }))
}

fn account_get(app: &App, params: Params) -> RpcResult {
    let (key,): (String,) = params.parse()?;
    let key = key_param(&key)?;
    let nonce = app
        .mempool()
        .next_nonce(&app.storage, &key)
        .map_err(node_error)?;
    Ok(json!({ "public_key": key, "next_nonce": nonce }))
}

async fn subscribe_blocks(
    _: Params<'static>,
    pending: PendingSubscriptionSink,
    app: Arc<App>,
    _: jsonrpsee::Extensions,
) -> SubscriptionResult {
    let mut notices = app.subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            notice = notices.recv() => match notice {
                Ok(notice) => sink.send(serde_json::value::to_raw_value(&notice)?).await?,
                // A slow subscriber misses blocks rather than slowing the node.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = sink.closed() => return Ok(()),
        }
    }
}
