//! JSON-RPC methods for smart contracts (Art. 67). Parameters are positional.
//!
//! | method | params | result |
//! |---|---|---|
//! | `contract_get` | `[contract_id]` | terms text, code and terms hashes, arbitration clause |
//! | `contract_instance` | `[instance_id]` | parties, acceptance, status (dispute), holdings, and the hashes a party accepts |
//! | `contract_query` | `[instance_id, input_hex, caller?]` | the `query` export's output, read-only, no transaction |
//!
//! A query runs Wasm: it runs on a blocking thread (never on the async workers
//! that carry consensus), at most [`QUERIES_AT_ONCE_MAX`] at a time, each with one
//! call's fuel. Past that the caller is told the node is busy (`node.busy`).

use super::errors::*;
use super::spec::{schema, MethodDef};
use crate::app::App;
use crate::clock::now_ms;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use serde_json::{json, Value};
use std::sync::Arc;
use tamga_runtime::contracts::lifecycle::init_args_hash;
use tamga_runtime::contracts::{query, Contract, Instance};
use tamga_runtime::state::keys;
use tamga_runtime::{Hash32, SubjectId, TxError};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Contract queries running at once; the rest are refused as `node.busy`.
pub const QUERIES_AT_ONCE_MAX: usize = 4;

pub(super) fn register(m: &mut super::Methods) -> anyhow::Result<()> {
    let get_def = MethodDef::new(
        "contract_get",
        "A deployed contract: its terms and arbitration clause",
    )
    .param("contract_id", schema::hash(), "the contract's id")
    .result(
        "contract",
        json!({ "type": "object" }),
        "terms text, code and terms hashes, arbitration clause",
    )
    .not_found("not_found.contract")
    .storage();
    m.add(get_def, contract_get)?;
    let instance_def = MethodDef::new("contract_instance", "A contract instance: parties, status, holdings")
        .param("instance_id", schema::hash(), "the instance's id")
        .result(
            "instance",
            schema::object(&["account", "accept"]),
            "parties, acceptance, status (dispute), holdings, its `account`, and in `accept` the hashes a party accepts",
        )
        .not_found("not_found.instance")
        .not_found("not_found.contract")
        .storage();
    m.add(instance_def, instance_get)?;
    let query_def = MethodDef::new("contract_query", "Runs the instance's read-only `query` export")
        .describe("No transaction: the contract's `query` export runs on committed state with one call's fuel, at most four at a time across the node (`node.busy` past that).")
        .param("instance_id", schema::hash(), "the instance's id")
        .param("input_hex", schema::hex(), "the query's input bytes")
        .optional("caller", schema::hash(), "the subject the query runs as (default: all zeros)")
        .result("output", schema::object(&["output", "text"]), "the output as hex, and as text when it is UTF-8 (else null)")
        .error(TX_REJECTED, "contract.out_of_fuel")
        .error(NODE_ERROR, "node.local_failure")
        .busy();
    let slots = Arc::new(tokio::sync::Semaphore::new(QUERIES_AT_ONCE_MAX));
    m.add(query_def, move |app, p| {
        let _slot = slots.try_acquire().map_err(|_| {
            app_error(
                NODE_BUSY,
                "node.busy",
                format!("{QUERIES_AT_ONCE_MAX} contract queries are already running; try again"),
            )
        })?;
        contract_query(app, p)
    })?;
    Ok(())
}

fn id_param(params: &Params, what: &str) -> Result<Hash32, ErrorObjectOwned> {
    let mut seq = params.sequence();
    let text: String = seq.next()?;
    Hash32::from_hex(&text).map_err(|e| invalid_params(format!("{what}: {e}")))
}

fn load<T: tamga_runtime::types::encoding::Decode<()>>(
    app: &App,
    key: Vec<u8>,
    what: &'static str,
    id: &Hash32,
) -> Result<T, ErrorObjectOwned> {
    app.storage
        .state_value(&key, what)
        .map_err(node_error)?
        .ok_or_else(|| not_found(what, id))
}

fn contract_get(app: &App, params: Params) -> RpcResult {
    let id = id_param(&params, "contract id")?;
    let contract: Contract = load(app, keys::contract(&id), "contract", &id)?;
    Ok(serde_json::to_value(contract).expect("contracts serialize"))
}

fn instance_get(app: &App, params: Params) -> RpcResult {
    let id = id_param(&params, "instance id")?;
    let instance: Instance = load(app, keys::instance(&id), "instance", &id)?;
    let contract: Contract = load(
        app,
        keys::contract(&instance.contract),
        "contract",
        &instance.contract,
    )?;
    let mut value = serde_json::to_value(&instance).expect("instances serialize");
    value["account"] = json!(instance.account());
    value["accept"] = json!({
        "code_hash": contract.code_hash,
        "terms_hash": contract.terms_hash,
        "init_args_hash": init_args_hash(&instance.init_args.0),
    });
    Ok(value)
}

fn contract_query(app: &App, params: Params) -> RpcResult {
    let mut seq = params.sequence();
    let id: String = seq.next()?;
    let input: String = seq.next()?;
    let caller: Option<String> = seq.optional_next()?;
    let id = Hash32::from_hex(&id).map_err(|e| invalid_params(format!("instance id: {e}")))?;
    let input = hex::decode(input.strip_prefix("0x").unwrap_or(&input))
        .map_err(|e| invalid_params(format!("input must be hex: {e}")))?;
    let caller = match caller {
        Some(text) => {
            SubjectId::from_hex(&text).map_err(|e| invalid_params(format!("caller: {e}")))?
        }
        None => SubjectId([0; 32]),
    };
    let tip = app.tip();
    let output = query(
        &app.storage,
        &app.vm,
        &id,
        caller,
        tip.height,
        now_ms().max(tip.time_ms),
        input,
    )
    .map_err(|e: TxError| {
        let code = if e.is_local() {
            NODE_ERROR
        } else {
            TX_REJECTED
        };
        app_error(code, e.reason(), e.to_string())
    })?;
    Ok(json!({ "output": hex::encode(&output), "text": String::from_utf8(output).ok() }))
}
