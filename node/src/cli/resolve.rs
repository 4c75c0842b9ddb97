//! Turning what people type into the ids the ledger uses. Rights belong to
//! subjects, so `--owner alice` means the subject alice's key is certified for:
//! a key name from the keyring (or a public key) is looked up on the node
//! (`cert_status`), and a 64-hex id already naming a subject is taken as is.

use super::client::{rpc_error, Client};
use crate::keyring;
use anyhow::{bail, Context, Result};
use std::path::Path;
use tamga_runtime::{PublicKey, SubjectId};

pub struct Resolver<'a> {
    pub client: &'a Client,
    pub home: &'a Path,
}

fn not_found(error: &anyhow::Error) -> bool {
    rpc_error(error).is_some_and(|e| e.reason.starts_with("not_found"))
}

impl Resolver<'_> {
    /// The subject `text` names: a key name, a certified public key, or a subject id.
    pub async fn subject(&self, text: &str) -> Result<SubjectId> {
        let as_name = keyring::check_name(text).is_ok() && !is_hex64(text);
        if as_name {
            let key = keyring::resolve_public(self.home, text)?;
            return self
                .subject_of_key(&key)
                .await
                .with_context(|| format!("{text:?} (key {key})"));
        }
        let id = SubjectId::from_hex(text)
            .with_context(|| format!("{text:?} is neither a key name nor a 64-hex id"))?;
        match self
            .client
            .subject_get(id)
            .await
            .map_err(anyhow::Error::from)
        {
            Ok(_) => Ok(id),
            Err(e) if not_found(&e) => self.subject_of_key(&PublicKey(id.0)).await,
            Err(e) => Err(e),
        }
    }

    /// The subject `key`'s certificate names, if that certificate is valid now:
    /// a revoked one (for false data, say) may name the wrong person, so a
    /// record is never sent by it; name the subject by its id instead.
    pub async fn subject_of_key(&self, key: &PublicKey) -> Result<SubjectId> {
        let found = self.client.cert_status(*key, None).await;
        match found.map_err(anyhow::Error::from) {
            Ok(found) => {
                if !found.status.is_valid() {
                    let status = serde_json::to_value(&found.status)?;
                    bail!(
                        "key {key}'s certificate is {}: name the subject by its id instead",
                        status["status"]
                    );
                }
                Ok(found.certificate.subject)
            }
            Err(e) if not_found(&e) => {
                bail!("no certificate names key {key}: it speaks for no subject (Art. 49 p.2)")
            }
            Err(e) => Err(e),
        }
    }

    pub async fn subjects(&self, texts: &[String]) -> Result<Vec<SubjectId>> {
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            out.push(self.subject(text).await?);
        }
        Ok(out)
    }
}

fn is_hex64(text: &str) -> bool {
    let text = text.strip_prefix("0x").unwrap_or(text);
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
