//! Certificate files from the command line: fetched from the node
//! (`record_certificate`, `doc_certificate`), checked to be a certificate of what
//! was asked for, and written out as the binary file `tamga verify` reads, to a
//! path or to standard output (never to a terminal). Read back with a size bound,
//! so a hostile file cannot exhaust memory.

use super::client::Client;
use super::output::print;
use super::Globals;
use anyhow::{bail, Context, Result};
use serde_json::json;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use tamga_verify::{Certificate, Claim};

/// A certificate the node handed out: the file's bytes and the certified height.
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub height: u64,
}

/// Asks the node for a certificate of `claim` at `height` (the tip if none).
pub async fn fetch(client: &Client, claim: Claim, height: Option<u64>) -> Result<Fetched> {
    let file = match &claim {
        Claim::Record { id } => client.record_certificate(*id, height).await?,
        Claim::Document { hash } => client.doc_certificate(*hash, height).await?,
    };
    let bytes = file.certificate.0;
    let cert = Certificate::from_bytes(&bytes)
        .context("the node returned a certificate this tamga cannot read")?;
    if cert.claim != claim {
        let (got, asked) = (what(&cert.claim), what(&claim));
        bail!("the node returned a certificate of {got}, not of {asked}");
    }
    if height.is_some_and(|h| h != cert.header.height) {
        bail!(
            "the node returned a certificate of another height ({})",
            cert.header.height
        );
    }
    Ok(Fetched {
        bytes,
        height: cert.header.height,
    })
}

fn what(claim: &Claim) -> String {
    match claim {
        Claim::Record { id } => format!("record {id}"),
        Claim::Document { hash } => format!("document {hash}"),
    }
}

/// Refuses to send binary to a terminal, before anything is asked of the node.
pub fn check_stdout() -> Result<()> {
    if std::io::stdout().is_terminal() {
        bail!("a certificate is binary: redirect standard output to a file (`> doc.tamga`) or pass --out PATH");
    }
    Ok(())
}

/// Writes the file whole or not at all (a temporary file beside it, renamed).
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Writes the certificate to standard output.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("writing the certificate to standard output")
}

/// Where it was written, its height and size: `{path, height, bytes}` in JSON.
pub fn report(globals: &Globals, path: &Path, fetched: &Fetched) {
    let value = json!({ "path": path, "height": fetched.height, "bytes": fetched.bytes.len() });
    print(globals.output, &value, || {
        format!(
            "certificate written to {} (height {}, {} bytes): check it offline with `tamga verify {} --genesis GENESIS_JSON`",
            path.display(),
            fetched.height,
            fetched.bytes.len(),
            path.display()
        )
    });
}

/// A file's bytes, or `Err(len)` when it holds more than `max`: the length is
/// checked before reading, and the read stops past `max` whatever the file claims.
pub fn read_bounded(path: &Path, max: usize) -> Result<std::result::Result<Vec<u8>, u64>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let len = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let limit = u64::try_from(max).unwrap_or(u64::MAX);
    if len > limit {
        return Ok(Err(len));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > max {
        return Ok(Err(bytes.len() as u64));
    }
    Ok(Ok(bytes))
}
