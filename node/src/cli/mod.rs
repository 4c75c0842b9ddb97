//! The `tamga` command line (clap). Global flags: `--home`/`TAMGA_HOME`,
//! `--rpc-url`/`TAMGA_RPC`, `--output text|json`, `--log-format text|json` (a
//! node's log on stderr) and `--quiet` (no progress bars or progress lines).

mod cert;
mod certfile;
mod client;
mod condo;
mod condo_create;
mod condo_show;
mod contract;
mod dev;
mod doc;
mod events;
mod init;
mod keys;
mod output;
mod query;
mod resolve;
mod testnet;
mod tx;
mod txfile;
mod verify;

pub use client::RPC_ADDR_FILE;
pub use dev::dev_genesis;

use crate::config::{default_home, Home};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tamga",
    version,
    about = "Tamga ledger node: title records under the Digital Code of Kazakhstan"
)]
pub struct Cli {
    /// Node home (config, genesis, keys, data).
    #[arg(long, global = true, env = "TAMGA_HOME")]
    home: Option<PathBuf>,
    /// JSON-RPC URL of the node to talk to.
    #[arg(long, global = true, env = "TAMGA_RPC")]
    rpc_url: Option<String>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Format of a running node's log on stderr: text, or one JSON object a line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Show no progress: no bars, spinners or progress lines on stderr.
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `--log-format`, for the node commands that start logging.
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

#[derive(Subcommand)]
enum Command {
    /// Create a node home with a new validator key and a one-validator genesis.
    Init(init::InitArgs),
    /// Start the node in --home.
    Start(init::StartArgs),
    /// Start a throwaway single-validator devnet with well-known dev accounts.
    Dev(dev::DevArgs),
    /// Write node homes for a local multi-validator network (see scripts/devnet.sh).
    Testnet(testnet::TestnetArgs),
    /// Manage keys in HOME/keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Sign and submit a transaction.
    #[command(subcommand)]
    Tx(tx::TxCommand),
    /// Read from a running node.
    #[command(subcommand)]
    Query(query::QueryCommand),
    /// Smart contracts with mandatory human arbitration (Art. 67).
    #[command(subcommand)]
    Contract(contract::ContractCommand),
    /// Certificates: issue, revoke, status, revocation list, erasure (Art. 41, 55, 59).
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// Documents: anchor signatures to a file's hash, check them, certify them
    /// (Art. 55 p.1(4)).
    #[command(subcommand)]
    Doc(doc::DocCommand),
    /// Check a certificate file offline against a genesis file: no node, no
    /// network (Art. 62 p.1).
    Verify(verify::VerifyArgs),
}

pub struct Globals {
    pub home: Home,
    pub rpc_url: Option<String>,
    pub output: Output,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = LOG_FORMAT.set(cli.log_format);
    crate::progress::init(cli.quiet);
    let globals = Globals {
        home: Home(cli.home.clone().unwrap_or_else(default_home)),
        rpc_url: cli.rpc_url.clone(),
        output: cli.output,
    };
    let result = match cli.command {
        Command::Init(args) => init::init(&globals, args),
        Command::Start(args) => init::start(&globals, args),
        Command::Dev(args) => dev::dev(&globals, args),
        Command::Testnet(args) => testnet::testnet(&globals, args),
        Command::Keys(cmd) => keys::run(&globals, cmd),
        Command::Tx(cmd) => tx::run(&globals, cmd),
        Command::Query(cmd) => query::run(&globals, cmd),
        Command::Contract(cmd) => contract::run(&globals, cmd),
        Command::Cert(cmd) => cert::run(&globals, cmd),
        Command::Doc(cmd) => doc::run(&globals, cmd),
        Command::Verify(args) => verify::verify(&globals, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(globals.output, &e);
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr; `TAMGA_LOG` overrides the filter. By default the consensus
/// engine and libp2p speak only of problems; a lone validator (`dev`) also hides
/// the engine's complaints that no peer hears its gossip.
pub(crate) fn init_logging(lone_validator: bool) {
    let engine = "arc_malachitebft_core_consensus=warn,arc_malachitebft_engine=warn,\
        arc_malachitebft_sync=warn,arc_malachitebft_discovery=warn,arc_malachitebft_wal=warn,\
        libp2p_swarm=warn,libp2p_gossipsub=warn";
    let network = if lone_validator { "off" } else { "warn" };
    let default = format!("info,{engine},arc_malachitebft_network={network}");
    let filter = tracing_subscriber::EnvFilter::try_from_env("TAMGA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::progress::StderrAroundBars);
    let _ = match LOG_FORMAT.get().copied().unwrap_or(LogFormat::Text) {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => {
            crate::progress::log_is_json();
            logs.json().try_init()
        }
    };
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
