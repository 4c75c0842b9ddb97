//! Transactions that several people sign, each on their own machine, without
//! anyone handing a private key to anyone (Art. 51 p.3). `tamga tx ... --out
//! FILE` writes the transaction, signed by `--from` if that key is here; `tamga tx
//! show FILE` says in plain words what it does and who has signed (Art. 50 p.3(1):
//! review before signing); `tamga tx sign FILE --from NAME` adds one signature
//! after an explicit confirmation (p.3(2)) and reports it (p.3(3)); `tamga tx
//! submit FILE` sends it. The file names its format version; a file whose
//! transaction was altered after signing fails every signature check.

use super::output::print;
use super::Globals;
use crate::keyring;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use tamga_runtime::execute::verify_signature;
use tamga_runtime::types::{Cosignature, Payload, SignedTx, Transaction};
use tamga_runtime::{Hash32, PublicKey, Signature};

pub const FORMAT: &str = "tamga-tx/1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TxFile {
    pub format: String,
    /// The signing hash (also the transaction id), for people comparing files.
    pub hash: Hash32,
    pub tx: Transaction,
    /// The signer's signature, once made.
    pub signature: Option<Signature>,
    pub cosignatures: Vec<Cosignature>,
}

impl TxFile {
    pub fn new(tx: Transaction) -> Self {
        TxFile {
            format: FORMAT.into(),
            hash: tx.signing_hash(),
            tx,
            signature: None,
            cosignatures: vec![],
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let file: TxFile = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a transaction file", path.display()))?;
        if file.format != FORMAT {
            bail!(
                "{}: format {:?} is not {FORMAT:?}, the one this tamga reads",
                path.display(),
                file.format
            );
        }
        if file.tx.signing_hash() != file.hash {
            bail!(
                "{}: the transaction does not hash to the file's `hash`: it was altered",
                path.display()
            );
        }
        for (key, signature) in file.signatures() {
            if !verify_signature(&key, &file.hash, &signature) {
                bail!(
                    "{}: the signature of {key} does not verify: the file was altered",
                    path.display()
                );
            }
        }
        Ok(file)
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
    }

    /// Every signature so far, the signer's first.
    pub fn signatures(&self) -> Vec<(PublicKey, Signature)> {
        let own = self.signature.map(|s| (self.tx.signer, s));
        own.into_iter()
            .chain(self.cosignatures.iter().map(|c| (c.signer, c.signature)))
            .collect()
    }

    /// Adds `key`'s signature: the signer's own, or a co-signature.
    pub fn sign(&mut self, key: &ed25519_dalek::SigningKey) -> Result<()> {
        use ed25519_dalek::Signer;
        let public = PublicKey::of(key);
        if self.signatures().iter().any(|(k, _)| *k == public) {
            bail!("{public} has already signed this transaction");
        }
        let signature = Signature(key.sign(&self.hash.0).to_bytes());
        if public == self.tx.signer {
            self.signature = Some(signature);
        } else {
            self.cosignatures.push(Cosignature {
                signer: public,
                signature,
            });
        }
        Ok(())
    }

    pub fn signed(&self) -> Result<SignedTx> {
        let Some(signature) = self.signature else {
            bail!(
                "the signer {} has not signed yet (tamga tx sign FILE --from <their key>)",
                self.tx.signer
            );
        };
        Ok(SignedTx {
            tx: self.tx.clone(),
            signature,
            cosignatures: self.cosignatures.clone(),
        })
    }
}

fn short(text: impl std::fmt::Display) -> String {
    let text = text.to_string();
    format!("{}…", &text[..text.len().min(12)])
}

fn list(subjects: &[tamga_runtime::SubjectId]) -> String {
    let all: Vec<String> = subjects.iter().map(|s| format!("subject {s}")).collect();
    all.join(", ")
}

/// Bytes for a reviewer: hex, the first 64 bytes in full.
fn shown(bytes: &[u8]) -> String {
    match bytes.len() {
        0 => "(none)".into(),
        n if n <= 64 => hex::encode(bytes),
        n => format!("{}… ({n} bytes)", hex::encode(&bytes[..64])),
    }
}

/// What a payload does, in words.
pub fn describe(payload: &Payload) -> String {
    match payload {
        Payload::RegisterClass { category, name, unit, national } => format!(
            "Register a {category:?} class {name:?} counted in {unit:?}{}",
            if *national { ", national" } else { "" }
        ),
        Payload::Register { category, description, owner, national, quantity } => format!(
            "Register a {category:?} record {description:?} owned by subject {owner}{}{}",
            quantity.map(|q| format!(", {} of class {}", q.amount, short(q.class))).unwrap_or_default(),
            if *national { ", as a national object" } else { "" }
        ),
        Payload::Transfer { record, to, amount } => format!(
            "Transfer {} record {record} to subject {to}",
            amount.map(|a| format!("{a} of")).unwrap_or_else(|| "the whole of".into())
        ),
        Payload::Encumber { record, kind, holder, document } => format!(
            "Put a {kind:?} on record {record} in favour of subject {holder}{}",
            document.map(|d| format!(", citing document {d}")).unwrap_or_default()
        ),
        Payload::Release { record, encumbrance } => format!("Release encumbrance #{encumbrance} of record {record}"),
        Payload::Terminate { record } => format!("Terminate the rights record {record} certifies"),
        Payload::Deploy {
            code,
            terms,
            arbitration,
        } => format!(
            "Deploy a contract ({} bytes of Wasm) with terms:\n{terms}\narbitrated by {} (quorum {}, deadline {} blocks{})",
            code.0.len(),
            list(&arbitration.arbiters),
            arbitration.quorum,
            arbitration.deadline_blocks,
            arbitration
                .appeal
                .map(|a| format!(", appeal to {a}"))
                .unwrap_or_default()
        ),
        Payload::Instantiate {
            contract,
            parties,
            init_args,
        } => format!(
            "Propose an instance of contract {contract} between {} with init arguments {} (signing accepts it)",
            list(parties),
            shown(&init_args.0)
        ),
        Payload::Accept { instance, .. } => format!("Accept instance {instance}: its code, terms and init arguments"),
        Payload::Deposit { instance, record, amount } => format!(
            "Deposit {} record {record} into instance {instance}'s custody",
            amount.map(|a| format!("{a} of")).unwrap_or_else(|| "the whole of".into())
        ),
        Payload::Call { instance, input } => {
            format!("Call instance {instance} with input {}", shown(&input.0))
        }
        Payload::Dispute { instance, reason } => format!("Open a dispute on instance {instance}, citing document {reason}: it freezes until the arbiters rule"),
        Payload::Rule { instance, decision, decision_text } => format!("Rule on instance {instance}'s dispute: {decision:?} (decision text {decision_text})"),
        Payload::SetValidators { validators } => format!(
            "Replace the validator set with {} validator(s): {}",
            validators.len(),
            validators.iter().map(|v| format!("{} (power {})", short(v.public_key), v.power)).collect::<Vec<_>>().join(", ")
        ),
        Payload::IssueCertificate { subject, key, roles, valid_until, .. } => format!(
            "Certify key {key} for {subject:?} with roles {roles:?}, valid until {valid_until:?}"
        ),
        Payload::RevokeCertificate { certificate, reason, effective_height, .. } => format!(
            "Revoke certificate {certificate} ({reason:?}, {}), from height {}",
            reason.article(),
            effective_height.map(|h| h.to_string()).unwrap_or_else(|| "of inclusion".into())
        ),
        Payload::ErasePersonalData { subject } => format!("Erase subject {subject}'s personal data from every vault (Art. 41)"),
        Payload::AnchorDocument { document } => format!("Anchor your signature to the document whose blake3 hash is {document}, at this block's time (Art. 55 p.1(4))"),
        Payload::CondoCreate { .. }
        | Payload::CondoAttach { .. }
        | Payload::CondoPropose { .. }
        | Payload::CondoVote { .. }
        | Payload::CondoAct { .. }
        | Payload::CondoOffer { .. }
        | Payload::CondoTake { .. } => super::condo_show::describe(payload).unwrap_or_default(),
    }
}

/// The review text of a transaction file.
pub fn review(file: &TxFile) -> String {
    let mut lines = vec![
        format!("transaction {}", file.hash),
        format!("chain       {}", file.tx.chain_id),
        format!("signer      {} (nonce {})", file.tx.signer, file.tx.nonce),
        format!("does        {}", describe(&file.tx.payload)),
    ];
    if let Some(condo) = super::condo_show::created_condo(&file.hash, &file.tx.payload) {
        lines.push(format!("creates     condominium {condo}"));
    }
    let signatures = file.signatures();
    if signatures.is_empty() {
        lines.push("signed by   nobody yet".into());
    }
    for (key, _) in signatures {
        let role = if key == file.tx.signer {
            "signer"
        } else {
            "co-signer"
        };
        lines.push(format!("signed by   {key} ({role}; signature verifies)"));
    }
    if file.signature.is_none() {
        lines.push(format!("waiting for {} (the signer)", file.tx.signer));
    }
    lines.join("\n")
}

pub fn show(globals: &Globals, path: &Path) -> Result<()> {
    let file = TxFile::read(path)?;
    let mut value = json!({
        "file": file,
        "description": describe(&file.tx.payload),
        "signed_by": file.signatures().iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        "complete": file.signature.is_some(),
    });
    if let Some(condo) = super::condo_show::created_condo(&file.hash, &file.tx.payload) {
        value["condo"] = json!(condo);
    }
    print(globals.output, &value, || review(&file));
    Ok(())
}

/// Asks on the terminal; refuses without one unless `yes` (Art. 50 p.3(2): a
/// signature only after explicit confirmation).
fn confirm(yes: bool, file: &TxFile, as_key: &PublicKey) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("no terminal to confirm on: review with `tamga tx show`, then pass --yes to sign");
    }
    eprintln!(
        "{}\n\nSign this transaction as {as_key}? [y/N] ",
        review(file)
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        bail!("not signed");
    }
    Ok(())
}

pub fn sign(globals: &Globals, path: &Path, from: &str, yes: bool) -> Result<()> {
    let mut file = TxFile::read(path)?;
    let key = keyring::load(&globals.home.0, from)?;
    let public = PublicKey::of(&key);
    confirm(yes, &file, &public)?;
    file.sign(&key)?;
    file.write(path)?;
    let value = json!({ "hash": file.hash, "signed_by": public, "file": path, "complete": file.signature.is_some() });
    print(globals.output, &value, || {
        format!(
            "{public} signed transaction {} in {}",
            file.hash,
            path.display()
        )
    });
    Ok(())
}
