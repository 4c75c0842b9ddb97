//! `tamga contract ...`: deploy Wasm with its terms and arbitration clause (Art. 67),
//! instantiate and accept, deposit, call, query, dispute, and rule.
//!
//! Binary arguments are given as typed pieces, concatenated in order:
//! `key:NAME|HEX` (32-byte public key), `id:HEX` (32 bytes), `u64:N` (8 bytes,
//! little-endian), `text:STRING` (UTF-8), `hex:HEX` (raw bytes).

use super::client::Client;
use super::output::print;
use super::tx::{submit, TxOpts};
use super::Globals;
use crate::keyring;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use tamga_runtime::contracts::{ArbitrationClause, Decision, Direction};
use tamga_runtime::types::{Bytes, Payload};
use tamga_runtime::Hash32;

#[derive(Subcommand)]
pub enum ContractCommand {
    /// Deploy CODE.wasm with its terms and an arbitration clause (all required).
    Deploy(DeployArgs),
    /// Show a deployed contract: terms, code and terms hashes, arbitration clause.
    Show { contract: Hash32 },
    /// Show an instance: parties, acceptance, status, holdings.
    Instance { instance: Hash32 },
    /// Propose an instance between parties; signing (and co-signing) parties accept.
    Instantiate {
        contract: Hash32,
        /// A party (key name or hex), repeatable, in order.
        #[arg(long = "party", required = true)]
        parties: Vec<String>,
        /// Init arguments, as typed pieces (see `tamga contract --help`).
        #[arg(long = "arg")]
        args: Vec<String>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Accept an instance: signs its code hash, terms hash and init arguments.
    Accept {
        instance: Hash32,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Put a record (or --amount of a fungible holding) into the instance's custody.
    Deposit {
        instance: Hash32,
        record: Hash32,
        #[arg(long)]
        amount: Option<u64>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Call the contract with input given as typed pieces.
    Call {
        instance: Hash32,
        #[arg(long = "arg")]
        args: Vec<String>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Read-only query; no transaction, no key needed.
    Query {
        instance: Hash32,
        #[arg(long = "arg")]
        args: Vec<String>,
        /// Who asks (key name or hex); zero key if absent.
        #[arg(long)]
        caller: Option<String>,
    },
    /// Open a dispute: freezes the instance until the arbiters rule.
    Dispute {
        instance: Hash32,
        /// The document stating the reason: its blake3 hash is recorded.
        #[arg(long)]
        reason_file: PathBuf,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Rule on a dispute (arbiters: --from one, --cosign the others for the quorum).
    Rule {
        instance: Hash32,
        #[arg(long, value_enum)]
        decision: DecisionKind,
        /// Move a held record: RECORD=TO or RECORD=TO:AMOUNT (TO a key name or hex).
        #[arg(long = "direct")]
        directions: Vec<String>,
        /// The text of the decision: its blake3 hash is recorded.
        #[arg(long)]
        decision_file: PathBuf,
        #[command(flatten)]
        opts: TxOpts,
    },
}

#[derive(Args)]
pub struct DeployArgs {
    code: PathBuf,
    /// The terms in a form people can read (Art. 67 p.2).
    #[arg(long)]
    terms: PathBuf,
    /// A human arbiter (key name or hex), repeatable (Art. 67 p.3).
    #[arg(long = "arbiter", required = true)]
    arbiters: Vec<String>,
    #[arg(long)]
    quorum: u32,
    /// Blocks the arbiters have to rule once a dispute opens.
    #[arg(long)]
    deadline: u64,
    /// Takes over a dispute left past its deadline.
    #[arg(long)]
    appeal: Option<String>,
    #[command(flatten)]
    opts: TxOpts,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DecisionKind {
    Resume,
    Transfer,
    Terminate,
}

/// Encodes typed pieces into bytes.
pub fn encode_args(home: &Path, pieces: &[String]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for piece in pieces {
        let (kind, value) = piece
            .split_once(':')
            .with_context(|| format!("argument {piece:?} must be TYPE:VALUE"))?;
        match kind {
            "key" => out.extend_from_slice(&keyring::resolve_public(home, value)?.0),
            "id" => out.extend_from_slice(&Hash32::from_hex(value)?.0),
            "u64" => out.extend_from_slice(
                &value
                    .parse::<u64>()
                    .with_context(|| format!("{value:?} is not a u64"))?
                    .to_le_bytes(),
            ),
            "text" => out.extend_from_slice(value.as_bytes()),
            "hex" => out.extend_from_slice(
                &hex::decode(value).with_context(|| format!("{value:?} is not hex"))?,
            ),
            other => bail!("argument type {other:?} must be key, id, u64, text or hex"),
        }
    }
    Ok(out)
}

/// A document's fingerprint: plain blake3 of the file, which anyone can recompute.
fn document_hash(path: &Path) -> Result<Hash32> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Hash32(*blake3::hash(&bytes).as_bytes()))
}

fn direction(home: &Path, text: &str) -> Result<Direction> {
    let (record, rest) = text
        .split_once('=')
        .with_context(|| format!("--direct {text:?} must be RECORD=TO[:AMOUNT]"))?;
    let (to, amount) = match rest.split_once(':') {
        Some((to, amount)) => (
            to,
            Some(
                amount
                    .parse::<u64>()
                    .with_context(|| format!("amount {amount:?}"))?,
            ),
        ),
        None => (rest, None),
    };
    Ok(Direction {
        record: Hash32::from_hex(record)?,
        to: keyring::resolve_public(home, to)?,
        amount,
    })
}

fn deploy_payload(home: &Path, args: &DeployArgs) -> Result<Payload> {
    let code =
        std::fs::read(&args.code).with_context(|| format!("reading {}", args.code.display()))?;
    let terms = std::fs::read_to_string(&args.terms)
        .with_context(|| format!("reading {}", args.terms.display()))?;
    let arbiters = args
        .arbiters
        .iter()
        .map(|a| keyring::resolve_public(home, a))
        .collect::<Result<Vec<_>>>()?;
    let appeal = args
        .appeal
        .as_deref()
        .map(|a| keyring::resolve_public(home, a))
        .transpose()?;
    let arbitration = ArbitrationClause {
        arbiters,
        quorum: args.quorum,
        deadline_blocks: args.deadline,
        appeal,
    };
    Ok(Payload::Deploy {
        code: Bytes(code),
        terms,
        arbitration,
    })
}

pub fn run(globals: &Globals, command: ContractCommand) -> Result<()> {
    let home = &globals.home.0;
    let rt = super::runtime()?;
    let (payload, opts) = match command {
        ContractCommand::Show { contract } => {
            return show(globals, "contract_get", json!([contract]))
        }
        ContractCommand::Instance { instance } => {
            return show(globals, "contract_instance", json!([instance]))
        }
        ContractCommand::Query {
            instance,
            args,
            caller,
        } => {
            let caller = caller
                .map(|c| keyring::resolve_public(home, &c))
                .transpose()?;
            let input = hex::encode(encode_args(home, &args)?);
            return show(globals, "contract_query", json!([instance, input, caller]));
        }
        ContractCommand::Deploy(args) => (deploy_payload(home, &args)?, args.opts),
        ContractCommand::Instantiate {
            contract,
            parties,
            args,
            opts,
        } => {
            let parties = parties
                .iter()
                .map(|p| keyring::resolve_public(home, p))
                .collect::<Result<Vec<_>>>()?;
            (
                Payload::Instantiate {
                    contract,
                    parties,
                    init_args: Bytes(encode_args(home, &args)?),
                },
                opts,
            )
        }
        ContractCommand::Accept { instance, opts } => {
            let shown = rt.block_on(async {
                Client::new(globals)?
                    .call("contract_instance", vec![json!(instance)])
                    .await
            })?;
            let hash =
                |field: &str| Hash32::from_hex(shown["accept"][field].as_str().unwrap_or_default());
            let payload = Payload::Accept {
                instance,
                code_hash: hash("code_hash")?,
                terms_hash: hash("terms_hash")?,
                init_args_hash: hash("init_args_hash")?,
            };
            (payload, opts)
        }
        ContractCommand::Deposit {
            instance,
            record,
            amount,
            opts,
        } => (
            Payload::Deposit {
                instance,
                record,
                amount,
            },
            opts,
        ),
        ContractCommand::Call {
            instance,
            args,
            opts,
        } => (
            Payload::Call {
                instance,
                input: Bytes(encode_args(home, &args)?),
            },
            opts,
        ),
        ContractCommand::Dispute {
            instance,
            reason_file,
            opts,
        } => (
            Payload::Dispute {
                instance,
                reason: document_hash(&reason_file)?,
            },
            opts,
        ),
        ContractCommand::Rule {
            instance,
            decision,
            directions,
            decision_file,
            opts,
        } => {
            let directions = directions
                .iter()
                .map(|d| direction(home, d))
                .collect::<Result<Vec<_>>>()?;
            let decision = match decision {
                DecisionKind::Resume if directions.is_empty() => Decision::Resume,
                DecisionKind::Resume => bail!("a resume decision moves nothing: drop --direct"),
                DecisionKind::Transfer => Decision::Transfer(directions),
                DecisionKind::Terminate => Decision::Terminate(directions),
            };
            (
                Payload::Rule {
                    instance,
                    decision,
                    decision_text: document_hash(&decision_file)?,
                },
                opts,
            )
        }
    };
    rt.block_on(submit(globals, payload, opts))
}

fn show(globals: &Globals, method: &str, params: Value) -> Result<()> {
    let params = params.as_array().cloned().unwrap_or_default();
    let value =
        super::runtime()?.block_on(async { Client::new(globals)?.call(method, params).await })?;
    print(globals.output, &value, || {
        serde_json::to_string_pretty(&value).expect("JSON values print")
    });
    Ok(())
}
