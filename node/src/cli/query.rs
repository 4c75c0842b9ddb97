//! `tamga query ...`: read-only calls; no key needed (Art. 40 p.3: actions that give
//! rise to no rights need no identification).

use super::certfile;
use super::client::Client;
use super::condo_show;
use super::output::print;
use super::resolve::Resolver;
use super::Globals;
use crate::keyring;
use anyhow::Result;
use clap::Subcommand;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use tamga_runtime::Hash32;
use tamga_verify::Claim;

#[derive(Subcommand)]
pub enum QueryCommand {
    /// Chain id, height, latest block hash and state root.
    Status,
    /// A block with its commit certificate (latest if no height).
    Block { height: Option<u64> },
    /// A transaction's status, height and events.
    Tx { hash: Hash32 },
    /// A record: owner, encumbrances, status; or, with --certificate, a
    /// certificate of it to check offline (`tamga verify`).
    Record {
        id: Hash32,
        /// Write a certificate of the record's state (or that no record has this
        /// id) to FILE instead of showing it.
        #[arg(long, value_name = "FILE")]
        certificate: Option<PathBuf>,
        /// With --certificate: the height to certify (default: the node's latest).
        #[arg(long, requires = "certificate")]
        height: Option<u64>,
    },
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
    /// A digital condominium (Art. 35): shares, governance, objects, open proposals.
    Condo { id: Hash32 },
    /// A condominium's proposals: action, tally against threshold, status.
    Proposals {
        id: Hash32,
        /// Only proposals numbered after this one.
        #[arg(long)]
        after: Option<u64>,
        #[arg(long)]
        limit: Option<u64>,
    },
    /// A condominium's share offers: windows, status, taker.
    Offers {
        id: Hash32,
        /// Only offers numbered after this one.
        #[arg(long)]
        after: Option<u64>,
        #[arg(long)]
        limit: Option<u64>,
    },
}

pub fn run(globals: &Globals, command: QueryCommand) -> Result<()> {
    super::runtime()?.block_on(async {
        let client = Client::new(globals)?;
        if let QueryCommand::Record {
            id,
            certificate: Some(path),
            height,
        } = &command
        {
            let fetched = certfile::fetch(&client, Claim::Record { id: *id }, *height).await?;
            certfile::write(path, &fetched.bytes)?;
            certfile::report(globals, path, &fetched);
            return Ok(());
        }
        let (method, params) = request(globals, &client, command).await?;
        let value = client.call(method, params).await?;
        let denominators = match globals.output {
            super::Output::Text => share_denominators(&client, &value).await,
            super::Output::Json => HashMap::new(),
        };
        print(globals.output, &value, || {
            text(method, &value, &denominators)
        });
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
        QueryCommand::Record { id, .. } => ("record_get", vec![json!(id)]),
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
        QueryCommand::Condo { id } => ("condo_get", vec![json!(id)]),
        QueryCommand::Proposals { id, after, limit } => (
            "condo_proposals",
            vec![json!(id), json!(after), json!(limit)],
        ),
        QueryCommand::Offers { id, after, limit } => {
            ("condo_offers", vec![json!(id), json!(after), json!(limit)])
        }
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

/// Each condominium a shown record is a share of, with its denominator (for
/// `share N/D`); a condominium the node does not answer for is left out.
async fn share_denominators(client: &Client, value: &Value) -> HashMap<String, u64> {
    let records = match value["records"].as_array() {
        Some(records) => records.iter().collect(),
        None => vec![value],
    };
    let mut out = HashMap::new();
    for record in records {
        let Some(condo) = record["asset"]["share"]["condo"].as_str() else {
            continue;
        };
        if out.contains_key(condo) {
            continue;
        }
        if let Ok(shown) = client.call("condo_get", vec![json!(condo)]).await {
            if let Some(den) = shown["denominator"].as_u64() {
                out.insert(condo.to_owned(), den);
            }
        }
    }
    out
}

/// Lines for people; anything without a dedicated layout prints as indented JSON.
fn text(method: &str, value: &Value, denominators: &HashMap<String, u64>) -> String {
    match method {
        "record_get" => record_text(value, denominators),
        "condo_get" => condo_show::condo_text(value),
        "condo_proposals" => condo_show::proposals_text(value),
        "condo_offers" => condo_show::offers_text(value),
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
            .map(|r| record_text(r, denominators))
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => serde_json::to_string_pretty(value).expect("JSON values print"),
    }
}

fn record_text(r: &Value, denominators: &HashMap<String, u64>) -> String {
    let condo = r["asset"]["share"]["condo"].as_str().unwrap_or_default();
    let asset = condo_show::asset_text(&r["asset"], denominators.get(condo).copied());
    let mut lines = vec![
        format!("record       {}", r["id"].as_str().unwrap_or("")),
        format!("description  {}", r["description"].as_str().unwrap_or("")),
        format!("category     {}", r["category"].as_str().unwrap_or("")),
        format!("owner        {}", r["owner"].as_str().unwrap_or("")),
        format!("status       {}", r["status"].as_str().unwrap_or("")),
        format!("national     {}", r["national"]),
        format!("asset        {asset}"),
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
