//! `tamga query ...`: read-only calls; no key needed (Art. 40 p.3: actions that give
//! rise to no rights need no identification).

use super::certfile;
use super::client::Client;
use super::condo_show;
use super::events::{self, Names};
use super::output::print;
use super::resolve::Resolver;
use super::Globals;
use crate::keyring;
use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use tamga_client::{
    Account, BlockView, CondoView, NodeStatus, OffersPage, OwnedRecords, ProposalsPage,
    RecordHistory, TxInfo, ValidatorSet,
};
use tamga_runtime::records::Record;
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
        limit: Option<u64>,
    },
    /// Records a subject owns (a key name, a certified key or a subject id).
    Owner {
        owner: String,
        #[arg(long)]
        limit: Option<u64>,
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
        let client = super::client::connect(globals)?;
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
        let shown = fetch(globals, &client, command).await?;
        let value = shown.json()?;
        let (denominators, names) = match globals.output {
            super::Output::Text => (
                share_denominators(&client, &value).await,
                Names::load(&globals.home.0, &client).await,
            ),
            super::Output::Json => (HashMap::new(), Names::default()),
        };
        print(globals.output, &value, || {
            text(&shown, &value, &denominators, &names)
        });
        Ok(())
    })
}

/// What a query returned, typed; printed as its JSON or in words.
enum Shown {
    Status(NodeStatus),
    Block(BlockView),
    Tx(TxInfo),
    Record(Record),
    History(RecordHistory),
    Owner(OwnedRecords),
    Account(Account),
    Validators(ValidatorSet),
    Condo(CondoView),
    Proposals(ProposalsPage),
    Offers(OffersPage),
}

impl Shown {
    fn json(&self) -> Result<Value> {
        Ok(match self {
            Shown::Status(v) => serde_json::to_value(v)?,
            Shown::Block(v) => serde_json::to_value(v)?,
            Shown::Tx(v) => serde_json::to_value(v)?,
            Shown::Record(v) => serde_json::to_value(v)?,
            Shown::History(v) => serde_json::to_value(v)?,
            Shown::Owner(v) => serde_json::to_value(v)?,
            Shown::Account(v) => serde_json::to_value(v)?,
            Shown::Validators(v) => serde_json::to_value(v)?,
            Shown::Condo(v) => serde_json::to_value(v)?,
            Shown::Proposals(v) => serde_json::to_value(v)?,
            Shown::Offers(v) => serde_json::to_value(v)?,
        })
    }
}

async fn fetch(globals: &Globals, client: &Client, command: QueryCommand) -> Result<Shown> {
    let home = &globals.home.0;
    Ok(match command {
        QueryCommand::Status => Shown::Status(client.node_status().await?),
        QueryCommand::Block { height } => Shown::Block(client.block_get(height).await?),
        QueryCommand::Tx { hash } => Shown::Tx(client.tx_get(hash).await?),
        QueryCommand::Record { id, .. } => Shown::Record(client.record_get(id).await?),
        QueryCommand::History { id, limit } => {
            Shown::History(client.record_history(id, Some(0), limit).await?)
        }
        QueryCommand::Owner { owner, limit } => {
            let resolver = Resolver { client, home };
            let owner = resolver.subject(&owner).await?;
            Shown::Owner(client.record_by_owner(owner, None, limit).await?)
        }
        QueryCommand::Validators => Shown::Validators(client.validators_get().await?),
        QueryCommand::Condo { id } => Shown::Condo(client.condo_get(id).await?),
        QueryCommand::Proposals { id, after, limit } => {
            Shown::Proposals(client.condo_proposals(id, after, limit).await?)
        }
        QueryCommand::Offers { id, after, limit } => {
            Shown::Offers(client.condo_offers(id, after, limit).await?)
        }
        QueryCommand::Account { key } => {
            let key = keyring::resolve_public(home, &key)?;
            Shown::Account(client.account_get(key).await?)
        }
    })
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
        let Ok(id) = Hash32::from_hex(condo) else {
            continue;
        };
        if out.contains_key(condo) {
            continue;
        }
        if let Ok(shown) = client.condo_get(id).await {
            out.insert(condo.to_owned(), shown.denominator);
        }
    }
    out
}

/// Lines for people; anything without a dedicated layout prints as indented JSON.
fn text(
    shown: &Shown,
    value: &Value,
    denominators: &HashMap<String, u64>,
    names: &Names,
) -> String {
    match shown {
        Shown::Record(_) => record_text(value, denominators),
        Shown::Condo(_) => condo_show::condo_text(value),
        Shown::Proposals(_) => condo_show::proposals_text(value),
        Shown::Offers(_) => condo_show::offers_text(value),
        Shown::History(history) => history_text(history, names),
        Shown::Tx(tx) => tx_text(tx, names),
        Shown::Owner(_) => value["records"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| record_text(r, denominators))
            .collect::<Vec<_>>()
            .join("\n\n"),
        _ => serde_json::to_string_pretty(value).expect("JSON values print"),
    }
}

/// A record's provenance, a sentence per change: "registered to alice by
/// registrar at height 222".
fn history_text(history: &RecordHistory, names: &Names) -> String {
    let lines: Vec<String> = history
        .entries
        .iter()
        .map(|e| {
            format!(
                "{} at height {} (tx {})",
                events::sentence(&e.event, names),
                e.height,
                events::short(e.tx)
            )
        })
        .collect();
    match lines.is_empty() {
        true => "no changes recorded".into(),
        false => lines.join("\n"),
    }
}

/// A transaction's status and, once committed, its events in sentences.
fn tx_text(tx: &TxInfo, names: &Names) -> String {
    let status = serde_json::to_value(tx.status).unwrap_or_default();
    let mut lines = vec![format!(
        "transaction {} {}{}",
        tx.hash,
        status.as_str().unwrap_or_default(),
        tx.height
            .map(|h| format!(" at height {h}"))
            .unwrap_or_default()
    )];
    if let Some(error) = &tx.error {
        lines.push(format!("{} [{}]", error.message, error.reason));
    }
    for event in tx.events() {
        lines.push(format!(
            "event: {}",
            events::sentence_with_record(event, names)
        ));
    }
    lines.join("\n")
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
