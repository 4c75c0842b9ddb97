//! JSON-RPC methods that serve state snapshots to joining nodes (see
//! `snapshots`; a node with `[state_sync] rpc` set calls them). Parameters are
//! positional.
//!
//! | method | params | result |
//! |---|---|---|
//! | `snapshot_info` | `[]` | the newest snapshot's height and its anchor: block header, commit certificate, every validator-set change from genesis, proven genesis hash and validator schedule (`tamga_verify::StateAnchor`, canonical encoding as hex) |
//! | `snapshot_chunk` | `[height, after?]` | up to 4,096 state pairs (2 MiB) after key `after`, in key order, as `[key_hex, value_hex]`; `next` resumes, `null` on the last page |
//!
//! A node serving no snapshot (none taken yet, or `snapshot_interval_heights = 0`)
//! answers `not_found.snapshot`; so does a chunk of a snapshot no longer kept.
//! Nothing served here is trusted by the joiner: it checks the anchor from its
//! genesis and the state against the anchor's root.

use super::errors::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use crate::snapshots::PAGES_AT_ONCE_MAX;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value};
use tamga_runtime::types::Bytes;

type RpcResult = Result<Value, ErrorObjectOwned>;

pub(super) fn register(m: &mut super::Methods) -> anyhow::Result<()> {
    let info_def = MethodDef::new(
        "snapshot_info",
        "The newest state snapshot this node serves, with what proves it from genesis",
    )
    .result(
        "snapshot",
        schema::object(&["height", "anchor"]),
        "`height`, and `anchor`: the snapshot's block header, commit certificate, every validator-set change from genesis and the proven genesis hash and validator schedule, in the canonical encoding as hex",
    )
    .not_found("not_found.snapshot");
    m.add(info_def, |app, _| snapshot_info(app))?;
    let chunk_def = MethodDef::new("snapshot_chunk", "A page of a snapshot's state, in key order")
        .param("height", schema::uint(), "the snapshot's height, as `snapshot_info` gave it")
        .optional("after", schema::hex(), "the `next` of the page before (absent: the first page)")
        .result(
            "chunk",
            schema::object(&["height", "pairs", "next"]),
            "`pairs`: up to 4,096 `[key_hex, value_hex]` (2 MiB) after `after`; `next`: the key to ask after for the next page, `null` on the last",
        )
        .not_found("not_found.snapshot")
        .storage();
    m.add(chunk_def, snapshot_chunk)?;
    Ok(())
}

fn no_snapshot(app: &App, asked: Option<u64>) -> ErrorObjectOwned {
    let served = app.snapshots.get().map(|s| s.heights()).unwrap_or_default();
    let message = match asked {
        None => "this node serves no state snapshot yet".to_string(),
        Some(height) => format!(
            "this node no longer serves the snapshot at height {height} (it serves {served:?}): start again from snapshot_info"
        ),
    };
    app_error(NOT_FOUND, "not_found.snapshot", message)
}

fn snapshot_info(app: &App) -> RpcResult {
    let newest = app.snapshots.get().and_then(|s| s.newest());
    let Some(snapshot) = newest else {
        return Err(no_snapshot(app, None));
    };
    Ok(json!({
        "height": snapshot.height,
        "anchor": Bytes(snapshot.anchor.clone()),
    }))
}

fn snapshot_chunk(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let height: u64 = seq.next()?;
    let after: Option<Bytes> = seq.optional_next()?;
    let Some(snapshots) = app.snapshots.get() else {
        return Err(no_snapshot(app, Some(height)));
    };
    let Some(snapshot) = snapshots.at(height) else {
        return Err(no_snapshot(app, Some(height)));
    };
    let after = after.as_ref().map(|a| a.0.as_slice());
    // Read and encoded within the page limit: the reply's memory too.
    let chunk = || -> RpcResult {
        let page = snapshot.storage.state_page(after).map_err(node_error)?;
        let pairs: Vec<(Bytes, Bytes)> = (page.pairs.into_iter())
            .map(|(key, value)| (Bytes(key), Bytes(value)))
            .collect();
        Ok(json!({ "height": height, "pairs": pairs, "next": page.next.map(Bytes) }))
    };
    snapshots.page(chunk).unwrap_or_else(|| {
        let message = format!("{PAGES_AT_ONCE_MAX} snapshot pages are being served; try again");
        Err(app_error(NODE_BUSY, "node.busy", message))
    })
}
