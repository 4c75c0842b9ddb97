//! `tamga contract ...`: deploy Wasm with its terms and arbitration clause (Art. 67),
//! instantiate and accept, deposit, call, query, dispute, and rule.
//!
//! Binary arguments are given as typed pieces, concatenated in order:
//! `subject:NAME|HEX` (the 32-byte subject a key name or id names), `id:HEX` (32
//! bytes), `u64:N` (8 bytes, little-endian), `text:STRING` (UTF-8), `hex:HEX`
//! (raw bytes). Parties and arbiters are subjects; arbiters must be certified
//! with the arbiter role, and never parties (Art. 67 p.3).

use super::output::print;
use super::resolve::Resolver;
use super::tx::{submit, TxOpts};
use super::Globals;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};

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
        /// A party (key name, certified key or subject id), repeatable, in order.
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
        /// Who asks (key name or subject); the zero subject if absent.
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
    /// Rule on a dispute (arbiters: one writes it with --out, the others
    /// `tamga tx sign` it until the quorum signed, then `tamga tx submit`).
    Rule {
        instance: Hash32,
        #[arg(long, value_enum)]
        decision: DecisionKind,
        /// Move a held record: RECORD=TO or RECORD=TO:AMOUNT (TO a key name or subject).
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
    /// A human arbiter (key name or subject) certified as such, repeatable (Art. 67 p.3).
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
pub async fn encode_args(r: &Resolver<'_>, pieces: &[String]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for piece in pieces {
        let (kind, value) = piece
            .split_once(':')
            .with_context(|| format!("argument {piece:?} must be TYPE:VALUE"))?;
        match kind {
            "subject" => out.extend_from_slice(&r.subject(value).await?.0),
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
            other => bail!("argument type {other:?} must be subject, id, u64, text or hex"),
        }
    }
    Ok(out)
}

/// A document's fingerprint: plain blake3 of the file, which anyone can recompute.
fn document_hash(path: &Path) -> Result<Hash32> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Hash32(*blake3::hash(&bytes).as_bytes()))
}

async fn direction(r: &Resolver<'_>, text: &str) -> Result<Direction> {
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
        to: r.subject(to).await?,
        amount,
    })
}

async fn deploy_payload(r: &Resolver<'_>, args: &DeployArgs) -> Result<Payload> {
    let code =
        std::fs::read(&args.code).with_context(|| format!("reading {}", args.code.display()))?;
    let terms = std::fs::read_to_string(&args.terms)
        .with_context(|| format!("reading {}", args.terms.display()))?;
    let appeal = match &args.appeal {
        Some(appeal) => Some(r.subject(appeal).await?),
        None => None,
    };
    let arbitration = ArbitrationClause {
        arbiters: r.subjects(&args.arbiters).await?,
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
    super::runtime()?.block_on(async {
        let client = super::client::connect(globals)?;
        let r = Resolver {
            client: &client,
            home: &globals.home.0,
        };
        let (payload, opts) = match command {
            ContractCommand::Show { contract } => {
                return show(globals, client.contract_get(contract).await?)
            }
            ContractCommand::Instance { instance } => {
                return show(globals, client.contract_instance(instance).await?)
            }
            ContractCommand::Query {
                instance,
                args,
                caller,
            } => {
                let caller = match caller {
                    Some(c) => Some(r.subject(&c).await?),
                    None => None,
                };
                let input = encode_args(&r, &args).await?;
                return show(
                    globals,
                    client.contract_query(instance, &input, caller).await?,
                );
            }
            other => transaction(&r, other).await?,
        };
        submit(globals, payload, opts).await
    })
}

/// The payload of a contract command that is a transaction.
async fn transaction(r: &Resolver<'_>, command: ContractCommand) -> Result<(Payload, TxOpts)> {
    Ok(match command {
        ContractCommand::Deploy(args) => (deploy_payload(r, &args).await?, args.opts),
        ContractCommand::Instantiate {
            contract,
            parties,
            args,
            opts,
        } => {
            let payload = Payload::Instantiate {
                contract,
                parties: r.subjects(&parties).await?,
                init_args: Bytes(encode_args(r, &args).await?),
            };
            (payload, opts)
        }
        ContractCommand::Accept { instance, opts } => {
            let accept = r.client.contract_instance(instance).await?.accept;
            let payload = Payload::Accept {
                instance,
                code_hash: accept.code_hash,
                terms_hash: accept.terms_hash,
                init_args_hash: accept.init_args_hash,
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
        } => {
            let input = Bytes(encode_args(r, &args).await?);
            (Payload::Call { instance, input }, opts)
        }
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
            let mut moves = Vec::with_capacity(directions.len());
            for d in &directions {
                moves.push(direction(r, d).await?);
            }
            let decision = match decision {
                DecisionKind::Resume if moves.is_empty() => Decision::Resume,
                DecisionKind::Resume => bail!("a resume decision moves nothing: drop --direct"),
                DecisionKind::Transfer => Decision::Transfer(moves),
                DecisionKind::Terminate => Decision::Terminate(moves),
            };
            let payload = Payload::Rule {
                instance,
                decision,
                decision_text: document_hash(&decision_file)?,
            };
            (payload, opts)
        }
        ContractCommand::Show { .. }
        | ContractCommand::Instance { .. }
        | ContractCommand::Query { .. } => {
            unreachable!("handled by run")
        }
    })
}

/// A result as JSON, in both output modes.
fn show(globals: &Globals, result: impl serde::Serialize) -> Result<()> {
    let value = serde_json::to_value(result)?;
    print(globals.output, &value, || {
        serde_json::to_string_pretty(&value).expect("JSON values print")
    });
    Ok(())
}
