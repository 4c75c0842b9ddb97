//! `rpc.discover`: the server's OpenRPC document (specification 1.3.2), built from
//! the same [`MethodDef`]s that registered the methods, so what the node serves and
//! what it documents cannot drift apart. Tools that read OpenRPC (generators,
//! playgrounds, the explorer page) learn every method, its parameters by position
//! and JSON Schema, its result and its application errors from the node itself.

use super::spec::{schema, MethodDef};
use serde_json::{json, Value};

/// The OpenRPC specification version the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";
/// The discovery method's name, as the OpenRPC specification fixes it.
pub const DISCOVER: &str = "rpc.discover";

/// `rpc.discover`'s own definition: it is served, so it is documented too.
pub(crate) fn discover_def() -> MethodDef {
    MethodDef::new(
        DISCOVER,
        "This node's OpenRPC document: every method it serves",
    )
    .describe(
        "Built from the definitions the methods are registered with: the parameters \
             (positional) with their JSON Schemas and whether they are required, each \
             result, and the application errors (`data.reason`) a method may answer.",
    )
    .result(
        "document",
        schema::object(&["openrpc", "info", "methods"]),
        "an OpenRPC document (https://spec.open-rpc.org)",
    )
}

/// The document for these methods, in the order given.
pub(crate) fn document(methods: &[MethodDef]) -> Value {
    let methods: Vec<Value> = methods.iter().map(MethodDef::openrpc).collect();
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": env!("CARGO_PKG_NAME"),
            "version": env!("CARGO_PKG_VERSION"),
            "description": concat!(
                env!("CARGO_PKG_DESCRIPTION"),
                " JSON-RPC 2.0 over HTTP POST and WebSocket on one port; parameters are \
                 positional arrays. Application errors carry `data.reason`, a stable code \
                 to match on, and `data.message`."
            ),
            "license": { "name": env!("CARGO_PKG_LICENSE") },
        },
        "methods": methods,
    })
}
