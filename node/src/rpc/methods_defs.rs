//! The definitions of the methods in `methods`: what `rpc.discover` says each
//! takes, gives and may refuse with. `methods::register` pairs each with its
//! handler, in one `add` call, so the two are registered together.

use super::methods::{PAGE_MAX, SUBMIT_BATCH_MAX};
use super::spec::{schema, MethodDef};
use serde_json::json;

pub(super) fn status_def() -> MethodDef {
    MethodDef::new("node_status", "Where this node is: chain, height, consensus, mempool, stage timings")
        .result(
            "status",
            schema::object(&["chain_id", "moniker", "height", "block_hash", "state_root", "time_ms", "mempool_txs", "mempool_held", "history_from", "signatures_reused", "consensus", "stages"]),
            "chain id, height, block hash, state root, mempool size; transactions whose signatures a proposed block's check spared checking again; consensus height, round, last signature, parts dropped; `stages`: per stage of a transaction's path `{us, txs}`",
        )
}

pub(super) fn storage_def() -> MethodDef {
    let mut usage = schema::object(&[
        "column_families",
        "wal_bytes",
        "compaction_pending",
        "block_cache",
        "state_cache",
        "tree_cache",
        "warm_up",
    ]);
    let mut warm_up = schema::object(&[
        "state",
        "elapsed_ms",
        "state_values",
        "tree_nodes",
        "nodes_missing",
        "batches_raced",
        "complete",
        "error",
    ]);
    warm_up["properties"]["state"] = json!({ "enum": ["off", "running", "done", "failed"] });
    for count in [
        "elapsed_ms",
        "state_values",
        "tree_nodes",
        "nodes_missing",
        "batches_raced",
    ] {
        warm_up["properties"][count] = schema::uint();
    }
    warm_up["properties"]["complete"] = json!({ "type": "boolean" });
    warm_up["properties"]["error"] = json!({ "type": ["string", "null"] });
    usage["properties"]["warm_up"] = warm_up;
    MethodDef::new("node_storage", "What RocksDB holds per column family, and the caches' use")
        .result(
            "usage",
            usage,
            "per column family `{sst_bytes, memtable_bytes}`, the write-ahead log's bytes, whether compaction is queued, the block cache's `{capacity_bytes, usage_bytes, pinned_bytes}`, the node's state-value and tree-node caches' `{capacity_bytes, usage_bytes, entries}`, and the caches' warm-up at start `{state (off, running, done, failed), elapsed_ms, state_values, tree_nodes, nodes_missing, batches_raced, complete, error}` (`error` null unless it failed)",
        )
        .storage()
}

pub(super) fn submit_def() -> MethodDef {
    MethodDef::new("tx_submit", "Admits a signed transaction to the mempool")
        .param(
            "tx_hex",
            schema::hex(),
            "the signed transaction, canonical bytes as hex",
        )
        .result(
            "admitted",
            schema::object(&["hash"]),
            "the transaction's hash, once admitted",
        )
        .admits()
}

pub(super) fn submit_batch_def() -> MethodDef {
    MethodDef::new(
        "tx_submitBatch",
        "Admits signed transactions, each on its own",
    )
    .param(
        "txs",
        schema::array_max(schema::hex(), SUBMIT_BATCH_MAX),
        "signed transactions as hex",
    )
    .result(
        "results",
        schema::array(json!({ "type": "object" })),
        "per transaction, in order, `{hash}` or `{error: {code, message, data}}`",
    )
}

pub(super) fn tx_def() -> MethodDef {
    MethodDef::new("tx_get", "A transaction's status: committed, pending, dropped or rejected")
        .param("hash", schema::hash(), "the transaction's hash")
        .result(
            "transaction",
            schema::object(&["hash", "status"]),
            "`status` `committed` (with height, index, events), `pending`, `dropped` or `rejected` (with `error.reason`)",
        )
        .not_found("not_found.transaction")
        .not_found("not_found.before_history")
        .storage()
}

pub(super) fn block_def() -> MethodDef {
    MethodDef::new(
        "block_get",
        "A block with its transactions, commit certificate and evidence",
    )
    .optional(
        "height",
        schema::uint(),
        "the block's height (default: the latest)",
    )
    .result(
        "block",
        schema::object(&["hash", "header", "txs", "commit", "evidence"]),
        "header, hash, transactions, commit certificate, evidence seen at that height",
    )
    .not_found("not_found.block")
    .not_found("not_found.before_history")
    .storage()
}

pub(super) fn raw_def() -> MethodDef {
    MethodDef::new(
        "block_getRaw",
        "A block and its commit certificate in canonical bytes",
    )
    .param("height", schema::uint(), "the block's height")
    .result(
        "block",
        schema::object(&["height", "hash", "block", "commit"]),
        "the block and its commit certificate, each as hex of its canonical encoding",
    )
    .not_found("not_found.block")
    .not_found("not_found.before_history")
    .storage()
}

pub(super) fn evidence_def() -> MethodDef {
    MethodDef::new(
        "evidence_list",
        "Equivocation evidence this node saw, by height",
    )
    .optional("from", schema::uint(), "the first height (default 1)")
    .optional("to", schema::uint(), "the last height (default: no bound)")
    .optional(
        "limit",
        schema::limit(PAGE_MAX),
        "at most this many (default 100)",
    )
    .result(
        "evidence",
        schema::object(&["evidence"]),
        "`evidence`: what this node saw (node-local)",
    )
    .storage()
}

pub(super) fn record_def() -> MethodDef {
    MethodDef::new("record_get", "A title-certification record")
        .param("record_id", schema::hash(), "the record's id")
        .result(
            "record",
            schema::object(&[
                "id",
                "category",
                "description",
                "owner",
                "asset",
                "encumbrances",
                "status",
                "registered_height",
                "provenance",
            ]),
            "the record: owner, asset, encumbrances, status (arrest), provenance digest",
        )
        .not_found("not_found.record")
        .storage()
}

pub(super) fn history_def() -> MethodDef {
    MethodDef::new("record_history", "A record's provenance, oldest first")
        .param("record_id", schema::hash(), "the record's id")
        .optional("skip", schema::uint(), "entries to skip (default 0)")
        .optional(
            "limit",
            schema::limit(PAGE_MAX),
            "at most this many (default 100)",
        )
        .result(
            "history",
            schema::object(&["record", "entries"]),
            "the record's id and its provenance entries",
        )
        .not_found("not_found.record")
        .not_found("not_found.before_history")
        .storage()
}

pub(super) fn by_owner_def() -> MethodDef {
    MethodDef::new("record_byOwner", "The records a subject owns, in id order")
        .param(
            "owner",
            schema::hash(),
            "a subject id, or a certified public key (for the subject it speaks for)",
        )
        .optional("after", schema::hash(), "the cursor: records after this id")
        .optional(
            "limit",
            schema::limit(PAGE_MAX),
            "at most this many (default 100)",
        )
        .result(
            "records",
            schema::object(&["owner", "records", "next"]),
            "the owner, its records, and `next`: the cursor of the next page, or null",
        )
        .storage()
}

pub(super) fn account_def() -> MethodDef {
    MethodDef::new(
        "account_get",
        "A key's next nonce, counting its pending transactions",
    )
    .param(
        "public_key",
        schema::hash(),
        "the signer's ed25519 public key",
    )
    .result(
        "account",
        schema::object(&["public_key", "next_nonce"]),
        "the key and its next nonce",
    )
    .storage()
}

pub(super) fn validators_def() -> MethodDef {
    MethodDef::new("validators_get", "The validator set for the next height")
        .result(
            "validators",
            schema::object(&["height", "total_power", "validators", "scheduled"]),
            "the set, its total power, and a scheduled change (or null)",
        )
        .storage()
}
