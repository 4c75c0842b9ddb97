//! Method definitions: each JSON-RPC method is registered together with what it
//! takes and gives (its parameters by name with a JSON Schema and whether they are
//! required, its result, the application errors it may answer), so the one
//! definition that registers a method is also what `rpc.discover` documents (see
//! [`super::openrpc`]). Nothing is written twice: a method cannot be served
//! undocumented, nor documented unserved.

use super::errors::{self, FORBIDDEN, INVALID_PARAMS, MEMPOOL_FULL, NODE_BUSY, NODE_ERROR};
use super::errors::{NOT_FOUND, TX_REJECTED};
use serde_json::{json, Map, Value};

/// A parameter or a result: a name, a JSON Schema and what it means.
#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub name: &'static str,
    pub summary: &'static str,
    pub schema: Value,
    pub required: bool,
}

impl Content {
    fn openrpc(&self) -> Value {
        json!({
            "name": self.name,
            "summary": self.summary,
            "schema": self.schema,
            "required": self.required,
        })
    }
}

/// An application error a method may answer: its code and `data.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ErrorDef {
    pub code: i32,
    pub reason: &'static str,
}

/// One method: its name, what it does, its positional parameters, its result and
/// the application errors it may answer.
#[derive(Clone, Debug)]
pub(crate) struct MethodDef {
    pub name: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub params: Vec<Content>,
    pub result: Content,
    pub errors: Vec<ErrorDef>,
}

impl MethodDef {
    /// A method without parameters whose result is any JSON value until
    /// [`MethodDef::result`] says otherwise.
    pub fn new(name: &'static str, summary: &'static str) -> Self {
        MethodDef {
            name,
            summary,
            description: None,
            params: Vec::new(),
            result: Content {
                name: "result",
                summary: "",
                schema: json!({}),
                required: true,
            },
            errors: Vec::new(),
        }
    }

    /// A longer explanation (Markdown).
    pub fn describe(mut self, text: &'static str) -> Self {
        self.description = Some(text);
        self
    }

    /// The next positional parameter, required. Required parameters come first.
    pub fn param(self, name: &'static str, schema: Value, summary: &'static str) -> Self {
        assert!(
            self.params.iter().all(|p| p.required),
            "{}: required parameter `{name}` after an optional one",
            self.name
        );
        self.push_param(name, schema, summary, true)
    }

    /// The next positional parameter, which may be left out (with the ones after it).
    pub fn optional(self, name: &'static str, schema: Value, summary: &'static str) -> Self {
        self.push_param(name, schema, summary, false)
    }

    fn push_param(
        mut self,
        name: &'static str,
        schema: Value,
        summary: &'static str,
        required: bool,
    ) -> Self {
        let has_params = !self.params.is_empty();
        self.params.push(Content {
            name,
            summary,
            schema,
            required,
        });
        if !has_params {
            self = self.error(INVALID_PARAMS, "params.invalid");
        }
        self
    }

    pub fn result(mut self, name: &'static str, schema: Value, summary: &'static str) -> Self {
        self.result = Content {
            name,
            summary,
            schema,
            required: true,
        };
        self
    }

    /// An application error this method may answer.
    pub fn error(mut self, code: i32, reason: &'static str) -> Self {
        let error = ErrorDef { code, reason };
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
        self
    }

    /// `not_found.<what>` (-32002).
    pub fn not_found(self, reason: &'static str) -> Self {
        self.error(NOT_FOUND, reason)
    }

    /// `node.storage` (-32010): a read from the node's database failed.
    pub fn storage(self) -> Self {
        self.error(NODE_ERROR, "node.storage")
    }

    /// What admitting a transaction may answer: a rule's refusal (its reason names
    /// the rule), a full mempool, a local failure.
    pub fn admits(self) -> Self {
        self.error(TX_REJECTED, "tx.malformed")
            .error(TX_REJECTED, "record.not_owner")
            .error(MEMPOOL_FULL, "mempool.full")
            .error(MEMPOOL_FULL, "mempool.signer_quota")
            .error(NODE_ERROR, "node.local_failure")
            .storage()
    }

    /// The vault's refusals: no token configured, or a wrong one.
    pub fn vault(self) -> Self {
        self.error(FORBIDDEN, "vault.disabled")
            .error(FORBIDDEN, "vault.bad_token")
    }

    /// The error every method may answer: all call slots are taken.
    pub fn busy(self) -> Self {
        self.error(NODE_BUSY, "node.busy")
    }

    /// The OpenRPC Method Object.
    pub fn openrpc(&self) -> Value {
        let mut method = Map::new();
        method.insert("name".into(), json!(self.name));
        method.insert("summary".into(), json!(self.summary));
        if let Some(description) = self.description {
            method.insert("description".into(), json!(description));
        }
        method.insert("paramStructure".into(), json!("by-position"));
        let params: Vec<Value> = self.params.iter().map(Content::openrpc).collect();
        method.insert("params".into(), Value::Array(params));
        method.insert("result".into(), self.result.openrpc());
        let errors: Vec<Value> = self.errors.iter().map(error_object).collect();
        method.insert("errors".into(), Value::Array(errors));
        Value::Object(method)
    }
}

/// An OpenRPC Error Object: the code, what it means, and the `data` it carries.
fn error_object(error: &ErrorDef) -> Value {
    json!({
        "code": error.code,
        "message": errors::meaning(error.code),
        "data": { "reason": error.reason },
    })
}

/// JSON Schemas for the values the methods take and give.
pub(crate) mod schema {
    use serde_json::{json, Value};

    /// A 32-byte id or hash as 64 hex digits (a `0x` prefix is accepted).
    pub fn hash() -> Value {
        json!({ "type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$" })
    }

    /// Bytes as hex (a `0x` prefix is accepted).
    pub fn hex() -> Value {
        json!({ "type": "string", "pattern": "^(0x)?([0-9a-fA-F]{2})*$" })
    }

    pub fn string() -> Value {
        json!({ "type": "string" })
    }

    /// A height, count or number: a non-negative integer.
    pub fn uint() -> Value {
        json!({ "type": "integer", "minimum": 0 })
    }

    /// A page size, 1..=`max`.
    pub fn limit(max: usize) -> Value {
        json!({ "type": "integer", "minimum": 1, "maximum": max })
    }

    pub fn array(items: Value) -> Value {
        json!({ "type": "array", "items": items })
    }

    /// An array of 1..=`max` items.
    pub fn array_max(items: Value, max: usize) -> Value {
        json!({ "type": "array", "items": items, "minItems": 1, "maxItems": max })
    }

    /// An object that always has these members (and may have others).
    pub fn object(members: &[&str]) -> Value {
        let properties: serde_json::Map<String, Value> = members
            .iter()
            .map(|m| ((*m).to_owned(), json!({})))
            .collect();
        json!({ "type": "object", "properties": properties, "required": members })
    }

    /// A subscription's id, as the server hands it out.
    pub fn subscription_id() -> Value {
        json!({ "type": ["integer", "string"] })
    }
}
