//! Founding a digital condominium (Art. 35) from the command line. People think
//! of shares as fractions ("alice:1/2 bob:1/3 carol:1/6"); the ledger keeps
//! numerators over one denominator. This converts exactly (integers only, the
//! least common denominator), refuses shares that do not make the whole before
//! anything is built (Art. 35 p.5), checks that the governance flags describe
//! one rule, and insists on a file when more than one founder must sign.

use super::resolve::Resolver;
use super::tx::TxOpts;
use crate::keyring;
use crate::rpc::condo::gcd;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tamga_runtime::condo::{DecisionKind, Fraction, Governance, Mandate, Thresholds};
use tamga_runtime::limits::{AGREEMENT_BYTES_MAX, CONDO_DENOMINATOR_MAX, CONDO_WINDOW_BLOCKS_MAX};
use tamga_runtime::types::{Founder, Payload};
use tamga_runtime::Hash32;

/// The agreement (or a new one): a file, or the text itself.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct AgreementText {
    /// The agreement between the participants, read from a file (Art. 35 p.5).
    #[arg(long)]
    agreement_file: Option<PathBuf>,
    /// The agreement's text itself.
    #[arg(long)]
    agreement: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum GovernanceKind {
    /// The participants, by share-weighted vote.
    Voting,
    /// A representative within its mandate; the participants vote on the rest.
    Representative,
    /// A deployed contract instance whose parties are the founders.
    Contract,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
pub enum MandateKind {
    /// Ordinary use of a shared object.
    Use,
    /// Leases and pledges.
    #[value(alias = "pledge")]
    Lease,
    /// Sales and terminations.
    #[value(alias = "terminate")]
    Sale,
}

#[derive(Args)]
pub struct CreateArgs {
    #[command(flatten)]
    agreement: AgreementText,
    /// A founder and its share, NAME:NUM/DEN (NAME a key name, certified key or
    /// subject id); repeat for each. The shares must sum to exactly 1.
    #[arg(long = "participant", required = true)]
    participants: Vec<String>,
    /// Who decides over the shared objects (default: voting, or what
    /// --representative or --instance imply).
    #[arg(long, value_enum)]
    governance: Option<GovernanceKind>,
    /// KIND=NUM/DEN, the share of all participation a decision needs; KIND is
    /// use, lease (lease or pledge), sale (sale or termination), admit,
    /// agreement or dissolve. Defaults: use=1/2 lease=2/3 sale=3/4 admit=1/1
    /// agreement=1/1 dissolve=1/1.
    #[arg(long = "threshold")]
    thresholds: Vec<String>,
    /// The representative (Art. 35 p.4): key name, certified key or subject id.
    #[arg(long)]
    representative: Option<String>,
    /// The representative's mandate, as the participants sign it.
    #[arg(long)]
    mandate_file: Option<PathBuf>,
    /// Decisions the representative takes alone (comma-separated: use,lease,sale).
    #[arg(long, value_enum, value_delimiter = ',')]
    mandate_kinds: Vec<MandateKind>,
    /// Largest declared value of one lease, pledge or sale the representative
    /// agrees alone (default 0).
    #[arg(long)]
    mandate_value_max: Option<u64>,
    /// The governing contract instance; its parties must be exactly the founders.
    #[arg(long)]
    instance: Option<Hash32>,
    /// Blocks an offered share is reserved for the other participants.
    #[arg(long, default_value_t = 20)]
    preemption_blocks: u64,
    #[command(flatten)]
    opts: TxOpts,
}

/// `NUM/DEN`, both positive.
pub fn parse_fraction(text: &str) -> Result<(u64, u64)> {
    let (num, den) = text
        .split_once('/')
        .with_context(|| format!("{text:?} is not a fraction NUM/DEN"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<u64>()
            .with_context(|| format!("{text:?}: {part:?} is not a whole number"))
    };
    let (num, den) = (parse(num)?, parse(den)?);
    if num == 0 || den == 0 {
        bail!("{text:?}: a share's numerator and denominator must be positive");
    }
    Ok((num, den))
}

/// Fractions over their least common denominator, exactly: the denominator and
/// each numerator. Refused unless they sum to exactly one.
pub fn common_denominator(shares: &[(u64, u64)]) -> Result<(u64, Vec<u64>)> {
    let too_large = || {
        format!("these shares need a denominator above {CONDO_DENOMINATOR_MAX}, the ledger's limit")
    };
    let reduced: Vec<(u64, u64)> = shares
        .iter()
        .map(|&(n, d)| (n / gcd(n, d), d / gcd(n, d)))
        .collect();
    let mut lcm: u64 = 1;
    for &(_, d) in &reduced {
        lcm = (lcm / gcd(lcm, d))
            .checked_mul(d)
            .filter(|l| *l <= CONDO_DENOMINATOR_MAX)
            .with_context(too_large)?;
    }
    let numerators = reduced
        .iter()
        .map(|&(n, d)| n.checked_mul(lcm / d))
        .collect::<Option<Vec<u64>>>()
        .with_context(too_large)?;
    let sum: u128 = numerators.iter().map(|n| u128::from(*n)).sum();
    if sum != u128::from(lcm) {
        bail!(
            "the shares sum to {sum}/{lcm}, not 1: the participation records must evidence \
             the whole of the rights (Art. 35 p.5)"
        );
    }
    Ok((lcm, numerators))
}

/// `NAME:NUM/DEN` items: the names, the denominator and the numerators.
pub fn founders(items: &[String]) -> Result<(Vec<String>, u64, Vec<u64>)> {
    let mut names = Vec::with_capacity(items.len());
    let mut shares = Vec::with_capacity(items.len());
    for item in items {
        let (name, fraction) = item
            .rsplit_once(':')
            .with_context(|| format!("--participant {item:?} must be NAME:NUM/DEN"))?;
        if names.iter().any(|n| n == name) {
            bail!("{name:?} is named twice: each participant holds one share (Art. 35 p.5)");
        }
        names.push(name.to_owned());
        shares.push(parse_fraction(fraction)?);
    }
    let (denominator, numerators) = common_denominator(&shares)?;
    Ok((names, denominator, numerators))
}

pub fn default_thresholds() -> Thresholds {
    Thresholds::default()
}

/// The defaults with each `KIND=NUM/DEN` applied.
pub fn thresholds(items: &[String]) -> Result<Thresholds> {
    let mut t = default_thresholds();
    for item in items {
        let (kind, fraction) = item
            .split_once('=')
            .with_context(|| format!("--threshold {item:?} must be KIND=NUM/DEN"))?;
        let (num, den) = parse_fraction(fraction)?;
        if num > den {
            bail!("threshold {item:?} is more than the whole: a threshold is a fraction in (0, 1]");
        }
        let f = Fraction { num, den };
        match kind.trim() {
            "use" => t.use_object = f,
            "lease" | "pledge" | "lease-or-pledge" | "lease_or_pledge" => t.lease_or_pledge = f,
            "sale" | "sell" | "terminate" | "sale-or-termination" | "sale_or_termination" => {
                t.sale_or_termination = f
            }
            "admit" => t.admit = f,
            "agreement" | "change-agreement" | "change_agreement" => t.change_agreement = f,
            "dissolve" => t.dissolve = f,
            other => bail!(
                "threshold kind {other:?} must be use, lease, sale, admit, agreement or dissolve"
            ),
        }
    }
    Ok(t)
}

pub(super) fn check_text(what: &str, text: &str, max: usize) -> Result<()> {
    if text.trim().is_empty() {
        bail!("the {what} must not be empty");
    }
    if text.len() > max {
        bail!("the {what} is {} bytes; the limit is {max}", text.len());
    }
    Ok(())
}

fn read_text(what: &str, path: &std::path::Path) -> Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    check_text(what, &text, AGREEMENT_BYTES_MAX)?;
    Ok(text)
}

impl AgreementText {
    pub(super) fn read(&self) -> Result<String> {
        match (&self.agreement_file, &self.agreement) {
            (Some(path), _) => read_text("agreement", path),
            (None, Some(text)) => {
                check_text("agreement", text, AGREEMENT_BYTES_MAX)?;
                Ok(text.clone())
            }
            (None, None) => bail!("give the agreement: --agreement-file FILE or --agreement TEXT"),
        }
    }
}

/// Governance as given, before names become subjects.
#[derive(Debug, PartialEq)]
pub enum GovernanceDraft {
    Voting(Thresholds),
    Representative {
        name: String,
        text: String,
        kinds: Vec<DecisionKind>,
        value_max: u64,
        thresholds: Thresholds,
    },
    Contract(Hash32),
}

pub fn governance_draft(args: &CreateArgs) -> Result<GovernanceDraft> {
    use GovernanceKind::*;
    let inferred = match (&args.instance, &args.representative) {
        (Some(_), _) => Contract,
        (None, Some(_)) => Representative,
        (None, None) => Voting,
    };
    let kind = args.governance.unwrap_or(inferred);
    let mandate_given = args.representative.is_some()
        || args.mandate_file.is_some()
        || !args.mandate_kinds.is_empty()
        || args.mandate_value_max.is_some();
    if kind != Representative && mandate_given {
        bail!("--representative and --mandate-* describe a representative: use --governance representative");
    }
    if kind != Contract && args.instance.is_some() {
        bail!("--instance names a governing contract: use --governance contract");
    }
    let thresholds = thresholds(&args.thresholds)?;
    Ok(match kind {
        Voting => GovernanceDraft::Voting(thresholds),
        Contract if !args.thresholds.is_empty() => {
            bail!("a governing contract decides by its own terms: drop --threshold")
        }
        Contract => GovernanceDraft::Contract(args.instance.context("--instance is required")?),
        Representative => {
            let (Some(name), Some(file)) = (&args.representative, &args.mandate_file) else {
                bail!("a representative needs --representative NAME and --mandate-file FILE (Art. 35 p.4: acting under a contract with the participants)");
            };
            if args.mandate_kinds.is_empty() {
                bail!("--mandate-kinds: which decisions (use, lease, sale) the representative takes alone");
            }
            let kinds = args
                .mandate_kinds
                .iter()
                .map(|k| mandate_kind(*k))
                .collect();
            GovernanceDraft::Representative {
                name: name.clone(),
                text: read_text("mandate", file)?,
                kinds,
                value_max: args.mandate_value_max.unwrap_or(0),
                thresholds,
            }
        }
    })
}

fn mandate_kind(kind: MandateKind) -> DecisionKind {
    match kind {
        MandateKind::Use => DecisionKind::Use,
        MandateKind::Lease => DecisionKind::LeaseOrPledge,
        MandateKind::Sale => DecisionKind::SaleOrTermination,
    }
}

async fn governance(r: &Resolver<'_>, draft: GovernanceDraft) -> Result<Governance> {
    Ok(match draft {
        GovernanceDraft::Voting(thresholds) => Governance::Voting { thresholds },
        GovernanceDraft::Contract(instance) => Governance::Contract { instance },
        GovernanceDraft::Representative {
            name,
            text,
            kinds,
            value_max,
            thresholds,
        } => {
            let mandate = Mandate {
                representative: r.subject(&name).await?,
                text,
                kinds,
                value_max,
            };
            Governance::Representative {
                mandate,
                thresholds,
            }
        }
    })
}

/// Other people must sign too: only a file can gather their signatures.
pub(super) fn needs_file(opts: &TxOpts, who: &str) -> Result<()> {
    if opts.out.is_none() {
        bail!(
            "{who} must sign too: write the transaction with --out FILE, have each of them run \
             `tamga tx sign FILE --from NAME` on their own machine, then `tamga tx submit FILE`"
        );
    }
    Ok(())
}

pub(super) async fn create_payload(
    r: &Resolver<'_>,
    args: CreateArgs,
) -> Result<(Payload, TxOpts)> {
    // Everything that can be checked here is, before anything is built.
    let (names, denominator, numerators) = founders(&args.participants)?;
    let agreement = args.agreement.read()?;
    let draft = governance_draft(&args)?;
    if args.preemption_blocks > CONDO_WINDOW_BLOCKS_MAX {
        bail!("--preemption-blocks must be at most {CONDO_WINDOW_BLOCKS_MAX}");
    }
    if names.len() > 1 {
        needs_file(&args.opts, "every founder")?;
    }
    let mut participants = Vec::with_capacity(names.len());
    for (name, numerator) in names.iter().zip(numerators) {
        let subject = r.subject(name).await?;
        if participants.iter().any(|f: &Founder| f.subject == subject) {
            bail!("{name:?} names a subject already listed: each participant holds one share");
        }
        participants.push(Founder { subject, numerator });
    }
    if args.opts.out.is_none() {
        let signer = r
            .subject_of_key(&keyring::resolve_public(r.home, &args.opts.from)?)
            .await?;
        if participants.iter().any(|f| f.subject != signer) {
            needs_file(&args.opts, "the founder")?;
        }
    }
    let payload = Payload::CondoCreate {
        agreement,
        denominator,
        participants,
        governance: governance(r, draft).await?,
        preemption_blocks: args.preemption_blocks,
    };
    Ok((payload, args.opts))
}
