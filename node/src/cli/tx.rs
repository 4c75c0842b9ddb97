//! `tamga tx ...`: build a transaction, sign it with the `--from` key, submit it,
//! and wait until it is committed; or, with `--out FILE`, write it for others to
//! review and co-sign on their own machines (see [`super::txfile`]). Owners,
//! holders and recipients are subjects: a key name resolves to the subject its
//! certificate names.

use super::client::Client;
use super::events::{self, Names};
use super::output::print;
use super::resolve::Resolver;
use super::txfile::{self, TxFile};
use super::Globals;
use crate::keyring;
use anyhow::{bail, Result};
use clap::{Args, Subcommand, ValueEnum};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tamga_client::{Refusal, TxStatus};
use tamga_runtime::records::Event;
use tamga_runtime::types::{
    encoding, EncumbranceKind, ObjectCategory, Payload, Quantity, SignedTx, Transaction,
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
    /// Digital condominiums: joint rights in digital objects (Art. 35).
    #[command(subcommand)]
    Condo(super::condo::CondoCommand),
    /// Show in plain words what a transaction file does and who has signed it.
    Show { file: PathBuf },
    /// Add your signature to a transaction file (after reviewing it).
    Sign {
        file: PathBuf,
        /// Your key (name in HOME/keys, or `validator` for this node's own key).
        #[arg(long)]
        from: String,
        /// Sign without asking (you reviewed it with `tamga tx show`).
        #[arg(long)]
        yes: bool,
    },
    /// Submit a transaction file once its signer (and any co-signers) signed.
    Submit {
        file: PathBuf,
        /// Return once admitted to the mempool instead of waiting for the commit.
        #[arg(long)]
        no_wait: bool,
    },
}

#[derive(Subcommand)]
pub enum ValidatorsCommand {
    /// Replace the validator set. Needs signatures of current validators holding
    /// more than 2/3 of the power (`--out` a file, each validator `tamga tx sign`s
    /// it); takes effect two heights later.
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
    /// Key that signs (name in HOME/keys, or `validator` for this node's own
    /// key). With --out it may be another person's public key: the file then
    /// waits for their signature.
    #[arg(long)]
    pub(super) from: String,
    /// Return once admitted to the mempool instead of waiting for the commit.
    #[arg(long)]
    no_wait: bool,
    /// Print the signed transaction as hex (for `tx_submit` over JSON-RPC) instead
    /// of submitting it. Still asks the node for the chain id and next nonce.
    /// With --out, the file is what is written.
    #[arg(long, conflicts_with = "no_wait")]
    sign_only: bool,
    /// Write the transaction to FILE for others to review and co-sign
    /// (`tamga tx show|sign|submit`) instead of submitting it.
    #[arg(long, conflicts_with = "no_wait")]
    pub(super) out: Option<PathBuf>,
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
        /// Owner: a key name, a certified public key, or a subject id.
        #[arg(long)]
        owner: String,
        /// A national digital object (Art. 34): held by a state body, never
        /// alienated or encumbered.
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
    /// Transfer a record (or --amount of a fungible holding) to another subject.
    Transfer {
        record: Hash32,
        #[arg(long)]
        to: String,
        #[arg(long)]
        amount: Option<u64>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Encumber a record (pledge, lien, lease; a court's arrest) in favour of HOLDER.
    Encumber {
        record: Hash32,
        #[arg(long, value_enum)]
        kind: Kind,
        #[arg(long)]
        holder: String,
        /// Hash of the agreement or order (hex); an arrest must cite its order.
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
    match command {
        TxCommand::Show { file } => return txfile::show(globals, &file),
        TxCommand::Condo(command) => return super::condo::run(globals, command),
        TxCommand::Sign { file, from, yes } => return txfile::sign(globals, &file, &from, yes),
        TxCommand::Submit { file, no_wait } => {
            let signed = TxFile::read(&file)?.signed()?;
            return super::runtime()?.block_on(async {
                let client = super::client::connect(globals)?;
                send(globals, &client, signed, no_wait).await
            });
        }
        _ => {}
    }
    super::runtime()?.block_on(async {
        let client = super::client::connect(globals)?;
        let resolver = Resolver {
            client: &client,
            home: &globals.home.0,
        };
        let (payload, opts) = payload(&resolver, command).await?;
        submit(globals, payload, opts).await
    })
}

async fn payload(r: &Resolver<'_>, command: TxCommand) -> Result<(Payload, TxOpts)> {
    Ok(match command {
        TxCommand::Validators(ValidatorsCommand::Set { validators, opts }) => {
            let validators = validators
                .iter()
                .map(|text| validator_entry(r.home, text))
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
        TxCommand::Record(command) => record_payload(r, command).await?,
        TxCommand::Show { .. }
        | TxCommand::Sign { .. }
        | TxCommand::Submit { .. }
        | TxCommand::Condo(_) => {
            unreachable!("handled by run")
        }
    })
}

async fn record_payload(r: &Resolver<'_>, command: RecordCommand) -> Result<(Payload, TxOpts)> {
    Ok(match command {
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
            let payload = Payload::Register {
                category: category(c),
                description,
                owner: r.subject(&owner).await?,
                national,
                quantity,
            };
            (payload, opts)
        }
        RecordCommand::Transfer {
            record,
            to,
            amount,
            opts,
        } => {
            let to = r.subject(&to).await?;
            (Payload::Transfer { record, to, amount }, opts)
        }
        RecordCommand::Encumber {
            record,
            kind: k,
            holder,
            document,
            opts,
        } => {
            let payload = Payload::Encumber {
                record,
                kind: kind(k),
                holder: r.subject(&holder).await?,
                document,
            };
            (payload, opts)
        }
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
    })
}

/// The transaction `signer` signs, with its next nonce from the node.
pub(super) async fn build(
    client: &Client,
    payload: Payload,
    signer: PublicKey,
) -> Result<Transaction> {
    let chain_id = client.node_status().await?.chain_id;
    let nonce = client.account_get(signer).await?.next_nonce;
    Ok(Transaction {
        chain_id,
        signer,
        nonce,
        payload,
    })
}

pub(super) async fn submit(globals: &Globals, payload: Payload, opts: TxOpts) -> Result<()> {
    if let Some(result) = submit_cosigned(globals, payload, opts, &[]).await? {
        print_committed(globals, &super::client::connect(globals)?, &result).await;
    }
    Ok(())
}

/// A committed transaction: its JSON as is, or in text its ids and its events
/// in sentences naming keys and subjects this keyring knows.
pub(super) async fn print_committed(globals: &Globals, client: &Client, result: &Value) {
    let names = match globals.output {
        super::Output::Text => Names::load(&globals.home.0, client).await,
        super::Output::Json => Names::default(),
    };
    print(globals.output, result, || describe(result, &names));
}

/// Builds the transaction, signs it with `--from` and each of `cosigners`, then
/// writes it `--out`, prints it (`--sign-only`) or submits it. Returns the
/// committed result for the caller to print when it waited for the commit;
/// everything else it printed itself.
pub(super) async fn submit_cosigned(
    globals: &Globals,
    payload: Payload,
    opts: TxOpts,
    cosigners: &[SigningKey],
) -> Result<Option<Value>> {
    let home = &globals.home.0;
    let client = super::client::connect(globals)?;
    let tx = build(&client, payload, keyring::resolve_public(home, &opts.from)?).await?;
    let key = keyring::load(home, &opts.from).ok();
    if let Some(path) = &opts.out {
        write_file(globals, tx, key.as_ref(), cosigners, path)?;
        return Ok(None);
    }
    let Some(key) = key else {
        bail!("no key {:?} in {} to sign with: use --out to write the transaction for its holder to sign", opts.from, keyring::keys_dir(home).display());
    };
    let signed = cosigners
        .iter()
        .fold(tx.sign(&key), |signed, cosigner| signed.cosign(cosigner));
    if opts.sign_only {
        let hash = signed.id();
        let tx_hex = hex::encode(encoding::encode(&signed));
        let value = json!({ "hash": hash, "tx": tx_hex });
        print(globals.output, &value, || tx_hex.clone());
        return Ok(None);
    }
    send_wait(globals, &client, signed, opts.no_wait).await
}

/// `--out`: the transaction with the signatures made here, for others to sign.
fn write_file(
    globals: &Globals,
    tx: Transaction,
    key: Option<&SigningKey>,
    cosigners: &[SigningKey],
    path: &std::path::Path,
) -> Result<()> {
    let mut file = TxFile::new(tx);
    for key in key.into_iter().chain(cosigners) {
        file.sign(key)?;
    }
    file.write(path)?;
    let value = json!({ "hash": file.hash, "file": path, "signed_by": file.signatures().iter().map(|(k, _)| *k).collect::<Vec<_>>() });
    print(globals.output, &value, || {
        format!(
            "{}\nwritten to {1}: others review and sign it with `tamga tx sign {1} --from NAME`",
            txfile::review(&file),
            path.display()
        )
    });
    Ok(())
}

async fn send(globals: &Globals, client: &Client, signed: SignedTx, no_wait: bool) -> Result<()> {
    if let Some(result) = send_wait(globals, client, signed, no_wait).await? {
        print_committed(globals, client, &result).await;
    }
    Ok(())
}

/// Submits; with `no_wait` prints that it is pending, else returns the commit.
async fn send_wait(
    globals: &Globals,
    client: &Client,
    signed: SignedTx,
    no_wait: bool,
) -> Result<Option<Value>> {
    let hash = signed.id();
    client.tx_submit(&signed).await?;
    if no_wait {
        let value = json!({ "hash": hash, "status": "pending" });
        print(globals.output, &value, || format!("submitted {hash}"));
        return Ok(None);
    }
    wait_committed(client, &hash).await.map(Some)
}

use crate::progress::{Cadence, Lines, Progress};
/// A wait shows a spinner on a terminal, elsewhere a line after 3 s and every 5 s.
const WAIT_CADENCE: Cadence = Cadence {
    first: Duration::from_secs(3),
    every: Duration::from_secs(5),
};

pub(super) async fn wait_committed(client: &Client, hash: &Hash32) -> Result<Value> {
    let started = Instant::now();
    let waiting = format!("waiting for {hash} to commit");
    let mut progress = Progress::spinner(&waiting, Lines::Stderr, WAIT_CADENCE);
    loop {
        let found = client.tx_get(*hash).await?;
        match found.status {
            TxStatus::Committed => {
                let mut result = serde_json::to_value(&found)?;
                add_created_ids(&mut result);
                progress.finish(&format!("{hash} committed"));
                return Ok(result);
            }
            TxStatus::Rejected => {
                let error = found.error.unwrap_or_else(|| Refusal {
                    reason: String::new(),
                    message: String::new(),
                });
                bail!(
                    "transaction {hash} rejected: {} [{}]",
                    error.message,
                    error.reason
                )
            }
            _ if started.elapsed() > COMMIT_WAIT_MAX => {
                bail!("transaction {hash} not committed after {COMMIT_WAIT_MAX:?}")
            }
            _ => {
                progress.tick();
                tokio::time::sleep(COMMIT_POLL).await
            }
        }
    }
}

/// (event, field, result key): ids a transaction created, lifted to the top level
/// for scripts (`--output json | jq -r .record`).
const CREATED_IDS: [(&str, &str, &str); 7] = [
    ("registered", "record", "record"),
    ("split_off", "record", "record"),
    ("class_registered", "class", "class"),
    ("contract_deployed", "contract", "contract"),
    ("instance_proposed", "instance", "instance"),
    ("certificate_issued", "certificate", "certificate"),
    ("certificate_issued", "subject", "subject"),
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
    super::condo_show::lift_results(result);
}

/// A committed transaction in lines for people.
pub(super) fn describe(result: &Value, names: &Names) -> String {
    let mut lines = vec![format!(
        "committed {} at height {}",
        result["hash"].as_str().unwrap_or(""),
        result["height"]
    )];
    for key in [
        "record",
        "class",
        "contract",
        "instance",
        "certificate",
        "subject",
        "condo",
        "proposal",
        "offer",
    ] {
        match &result[key] {
            Value::Null => {}
            Value::String(id) => lines.push(format!("{key}: {id}")),
            other => lines.push(format!("{key}: {other}")),
        }
    }
    let events: Vec<Event> = serde_json::from_value(result["events"].clone()).unwrap_or_default();
    for event in &events {
        lines.push(format!(
            "event: {}",
            events::sentence_with_record(event, names)
        ));
    }
    lines.join("\n")
}
