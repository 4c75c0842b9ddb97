//! `tamga tx condo ...`: digital condominiums (Art. 35) from the command line:
//! found one (see [`super::condo_create`]), attach objects, propose decisions
//! and vote on them, act as the representative, and offer or take shares. Key
//! names become subjects, block counts become heights from the node's own, and
//! what the node can tell beforehand (a record that is no share of this
//! condominium, an offer window inside the pre-emption window) is refused
//! before anything is signed. Admitting a participant needs the newcomer's
//! signature: it is written `--out` a file for them to `tamga tx sign`.

use super::client::Client;
use super::condo_create::{check_text, create_payload, needs_file, AgreementText, CreateArgs};
use super::resolve::Resolver;
use super::tx::{submit, TxOpts};
use super::Globals;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use tamga_runtime::condo::{Action, Allotment};
use tamga_runtime::limits::{CONDO_WINDOW_BLOCKS_MAX, TEXT_BYTES_MAX};
use tamga_runtime::records::Asset;
use tamga_runtime::types::Payload;
use tamga_runtime::{Hash32, SubjectId};

#[derive(Subcommand)]
pub enum CondoCommand {
    /// Found a condominium: every founder signs (write it --out a file, each
    /// founder `tamga tx sign`s it, then `tamga tx submit`).
    Create(Box<CreateArgs>),
    /// List one of your records as your individual object, or (--shared) hand
    /// it over to the condominium as a shared object.
    Attach {
        condo: Hash32,
        record: Hash32,
        /// A shared object: it moves to the condominium's own account.
        #[arg(long)]
        shared: bool,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Propose a decision; your share counts as a vote for it.
    Propose {
        condo: Hash32,
        /// Blocks the proposal stays open after the next one.
        #[arg(long, default_value_t = 100, global = true)]
        deadline_blocks: u64,
        #[command(subcommand)]
        action: ActionCommand,
    },
    /// Propose dissolution: every shared object goes to the participant named
    /// for it, and the participation records terminate.
    Dissolve(DissolveArgs),
    /// Vote for an open proposal with your share.
    Vote {
        condo: Hash32,
        proposal: u64,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// As the representative, decide alone within the mandate (Art. 35 p.4).
    Act {
        condo: Hash32,
        #[command(subcommand)]
        action: ActionCommand,
    },
    /// Offer (part of) your share for sale: the other participants may take it
    /// first, during the condominium's pre-emption window.
    TransferShare(OfferArgs),
    /// Take an offered share, on the offer's terms.
    TakeShare {
        condo: Hash32,
        offer: u64,
        #[command(flatten)]
        opts: TxOpts,
    },
}

#[derive(Args)]
pub struct DissolveArgs {
    condo: Hash32,
    /// OBJECT=NAME: a shared object and the participant who receives it (key
    /// name, certified key or subject id); one for every shared object.
    #[arg(long = "allot")]
    allotments: Vec<String>,
    /// Blocks the proposal stays open after the next one.
    #[arg(long, default_value_t = 100)]
    deadline_blocks: u64,
    #[command(flatten)]
    opts: TxOpts,
}

#[derive(Args)]
pub struct OfferArgs {
    condo: Hash32,
    /// Your participation record (`tamga query condo` lists them).
    #[arg(long)]
    record: Hash32,
    /// How much of it to sell, as a numerator (default: the whole record).
    #[arg(long)]
    numerator: Option<u64>,
    /// The terms of the sale (price, payment), in words.
    #[arg(long)]
    terms: String,
    /// Blocks the offer stays open in all (default: the pre-emption window + 100).
    #[arg(long)]
    open_blocks: Option<u64>,
    #[command(flatten)]
    opts: TxOpts,
}

/// A shared object and the party a decision deals it to.
#[derive(Args)]
pub struct Deal {
    /// The shared object (a record id).
    #[arg(long)]
    object: Hash32,
    /// The other party: key name, certified key or subject id.
    #[arg(long)]
    to: String,
    /// The declared value (a representative's mandate caps it).
    #[arg(long)]
    value: u64,
}

/// What a decision does (the same shapes for `propose` and `act`).
#[derive(Subcommand)]
pub enum ActionCommand {
    /// Record a rule of ordinary use of a shared object.
    Use {
        #[arg(long)]
        object: Hash32,
        #[arg(long)]
        terms: String,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Lease a shared object to --to.
    Lease {
        #[command(flatten)]
        deal: Deal,
        /// Hash of the lease agreement.
        #[arg(long)]
        document: Option<Hash32>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Pledge a shared object to --to as security.
    Pledge {
        #[command(flatten)]
        deal: Deal,
        /// Hash of the pledge agreement.
        #[arg(long)]
        document: Option<Hash32>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Sell a shared object to --to.
    Sell {
        #[command(flatten)]
        deal: Deal,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// End the rights in a shared object.
    Terminate {
        #[arg(long)]
        object: Hash32,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Admit a participant with a new share (a numerator: the denominator grows
    /// by it). The newcomer co-signs: use --out and `tamga tx sign`.
    Admit {
        #[arg(long)]
        subject: String,
        #[arg(long)]
        share: u64,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// Replace the agreement's text.
    ChangeAgreement {
        #[command(flatten)]
        text: AgreementText,
        #[command(flatten)]
        opts: TxOpts,
    },
}

impl Deal {
    /// The object, the other party as a subject, and the value.
    async fn resolve(self, r: &Resolver<'_>) -> Result<(Hash32, SubjectId, u64)> {
        Ok((self.object, r.subject(&self.to).await?, self.value))
    }
}

/// The action and who signs it; an admitted participant co-signs, so only a
/// file can carry an admission.
async fn action(r: &Resolver<'_>, command: ActionCommand) -> Result<(Action, TxOpts)> {
    Ok(match command {
        ActionCommand::Admit {
            subject,
            share,
            opts,
        } => {
            if share == 0 {
                bail!("--share must be positive: a participant holds a share (Art. 35 p.5)");
            }
            needs_file(&opts, &format!("the admitted participant {subject:?}"))?;
            let subject = r.subject(&subject).await?;
            let numerator = share;
            (Action::Admit { subject, numerator }, opts)
        }
        ActionCommand::ChangeAgreement { text, opts } => {
            let agreement = text.read()?;
            (Action::ChangeAgreement { agreement }, opts)
        }
        other => object_action(r, other).await?,
    })
}

/// A decision on one shared object.
async fn object_action(r: &Resolver<'_>, command: ActionCommand) -> Result<(Action, TxOpts)> {
    Ok(match command {
        ActionCommand::Use {
            object,
            terms,
            opts,
        } => {
            check_text("terms", &terms, TEXT_BYTES_MAX)?;
            (Action::Use { object, terms }, opts)
        }
        ActionCommand::Lease {
            deal,
            document,
            opts,
        } => {
            let (object, lessee, value) = deal.resolve(r).await?;
            let lease = Action::Lease {
                object,
                lessee,
                value,
                document,
            };
            (lease, opts)
        }
        ActionCommand::Pledge {
            deal,
            document,
            opts,
        } => {
            let (object, pledgee, value) = deal.resolve(r).await?;
            let pledge = Action::Pledge {
                object,
                pledgee,
                value,
                document,
            };
            (pledge, opts)
        }
        ActionCommand::Sell { deal, opts } => {
            let (object, buyer, value) = deal.resolve(r).await?;
            (
                Action::Sell {
                    object,
                    buyer,
                    value,
                },
                opts,
            )
        }
        ActionCommand::Terminate { object, opts } => (Action::Terminate { object }, opts),
        ActionCommand::Admit { .. } | ActionCommand::ChangeAgreement { .. } => {
            unreachable!("handled by action")
        }
    })
}

/// The height a proposal made now stays open until: `blocks` after the next one.
async fn deadline_height(client: &Client, blocks: u64) -> Result<u64> {
    if blocks == 0 || blocks > CONDO_WINDOW_BLOCKS_MAX {
        bail!("--deadline-blocks must be 1..={CONDO_WINDOW_BLOCKS_MAX}");
    }
    let height = client.node_status().await?.height;
    Ok(height + 1 + blocks)
}

async fn dissolution(r: &Resolver<'_>, args: DissolveArgs) -> Result<(Payload, TxOpts)> {
    let mut distribution = Vec::with_capacity(args.allotments.len());
    for item in &args.allotments {
        let (object, to) = item
            .split_once('=')
            .with_context(|| format!("--allot {item:?} must be OBJECT=NAME"))?;
        let object = Hash32::from_hex(object).with_context(|| format!("--allot {item:?}"))?;
        distribution.push(Allotment {
            object,
            to: r.subject(to).await?,
        });
    }
    let payload = Payload::CondoPropose {
        condo: args.condo,
        action: Action::Dissolve { distribution },
        deadline_height: deadline_height(r.client, args.deadline_blocks).await?,
    };
    Ok((payload, args.opts))
}

/// The participation record `record` of `condo`: its numerator and the
/// condominium's pre-emption window.
async fn share_of(client: &Client, condo: &Hash32, record: &Hash32) -> Result<(u64, u64)> {
    let preemption = client.condo_get(*condo).await?.preemption_blocks;
    let found = client.record_get(*record).await?;
    match found.asset {
        Asset::Share {
            condo: of,
            numerator,
        } if of == *condo => Ok((numerator, preemption)),
        _ => bail!("record {record} is not a participation share of condominium {condo}"),
    }
}

async fn offer(client: &Client, a: OfferArgs) -> Result<(Payload, TxOpts)> {
    check_text("terms", &a.terms, TEXT_BYTES_MAX)?;
    let (held, preemption) = share_of(client, &a.condo, &a.record).await?;
    let numerator = a.numerator.unwrap_or(held);
    if numerator == 0 || numerator > held {
        bail!("--numerator {numerator} must be 1..={held}, the share this record holds");
    }
    let open_blocks = a.open_blocks.unwrap_or(preemption.saturating_add(100));
    if open_blocks <= preemption || open_blocks > CONDO_WINDOW_BLOCKS_MAX {
        bail!(
            "--open-blocks must be more than the pre-emption window ({preemption} blocks, \
             reserved for the other participants) and at most {CONDO_WINDOW_BLOCKS_MAX}"
        );
    }
    let payload = Payload::CondoOffer {
        condo: a.condo,
        record: a.record,
        numerator,
        terms: a.terms,
        open_blocks,
    };
    Ok((payload, a.opts))
}

async fn payload(r: &Resolver<'_>, command: CondoCommand) -> Result<(Payload, TxOpts)> {
    Ok(match command {
        CondoCommand::Create(args) => create_payload(r, *args).await?,
        CondoCommand::Attach {
            condo,
            record,
            shared,
            opts,
        } => (
            Payload::CondoAttach {
                condo,
                record,
                shared,
            },
            opts,
        ),
        CondoCommand::Propose {
            condo,
            deadline_blocks,
            action: command,
        } => {
            let deadline_height = deadline_height(r.client, deadline_blocks).await?;
            let (action, opts) = action(r, command).await?;
            (
                Payload::CondoPropose {
                    condo,
                    action,
                    deadline_height,
                },
                opts,
            )
        }
        CondoCommand::Dissolve(args) => dissolution(r, args).await?,
        CondoCommand::Vote {
            condo,
            proposal,
            opts,
        } => (Payload::CondoVote { condo, proposal }, opts),
        CondoCommand::Act {
            condo,
            action: command,
        } => {
            let (action, opts) = action(r, command).await?;
            (Payload::CondoAct { condo, action }, opts)
        }
        CondoCommand::TransferShare(args) => offer(r.client, args).await?,
        CondoCommand::TakeShare { condo, offer, opts } => {
            (Payload::CondoTake { condo, offer }, opts)
        }
    })
}

pub fn run(globals: &Globals, command: CondoCommand) -> Result<()> {
    super::runtime()?.block_on(async {
        let client = super::client::connect(globals)?;
        let r = Resolver {
            client: &client,
            home: &globals.home.0,
        };
        let (payload, opts) = payload(&r, command).await?;
        submit(globals, payload, opts).await
    })
}

#[cfg(test)]
#[path = "condo_tests.rs"]
mod tests;
