//! `tamga verify CERT --genesis GENESIS_JSON`: checks a certificate file offline
//! (Art. 62 p.1: an electronic document "must be capable of being circulated and
//! stored outside the digital system, in which it was created, without altering
//! its properties"). No node, no network, no home: the genesis file is the one
//! thing trusted, and the check is `tamga_verify`'s, the same any other program
//! embedding that crate runs. A refused file prints `REFUSED: <why>` on standard
//! error and exits non-zero.

use super::certfile::read_bounded;
use super::output::Reported;
use super::{Globals, Output};
use anyhow::Result;
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};
use tamga_runtime::Genesis;
use tamga_verify::format::CERTIFICATE_BYTES_MAX;
use tamga_verify::{Verified, VerifyError};

/// Largest genesis file read: far above any real one.
const GENESIS_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Args)]
pub struct VerifyArgs {
    /// The certificate file (`tamga query record ID --certificate FILE`,
    /// `tamga doc certificate FILE`).
    pub certificate: PathBuf,
    /// The chain's genesis file: the one thing a verifier trusts.
    #[arg(long, value_name = "GENESIS_JSON")]
    pub genesis: PathBuf,
    /// For a document certificate: the file itself. Its blake3 hash must be the
    /// certified document's (one changed byte, and it is refused).
    #[arg(long, value_name = "FILE")]
    pub document: Option<PathBuf>,
}

pub fn verify(globals: &Globals, args: VerifyArgs) -> Result<()> {
    let mut verdict = check(&args.certificate, &args.genesis)?;
    if let (Ok(verified), Some(file)) = (&verdict, &args.document) {
        let given = super::doc::hash_file(file)?;
        if let Err(refused) = tamga_verify::check_document(verified, &given) {
            verdict = Err(refused);
        }
    }
    match verdict {
        Ok(verified) => {
            show(globals.output, &verified);
            Ok(())
        }
        Err(refused) => {
            eprintln!("REFUSED: {refused}");
            if globals.output == Output::Json {
                let value = json!({ "error": { "reason": "certificate.refused", "message": refused.to_string() } });
                println!("{}", serde_json::to_string_pretty(&value)?);
            }
            Err(Reported(format!("REFUSED: {refused}")).into())
        }
    }
}

fn show(output: Output, verified: &Verified) {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(verified).expect("a verified report prints as JSON")
        ),
        Output::Text => print!("{}", tamga_verify::render(verified)),
    }
}

/// The verdict; `Err` only when a file cannot be read at all.
pub fn check(certificate: &Path, genesis: &Path) -> Result<Result<Verified, VerifyError>> {
    let genesis = match read_genesis(genesis)? {
        Ok(genesis) => genesis,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(match read_bounded(certificate, CERTIFICATE_BYTES_MAX)? {
        Ok(bytes) => tamga_verify::verify_bytes(&bytes, &genesis),
        Err(len) => Err(VerifyError::TooLarge {
            len: usize::try_from(len).unwrap_or(usize::MAX),
            max: CERTIFICATE_BYTES_MAX,
        }),
    })
}

/// The trusted genesis, parsed and checked as a node checks its own.
fn read_genesis(path: &Path) -> Result<Result<Genesis, VerifyError>> {
    let bad = |why: String| {
        Ok(Err(VerifyError::BadGenesis(format!(
            "{}: {why}",
            path.display()
        ))))
    };
    let bytes = match read_bounded(path, GENESIS_BYTES_MAX)? {
        Ok(bytes) => bytes,
        Err(len) => return bad(format!("{len} bytes, more than {GENESIS_BYTES_MAX}")),
    };
    let genesis: Genesis = match serde_json::from_slice(&bytes) {
        Ok(genesis) => genesis,
        Err(e) => return bad(e.to_string()),
    };
    match genesis.validate() {
        Ok(()) => Ok(Ok(genesis)),
        Err(e) => bad(e.to_string()),
    }
}
