//! Printing results: `--output json` prints one JSON document on stdout (errors too,
//! as `{"error": ...}`), text prints lines for people.

use super::Output;
use serde_json::{json, Value};
use tamga_runtime::pki::identifier::IdentifierError;

pub fn print(output: Output, value: &Value, text: impl FnOnce() -> String) {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).expect("JSON values print")
        ),
        Output::Text => println!("{}", text()),
    }
}

/// A negative outcome the command has already printed (a certificate refused, a
/// document not anchored): the process exits non-zero and prints nothing more.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

pub fn error(output: Output, e: &anyhow::Error) {
    if e.downcast_ref::<Reported>().is_some() {
        return;
    }
    let rpc = super::client::rpc_error(e);
    match output {
        Output::Json => {
            let local = e.downcast_ref::<IdentifierError>();
            let value = match (rpc, local) {
                (Some(rpc), _) => {
                    json!({ "error": { "code": rpc.code, "reason": rpc.reason, "message": rpc.message } })
                }
                (None, Some(local)) => {
                    json!({ "error": { "reason": local.reason(), "message": format!("{e:#}") } })
                }
                (None, None) => json!({ "error": { "message": format!("{e:#}") } }),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&value).expect("JSON values print")
            );
        }
        Output::Text => eprintln!("error: {e:#}"),
    }
}
