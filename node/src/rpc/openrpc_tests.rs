//! `rpc.discover` against the OpenRPC meta-schema, against the methods the server
//! actually serves, against the method tables in the docs, and against what the
//! methods answer on a fresh node.

use super::*;
use crate::app::tests::open_app;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The OpenRPC 1.3 meta-schema and the JSON Schema meta-schema it refers to
/// (Apache-2.0; sources and commits in `testdata/README.md`).
const OPENRPC_META_SCHEMA: &str = include_str!("testdata/openrpc-1.3-meta-schema.json");
const JSON_SCHEMA_TOOLS_META_SCHEMA: &str =
    include_str!("testdata/json-schema-tools-meta-schema.json");
/// Where the OpenRPC meta-schema finds the JSON Schema meta-schema.
const JSON_SCHEMA_TOOLS_URL: &str = "https://meta.json-schema.tools";

fn node_module() -> (tempfile::TempDir, jsonrpsee::RpcModule<()>) {
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(open_app(dir.path()));
    let module = node_methods(app, &Config::default(), "test".into()).unwrap();
    (dir, module)
}

/// One call through the module (the server's own dispatch): the response object.
async fn call(module: &jsonrpsee::RpcModule<()>, method: &str, params: Value) -> Value {
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let (response, _) = module
        .raw_json_request(&request.to_string(), 1)
        .await
        .unwrap();
    serde_json::from_str(response.get()).unwrap()
}

async fn discover(module: &jsonrpsee::RpcModule<()>) -> Value {
    call(module, "rpc.discover", json!([])).await["result"].clone()
}

/// A meta-schema as loaded for draft 7: both files name a `$schema` of their own
/// (the JSON Schema Tools meta-schema, itself) that is draft 7 with extra keywords.
fn meta_schema(text: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).unwrap();
    value.as_object_mut().unwrap().remove("$schema");
    value
}

/// Compiles `schema` as draft 7, with the JSON Schema meta-schema available.
fn compile(schema: Value) -> Result<(boon::Schemas, boon::SchemaIndex), String> {
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V7);
    let tools = meta_schema(JSON_SCHEMA_TOOLS_META_SCHEMA);
    compiler.add_resource(JSON_SCHEMA_TOOLS_URL, tools).unwrap();
    compiler.add_resource("urn:tamga:schema", schema).unwrap();
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile("urn:tamga:schema", &mut schemas)
        .map_err(|e| format!("{e:#}"))?;
    Ok((schemas, index))
}

/// Validates `instance` against `schema`.
fn validate(schema: Value, instance: &Value) -> Result<(), String> {
    let (schemas, index) = compile(schema)?;
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

#[tokio::test]
async fn discover_document_is_valid_openrpc() {
    let (_dir, module) = node_module();
    let document = discover(&module).await;
    let meta = meta_schema(OPENRPC_META_SCHEMA);
    if let Err(e) = validate(meta.clone(), &document) {
        panic!("rpc.discover is not a valid OpenRPC document: {e}\n{document:#}");
    }
    assert_eq!(document["openrpc"], "1.3.2");
    assert_eq!(document["info"]["title"], env!("CARGO_PKG_NAME"));
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    // The validation can fail: a method without its required `params` is refused.
    let mut broken = document.clone();
    broken["methods"][0]
        .as_object_mut()
        .unwrap()
        .remove("params");
    assert!(
        validate(meta, &broken).is_err(),
        "the meta-schema checks methods"
    );
    // Every parameter and result schema is itself a JSON Schema that compiles.
    for method in document["methods"].as_array().unwrap() {
        let params = method["params"].as_array().unwrap();
        for content in params.iter().chain([&method["result"]]) {
            if let Err(e) = compile(content["schema"].clone()) {
                panic!("{}: {}: {e}", method["name"], content["name"]);
            }
        }
    }
}

#[tokio::test]
async fn every_served_method_is_documented_and_every_documented_one_served() {
    let (_dir, module) = node_module();
    let document = discover(&module).await;
    let served: BTreeSet<&str> = module.method_names().collect();
    let documented: Vec<&str> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    let documented_set: BTreeSet<&str> = documented.iter().copied().collect();
    assert_eq!(
        documented.len(),
        documented_set.len(),
        "a method is documented twice"
    );
    let undocumented: Vec<_> = served.difference(&documented_set).collect();
    let unserved: Vec<_> = documented_set.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served, not documented: {undocumented:?}"
    );
    assert!(unserved.is_empty(), "documented, not served: {unserved:?}");
    assert!(served.contains("rpc.discover") && served.contains("block_unsubscribe"));
}

/// The method names a Markdown table lists in its first column.
fn table_methods(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.trim_start_matches("//!").trim())
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_owned()))
        .filter(|name| name.contains('_') || name.starts_with("rpc."))
        .collect()
}

#[tokio::test]
async fn the_method_tables_list_only_served_methods() {
    let (_dir, module) = node_module();
    let served: BTreeSet<&str> = module.method_names().collect();
    let readme = include_str!("../../../README.md");
    let rpc_section = readme
        .split("\n## JSON-RPC\n")
        .nth(1)
        .and_then(|s| s.split("\nErrors:").next())
        .expect("README has a JSON-RPC section");
    let tables = [
        ("README.md", rpc_section),
        ("methods.rs", include_str!("methods.rs")),
        ("contracts.rs", include_str!("contracts.rs")),
        ("condo.rs", include_str!("condo.rs")),
        ("documents.rs", include_str!("documents.rs")),
        ("pki.rs", include_str!("pki.rs")),
        ("snapshots.rs", include_str!("snapshots.rs")),
    ];
    for (file, text) in tables {
        let listed = table_methods(text);
        assert!(!listed.is_empty(), "{file} has no method table");
        for name in listed {
            assert!(
                served.contains(name.as_str()),
                "{file} lists `{name}`, not served"
            );
        }
    }
    let readme_methods = table_methods(rpc_section);
    assert!(readme_methods.iter().any(|m| m == "rpc.discover"));
}

/// The documented result schema of `method`, and its documented (code, reason)s.
fn documented(document: &Value, method: &str) -> (Value, Vec<(i64, String)>) {
    let def = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == method)
        .unwrap_or_else(|| panic!("{method} is not documented"));
    let errors = def["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_i64().unwrap(),
                e["data"]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (def["result"]["schema"].clone(), errors)
}

/// On a fresh node each call's result fits its documented schema, and each
/// refusal is one of the errors documented for that method.
#[tokio::test]
async fn answers_fit_their_documentation() {
    let (_dir, module) = node_module();
    let document = discover(&module).await;
    let zero = "00".repeat(32);
    let calls = [
        ("node_status", json!([])),
        ("node_storage", json!([])),
        ("validators_get", json!([])),
        ("evidence_list", json!([1, 10, 5])),
        ("record_byOwner", json!([zero])),
        ("account_get", json!([zero])),
        ("doc_get", json!([zero])),
        ("cert_revocations", json!([])),
        ("cert_bySubject", json!([zero])),
        ("rpc.discover", json!([])),
        ("record_get", json!([zero])),
        ("record_history", json!([zero])),
        ("record_get", json!(["not hex"])),
        ("evidence_list", json!([1, 10, 5000])),
        ("tx_get", json!([zero])),
        ("block_getRaw", json!([99])),
        ("contract_get", json!([zero])),
        ("contract_instance", json!([zero])),
        ("condo_get", json!([zero])),
        ("condo_proposals", json!([zero])),
        ("cert_get", json!([zero])),
        ("subject_get", json!([zero])),
        ("cert_identity", json!([zero, "token"])),
        ("tx_submit", json!(["00ff00"])),
    ];
    for (method, params) in calls {
        let response = call(&module, method, params.clone()).await;
        let (schema, errors) = documented(&document, method);
        if let Some(error) = response.get("error") {
            let code = error["code"].as_i64().unwrap();
            let reason = error["data"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                errors.contains(&(code, reason.clone())),
                "{method} {params}: ({code}, {reason}) is not among its documented errors {errors:?}"
            );
        } else if let Err(e) = validate(schema, &response["result"]) {
            panic!("{method} {params}: the result does not fit its schema: {e}\n{response}");
        }
    }
}
