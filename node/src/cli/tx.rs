//! `tamga tx ...`: build a transaction, sign it with a key from the keyring (and
//! co-sign with any `--cosign` keys: consents of owners or encumbrance holders),
//! submit it, and wait until it is committed.

use super::client::Client;
use super::output::print;
use super::Globals;
use crate::keyring;
use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tamga_runtime::types::{
    encoding, EncumbranceKind, ObjectCategory, Payload, Quantity, Transaction,
};
use tamga_runtime::validators::Validator;
use tamga_runtime::{Hash32, PublicKey};

/// How long to wait for a submitted transaction to commit.
const COMMIT_WAIT_MAX: Duration = Duration::from_secs(30);
const COMMIT_POLL: Duration = Duration::from_millis(100);

#[derive(Subcommand)]
pub enum TxCommand {
    /// Title-certification records (Art. 21).
    #[command(subcommand)]
    Record(RecordCommand),
    /// Fungible classes (quantities: goods, claims).
    #[command(subcommand)]
    Class(ClassCommand),
    /// The validator set (Art. 26 p.3(2)).
    #[command(subcommand)]
    Validators(ValidatorsCommand),
}

#[derive(Subcommand)]
pub enum ValidatorsCommand {
    /// Replace the validator set. Needs signatures (--from plus --cosign) of current
    /// validators holding more than 2/3 of the power; takes effect two heights later.
    Set {
        /// A member of the new set: key name or public key, with optional `:POWER`
        /// (default 1). Repeat for each member.
        #[arg(long = "validator", required = true)]
        validators: Vec<String>,
        #[command(flatten)]
        opts: TxOpts,
    },
}

fn validator_entry(home: &std::path::Path, text: &str) -> Result<Validator> {
    let (key, power) = match text.rsplit_once(':') {
        Some((key, power)) => {
            let power = power
                .parse()
                .map_err(|_| anyhow::anyhow!("power in {text:?} must be a positive integer"))?;
            (key, power)
        }
        None => (text, 1),
    };
    Ok(Validator {
        public_key: keyring::resolve_public(home, key)?,
        power,
    })
}

#[derive(Args)]
pub struct TxOpts {
    /// Key (name in HOME/keys, or `validator` for this node's own key) that signs.
    #[arg(long)]
    from: String,
    /// Keys that co-sign to give consent (repeatable).
    #[arg(long = "cosign")]
    cosign: Vec<String>,
    /// Return once admitted to the mempool instead of waiting for the commit.
    #[arg(long)]
    no_wait: bool,
    /// Print the signed transaction as hex (for `tx_submit` over JSON-RPC) instead
    /// of submitting it. Still asks the node for the chain id and next nonce.
    #[arg(long, conflicts_with = "no_wait")]
    sign_only: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Category {
    Tangible,
    Digital,
    Claim,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Pledge,
    Lien,
    Lease,
    Arrest,
}

#[derive(Subcommand)]
pub enum RecordCommand {
    /// Register a record certifying OWNER's rights in an object or a quantity.
    Register {
        #[arg(long, value_enum)]
        category: Category,
        #[arg(long)]
        description: String,
        /// Owner: key name or hex public key.
        #[arg(long)]
        owner: String,
        /// A national digital object (Art. 34): never alienated or encumbered.
        #[arg(long)]
        national: bool,
        /// Class of a fungible quantity (with --amount).
        #[arg(long, requires = "amount")]
        class: Option<Hash32>,
        #[arg(long, requires = "class")]
        amount: Option<u64>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Transfer a record (or --amount of a fungible holding) to another owner.
    Transfer {
        record: Hash32,
        #[arg(long)]
        to: String,
        #[arg(long)]
        amount: Option<u64>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Encumber a record (pledge, lien, lease, arrest) in favour of HOLDER.
    Encumber {
        record: Hash32,
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        holder: String,
        /// Hash of the agreement or order (hex).
        #[arg(long)]
        document: Option<Hash32>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Release encumbrance number N (signed by its holder).
    Release {
        record: Hash32,
        #[arg(long)]
        encumbrance: u32,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Terminate the rights a record certifies.
    Terminate {
        record: Hash32,
        #[command(flatten)]
        opts: TxOpts,
    },
}

#[derive(Subcommand)]
pub enum ClassCommand {
    /// Register a fungible class; the signer becomes its issuer.
    Register {
        #[arg(long, value_enum)]
        category: Category,
        #[arg(long)]
        name: String,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        national: bool,
        #[command(flatten)]
        opts: TxOpts,
    },
}

fn category(c: Category) -> ObjectCategory {
    match c {
        Category::Tangible => ObjectCategory::Tangible,
        Category::Digital => ObjectCategory::Digital,
        Category::Claim => ObjectCategory::Claim,
    }
}

fn kind(k: Kind) -> EncumbranceKind {
    match k {
        Kind::Pledge => EncumbranceKind::Pledge,
        Kind::Lien => EncumbranceKind::Lien,
        Kind::Lease => EncumbranceKind::Lease,
        Kind::Arrest => EncumbranceKind::Arrest,
    }
}

pub fn run(globals: &Globals, command: TxCommand) -> Result<()> {
    let home = &globals.home.0;
    let key = |text: &str| keyring::resolve_public(home, text);
    let (payload, opts) = match command {
        TxCommand::Validators(ValidatorsCommand::Set { validators, opts }) => {
            let validators = validators
                .iter()
                .map(|text| validator_entry(home, text))
                .collect::<Result<_>>()?;
            (Payload::SetValidators { validators }, opts)
        }
        TxCommand::Class(ClassCommand::Register {
            category: c,
            name,
            unit,
            national,
            opts,
        }) => (
            Payload::RegisterClass {
                category: category(c),
                name,
                unit,
                national,
            },
            opts,
        ),
        TxCommand::Record(command) => match command {
            RecordCommand::Register {
                category: c,
                description,
                owner,
                national,
                class,
                amount,
                opts,
            } => {
                let quantity = class
                    .zip(amount)
                    .map(|(class, amount)| Quantity { class, amount });
                (
                    Payload::Register {
                        category: category(c),
                        description,
                        owner: key(&owner)?,
                        national,
                        quantity,
                    },
                    opts,
                )
            }
            RecordCommand::Transfer {
                record,
                to,
                amount,
                opts,
            } => (
                Payload::Transfer {
                    record,
                    to: key(&to)?,
                    amount,
                },
                opts,
            ),
            RecordCommand::Encumber {
                record,
                kind: k,
                holder,
                document,
                opts,
            } => (
                Payload::Encumber {
                    record,
                    kind: kind(k),
                    holder: key(&holder)?,
                    document,
                },
                opts,
            ),
            RecordCommand::Release {
                record,
                encumbrance,
                opts,
            } => (
                Payload::Release {
                    record,
                    encumbrance,
                },
                opts,
            ),
            RecordCommand::Terminate { record, opts } => (Payload::Terminate { record }, opts),
        },
    };
    super::runtime()?.block_on(submit(globals, payload, opts))
}

pub(super) async fn submit(globals: &Globals, payload: Payload, opts: TxOpts) -> Result<()> {
    let home = &globals.home.0;
    let signer = keyring::load(home, &opts.from)?;
    let cosigners = opts
        .cosign
        .iter()
        .map(|name| keyring::load(home, name))
        .collect::<Result<Vec<_>>>()?;
    let client = Client::new(globals)?;
    let status = client.call("node_status", vec![]).await?;
    let chain_id = status["chain_id"].as_str().unwrap_or_default().to_owned();
    let public_key = PublicKey::of(&signer);
    let account = client.call("account_get", vec![json!(public_key)]).await?;
    let Some(nonce) = account["next_nonce"].as_u64() else {
        bail!("node returned no next_nonce")
    };
    let tx = Transaction {
        chain_id,
        signer: public_key,
        nonce,
        payload,
    };
    let signed = cosigners
        .iter()
        .fold(tx.sign(&signer), |tx, key| tx.cosign(key));
    let hash = signed.id();
    let tx_hex = hex::encode(encoding::encode(&signed));
    if opts.sign_only {
        let value = json!({ "hash": hash, "tx": tx_hex });
        print(globals.output, &value, || tx_hex.clone());
        return Ok(());
    }
    client.call("tx_submit", vec![json!(tx_hex)]).await?;
    if opts.no_wait {
        let value = json!({ "hash": hash, "status": "pending" });
        print(globals.output, &value, || format!("submitted {hash}"));
        return Ok(());
    }
    let result = wait_committed(&client, &hash).await?;
    print(globals.output, &result, || describe(&result));
    Ok(())
}

async fn wait_committed(client: &Client, hash: &Hash32) -> Result<Value> {
    let started = Instant::now();
    loop {
        let mut result = client.call("tx_get", vec![json!(hash)]).await?;
        match result["status"].as_str() {
            Some("committed") => {
                add_created_ids(&mut result);
                return Ok(result);
            }
            Some("rejected") => bail!(
                "transaction {hash} rejected: {}",
                result["error"]["message"]
            ),
            _ if started.elapsed() > COMMIT_WAIT_MAX => {
                bail!("transaction {hash} not committed after {COMMIT_WAIT_MAX:?}")
            }
            _ => tokio::time::sleep(COMMIT_POLL).await,
        }
    }
}

/// Lifts the id of a record or class the transaction created to the top level, for
/// scripts (`--output json | jq -r .record`).
/// (event, field, result key): ids a transaction created, lifted to the top level.
const CREATED_IDS: [(&str, &str, &str); 5] = [
    ("registered", "record", "record"),
    ("split_off", "record", "record"),
    ("class_registered", "class", "class"),
    ("contract_deployed", "contract", "contract"),
    ("instance_proposed", "instance", "instance"),
];

fn add_created_ids(result: &mut Value) {
    let events = result["events"].as_array().cloned().unwrap_or_default();
    for event in events {
        for (name, field, key) in CREATED_IDS {
            if let Some(id) = event[name][field].as_str() {
                result[key] = json!(id);
            }
        }
    }
}

fn describe(result: &Value) -> String {
    let mut lines = vec![format!(
        "committed {} at height {}",
        result["hash"].as_str().unwrap_or(""),
        result["height"]
    )];
    for key in ["record", "class", "contract", "instance"] {
        if let Some(id) = result[key].as_str() {
            lines.push(format!("{key}: {id}"));
        }
    }
    for event in result["events"].as_array().into_iter().flatten() {
        lines.push(format!("event: {event}"));
    }
    lines.join("\n")
}
