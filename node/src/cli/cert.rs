//! `tamga cert ...`: the certification authority's side of the ledger (Art. 55):
//! issue a certificate binding a key to a subject (its IIN or BIN checked here
//! and by the node, kept only in the issuing node's vault, Art. 41), revoke one on
//! a ground of Art. 59, check status online, list revocations, and erase a
//! subject's personal data.

use super::output::print;
use super::resolve::Resolver;
use super::tx::{submit, wait_committed, TxOpts};
use super::Globals;
use crate::keyring;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use rand::RngCore;
use serde_json::{json, Value};
use tamga_client::PersonalData;
use tamga_runtime::pki::identifier::{self, SALT_BYTES};
use tamga_runtime::pki::{Point, RevocationReason, Role, SubjectKind, SubjectRef};
use tamga_runtime::types::{Payload, Transaction};
use tamga_runtime::Hash32;

/// Default validity of a certificate: one year of block time.
const VALID_DAYS_DEFAULT: u64 = 365;

#[derive(Subcommand)]
pub enum CertCommand {
    /// Issue a certificate (the signer must be a certification authority).
    Issue(IssueArgs),
    /// Revoke a certificate on one of Art. 59's grounds.
    Revoke {
        certificate: Hash32,
        #[arg(long, value_enum)]
        reason: Reason,
        /// The first height at which the key can do nothing (default: now).
        #[arg(long)]
        effective_height: Option<u64>,
        /// Hash of the notification or ruling behind it.
        #[arg(long)]
        document: Option<Hash32>,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// The online status service (Art. 55 p.1(5)): a certificate, or the
    /// certificate a key (name or hex) is bound to, at a height (default: now).
    Status {
        what: String,
        #[arg(long)]
        height: Option<u64>,
    },
    /// A subject's certificates, or (--revoked) the revocation list.
    List {
        /// Key name, certified key or subject id.
        #[arg(long, conflicts_with = "revoked")]
        subject: Option<String>,
        #[arg(long)]
        revoked: bool,
        /// With --revoked: revocations recorded from this height.
        #[arg(long, requires = "revoked")]
        from_height: Option<u64>,
    },
    /// Erase a subject's personal data from every vault (Art. 41): signed by the
    /// subject, or ordered by a certification authority.
    Erase {
        subject: String,
        #[command(flatten)]
        opts: TxOpts,
    },
    /// The clear identifier and names this node's vault keeps for a subject
    /// (needs the node's API token).
    Identity {
        subject: String,
        #[arg(long, env = "TAMGA_API_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// Check an identifier and its salt against a subject's commitment.
    Check {
        subject: String,
        #[arg(long)]
        identifier: String,
        #[arg(long)]
        salt: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Individual,
    LegalEntity,
    StateBody,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Registrar,
    Court,
    Arbiter,
    Authority,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Reason {
    HolderRequest,
    FalseData,
    Death,
    NameChange,
    EntityChange,
    CourtRuling,
}

#[derive(Args)]
pub struct IssueArgs {
    /// The key to certify: a key name or a hex public key (the holder keeps the
    /// private key; the authority never sees it).
    #[arg(long)]
    key: String,
    /// A new subject's kind (with --identifier).
    #[arg(long, value_enum, requires = "identifier", conflicts_with = "subject")]
    kind: Option<Kind>,
    /// A new subject's IIN (individual) or BIN (legal entity, state body).
    #[arg(long, requires = "kind")]
    identifier: Option<String>,
    /// An existing subject (a new key for it): key name, certified key or id.
    #[arg(long)]
    subject: Option<String>,
    /// The holder's name, as the certificate commits to it.
    #[arg(long)]
    name: String,
    #[arg(long = "role", value_enum)]
    roles: Vec<RoleArg>,
    /// First height of validity (default: the height it is included at).
    #[arg(long)]
    valid_from_height: Option<u64>,
    /// Last height is the one before this.
    #[arg(long, conflicts_with = "valid_days")]
    valid_until_height: Option<u64>,
    /// Days of block time it stays valid.
    #[arg(long)]
    valid_days: Option<u64>,
    /// The issuing node's API token (default: [vault] api_token in HOME/config.toml).
    #[arg(long, env = "TAMGA_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The certification authority's key.
    #[arg(long)]
    from: String,
}

fn kind(k: Kind) -> SubjectKind {
    match k {
        Kind::Individual => SubjectKind::Individual,
        Kind::LegalEntity => SubjectKind::LegalEntity,
        Kind::StateBody => SubjectKind::StateBody,
    }
}

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::Registrar => Role::Registrar,
        RoleArg::Court => Role::Court,
        RoleArg::Arbiter => Role::Arbiter,
        RoleArg::Authority => Role::Authority,
    }
}

fn reason(r: Reason) -> RevocationReason {
    match r {
        Reason::HolderRequest => RevocationReason::HolderRequest,
        Reason::FalseData => RevocationReason::FalseData,
        Reason::Death => RevocationReason::Death,
        Reason::NameChange => RevocationReason::NameChange,
        Reason::EntityChange => RevocationReason::EntityChange,
        Reason::CourtRuling => RevocationReason::CourtRuling,
    }
}

fn salt() -> [u8; SALT_BYTES] {
    let mut salt = [0u8; SALT_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    salt
}

/// `--token`, else the home's own node config.
fn token(globals: &Globals, given: Option<String>) -> Result<String> {
    if let Some(token) = given {
        return Ok(token);
    }
    let config = globals.home.load_config().ok();
    config.and_then(|c| c.vault.api_token).context(
        "no API token: pass --token (or TAMGA_API_TOKEN), or use the issuing node's --home",
    )
}

pub fn run(globals: &Globals, command: CertCommand) -> Result<()> {
    super::runtime()?.block_on(async {
        let client = super::client::connect(globals)?;
        let r = Resolver {
            client: &client,
            home: &globals.home.0,
        };
        let value: Value = match command {
            CertCommand::Issue(args) => return issue(globals, &r, args).await,
            CertCommand::Revoke {
                certificate,
                reason: why,
                effective_height,
                document,
                opts,
            } => {
                let payload = Payload::RevokeCertificate {
                    certificate,
                    reason: reason(why),
                    effective_height,
                    document,
                };
                return submit(globals, payload, opts).await;
            }
            CertCommand::Erase { subject, opts } => {
                let subject = r.subject(&subject).await?;
                return submit(globals, Payload::ErasePersonalData { subject }, opts).await;
            }
            CertCommand::Status { what, height } => {
                let id = match Hash32::from_hex(&what) {
                    Ok(id) => id,
                    Err(_) => Hash32(keyring::resolve_public(r.home, &what)?.0),
                };
                serde_json::to_value(client.cert_status(id, height).await?)?
            }
            CertCommand::List {
                subject: Some(subject),
                ..
            } => {
                let subject = r.subject(&subject).await?;
                serde_json::to_value(client.cert_by_subject(subject, None, None).await?)?
            }
            CertCommand::List { from_height, .. } => {
                let from = Some(from_height.unwrap_or(0));
                serde_json::to_value(client.cert_revocations(from, None, None).await?)?
            }
            CertCommand::Identity { subject, token: t } => {
                let subject = r.subject(&subject).await?;
                let token = token(globals, t)?;
                serde_json::to_value(client.cert_identity(subject, &token).await?)?
            }
            CertCommand::Check {
                subject,
                identifier,
                salt,
            } => {
                let subject = r.subject(&subject).await?;
                let checked = client.cert_check_identifier(subject, &identifier, &salt);
                serde_json::to_value(checked.await?)?
            }
        };
        print(globals.output, &value, || {
            serde_json::to_string_pretty(&value).expect("JSON values print")
        });
        Ok(())
    })
}

/// The subject a certificate is for, and the clear data the vault gets.
async fn subject_and_data(
    r: &Resolver<'_>,
    args: &IssueArgs,
) -> Result<(SubjectRef, PersonalData, Hash32)> {
    let name_salt = salt();
    let mut personal = PersonalData {
        identifier: None,
        identifier_salt: None,
        name: args.name.clone(),
        name_salt: hex::encode(name_salt),
    };
    let subject = match (&args.subject, args.kind, &args.identifier) {
        (Some(existing), _, _) => SubjectRef::Existing {
            subject: r.subject(existing).await?,
        },
        (None, Some(k), Some(value)) => {
            let k = kind(k);
            identifier::validate(k, value)?;
            if k == SubjectKind::Individual {
                identifier::check_age(value, crate::clock::today())?;
            }
            let id_salt = salt();
            personal.identifier = Some(value.clone());
            personal.identifier_salt = Some(hex::encode(id_salt));
            SubjectRef::New {
                kind: k,
                identifier: identifier::identifier_commitment(k, value, &id_salt),
            }
        }
        _ => bail!("name the subject: --subject for an existing one, or --kind and --identifier"),
    };
    let name = identifier::name_commitment(&args.name, &name_salt);
    Ok((subject, personal, name))
}

async fn issue(globals: &Globals, r: &Resolver<'_>, args: IssueArgs) -> Result<()> {
    let token = token(globals, args.token.clone())?;
    let key = keyring::resolve_public(r.home, &args.key)?;
    let (subject, personal, name) = subject_and_data(r, &args).await?;
    let valid_until = match args.valid_until_height {
        Some(height) => Point::Height(height),
        None => {
            let days = args.valid_days.unwrap_or(VALID_DAYS_DEFAULT);
            Point::TimeMs(crate::clock::now_ms() + days * 86_400_000)
        }
    };
    let payload = Payload::IssueCertificate {
        subject,
        key,
        name,
        roles: args.roles.iter().copied().map(role).collect(),
        valid_from: args.valid_from_height.map(Point::Height),
        valid_until,
    };
    let signer = keyring::load(r.home, &args.from)?;
    let tx: Transaction =
        super::tx::build(r.client, payload, tamga_runtime::PublicKey::of(&signer)).await?;
    let signed = tx.sign(&signer);
    let issued = r.client.cert_issue(&signed, &personal, &token).await?;
    let result = wait_committed(r.client, &signed.id()).await?;
    let value = json!({
        "hash": signed.id(),
        "height": result["height"],
        "certificate": result["certificate"],
        "subject": issued.subject,
        "key": key,
    });
    print(globals.output, &value, || {
        format!(
            "certificate {} binds key {key} to subject {} (height {})",
            value["certificate"].as_str().unwrap_or(""),
            value["subject"].as_str().unwrap_or(""),
            value["height"]
        )
    });
    Ok(())
}
