//! Results as the node writes them read into the types here, and written back
//! they are the same JSON (the CLI prints them with `--output json`).

use super::*;
use serde_json::{json, Value};

fn round_trip<T: serde::de::DeserializeOwned + Serialize>(value: Value) -> T {
    let typed: T = serde_json::from_value(value.clone()).expect("reads");
    assert_eq!(serde_json::to_value(&typed).unwrap(), value, "writes back");
    typed
}

#[test]
fn tx_get_reads_every_status_and_writes_back_the_same_json() {
    let hash = "11".repeat(32);
    let pending: TxInfo = round_trip(json!({ "hash": hash, "status": "pending" }));
    assert_eq!(pending.status, TxStatus::Pending);
    assert!(pending.events().is_empty());
    let rejected: TxInfo = round_trip(json!({
        "hash": hash, "status": "rejected",
        "error": { "reason": "record.not_owner", "message": "no" },
    }));
    assert_eq!(rejected.error.unwrap().reason, "record.not_owner");
    let owner = "22".repeat(32);
    let committed: TxInfo = round_trip(json!({
        "hash": hash, "status": "committed", "height": 7, "index": 0,
        "events": [{ "registered": { "record": hash, "owner": owner, "registrar": owner } }],
    }));
    assert!(committed.is_committed());
    assert_eq!(committed.events().len(), 1);
}

#[test]
fn batch_outcomes_are_admitted_or_refused() {
    let outcomes: Vec<BatchOutcome> = round_trip(json!([
        { "hash": "33".repeat(32) },
        { "error": { "code": -32001, "message": "no",
                     "data": { "reason": "tx.nonce_replayed", "message": "no" } } },
    ]));
    assert!(outcomes[0].hash().is_some());
    assert_eq!(outcomes[1].reason(), Some("tx.nonce_replayed"));
}

#[test]
fn a_condominium_view_keeps_its_governance_kind() {
    let id = "44".repeat(32);
    let proposals: ProposalsPage = round_trip(json!({
        "condo": id, "denominator": 6, "governance": "contract",
        "proposals": [], "next": null, "at_height": 9,
    }));
    assert_eq!(proposals.governance, "contract");
    let governance: GovernanceView = round_trip(json!({ "kind": "contract", "instance": id }));
    assert!(matches!(governance, GovernanceView::Contract { .. }));
}

#[test]
fn errors_carry_the_nodes_reason() {
    let object = jsonrpsee::types::ErrorObjectOwned::owned(
        -32002,
        "record x not found",
        Some(json!({ "reason": "not_found.record", "message": "record x not found" })),
    );
    let error = Error::from(RpcError::from(object));
    assert_eq!(error.reason(), Some("not_found.record"));
    assert_eq!(error.code(), Some(-32002));
    let bare = jsonrpsee::types::ErrorObjectOwned::owned(-32601, "no method", None::<()>);
    assert_eq!(RpcError::from(bare).reason, "rpc");
}
