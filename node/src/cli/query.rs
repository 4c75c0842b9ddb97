//! `tamga query ...`: read-only calls; no key needed (Art. 40 p.3: actions that give
//! rise to no rights need no identification).

use super::client::Client;
use super::output::print;
use super::resolve::Resolver;
use super::Globals;
use crate::keyring;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};
use tamga_runtime::Hash32;

#[derive(Subcommand)]
pub enum QueryCommand {
    /// Chain id, height, latest block hash and state root.
    Status,
    /// A block with its commit certificate (latest if no height).
    Block { height: Option<u64> },
    /// A transaction's status, height and events.
    Tx { hash: Hash32 },
    /// A record: owner, encumbrances, status.
    Record { id: Hash32 },
    /// A record's full provenance history.
    History {
        id: Hash32,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Records a subject owns (a key name, a certified key or a subject id).
    Owner {
        owner: String,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// An account's next nonce.
    Account { key: String },
    /// The validator set for the next height, and any scheduled change.
    Validators,
}

pub fn run(globals: &Globals, command: QueryCommand) -> Result<()> {
    super::runtime()?.block_on(async {
        let client = Client::new(globals)?;
        let (method, params) = request(globals, &client, command).await?;
        let value = client.call(method, params).await?;
        print(globals.output, &value, || text(method, &value));
        Ok(())
    })
}

async fn request(
    globals: &Globals,
    client: &Client,
    command: QueryCommand,
) -> Result<(&'static str, Vec<Value>)> {
    let home = &globals.home.0;
    Ok(match command {
        QueryCommand::Status => ("node_status", vec![]),
        QueryCommand::Block { height } => (
            "block_get",
            height.map(|h| vec![json!(h)]).unwrap_or_default(),
        ),
        QueryCommand::Tx { hash } => ("tx_get", vec![json!(hash)]),
        QueryCommand::Record { id } => ("record_get", vec![json!(id)]),
        QueryCommand::History { id, limit } => {
            ("record_history", vec![json!(id), json!(0), json!(limit)])
        }
        QueryCommand::Owner { owner, limit } => {
            let resolver = Resolver { client, home };
            let owner = resolver.subject(&owner).await?;
            (
                "record_byOwner",
                vec![json!(owner), Value::Null, json!(limit)],
            )
        }
        QueryCommand::Validators => ("validators_get", vec![]),
        QueryCommand::Account { key } => (
            "account_get",
            vec![json!(keyring::resolve_public(home, &key)?)],
        ),
    })
}

fn short(value: &Value) -> String {
    value
        .as_str()
        .map(|s| s.chars().take(16).collect())
        .unwrap_or_else(|| value.to_string())
}

/// Lines for people; anything without a dedicated layout prints as indented JSON.
fn text(method: &str, value: &Value) -> String {
    match method {
        "record_get" => record_text(value),
        "record_history" => value["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                format!(
                    "height {:>6}  tx {}…  {}",
                    e["height"],
                    short(&e["tx"]),
                    e["event"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "record_byOwner" => value["records"]
            .as_array()
            .into_iter()
            .flatten()
            .map(record_text)
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => serde_json::to_string_pretty(value).expect("JSON values print"),
    }
}

fn record_text(r: &Value) -> String {
    let mut lines = vec![
        format!("record       {}", r["id"].as_str().unwrap_or("")),
        format!("description  {}", r["description"].as_str().unwrap_or("")),
        format!("category     {}", r["category"].as_str().unwrap_or("")),
        format!("owner        {}", r["owner"].as_str().unwrap_or("")),
        format!("status       {}", r["status"].as_str().unwrap_or("")),
        format!("national     {}", r["national"]),
        format!("asset        {}", r["asset"]),
    ];
    for e in r["encumbrances"].as_array().into_iter().flatten() {
        lines.push(format!(
            "encumbrance  #{} {} held by {}",
            e["id"],
            e["kind"].as_str().unwrap_or(""),
            e["holder"].as_str().unwrap_or("")
        ));
    }
    lines.join("\n")
}
