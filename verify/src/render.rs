//! A verified certificate in sentences, for a person: what is certified, at which
//! block and time, by which validators, and who signed each change (Art. 50
//! p.4(2)-(3): the result of the check and the signers' certificate data).

use crate::report::{DocumentFinding, Finding, RecordFinding, SignerFinding, Verified};
use crate::time::utc;
use std::fmt::Write;
use tamga_runtime::pki::{CertStatus, Certificate, Point};
use tamga_runtime::records::{Asset, Event, ProvenanceEntry, RecordStatus};

/// The whole report as text.
pub fn render(v: &Verified) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "VERIFIED: certificate format {}, chain {}",
        v.format_version, v.chain_id
    );
    let _ = writeln!(out, "genesis:       {}", v.genesis_hash);
    let _ = writeln!(out, "height:        {}", v.height);
    let _ = writeln!(out, "block time:    {} ({} ms)", v.time_utc, v.time_ms);
    let _ = writeln!(out, "block:         {}", v.block_hash);
    let _ = writeln!(out, "state root:    {}", v.state_root);
    let _ = writeln!(
        out,
        "certified by:  {} validators holding {} of {} voting power (more than 2/3), the set followed from genesis through {} change(s)",
        v.certified_by.len(),
        v.signed_power,
        v.total_power,
        v.validator_set_changes
    );
    for c in &v.certified_by {
        let _ = writeln!(out, "  validator {} (power {})", c.validator, c.power);
    }
    match &v.finding {
        Finding::Record(r) => record(&mut out, r, v.height),
        Finding::Document(d) => document(&mut out, d, v.height),
    }
    out
}

fn record(out: &mut String, r: &RecordFinding, height: u64) {
    let Some(rec) = &r.record else {
        let _ = writeln!(
            out,
            "record {}: NO SUCH RECORD at height {height}: no record with this id was ever registered up to this height",
            r.id
        );
        return;
    };
    let _ = writeln!(out, "record:        {}", r.id);
    // Debug quoting escapes control characters: a description cannot forge lines.
    let _ = writeln!(
        out,
        "object:        {:?}, {:?}",
        rec.category, rec.description
    );
    let _ = writeln!(out, "owner:         subject {}", rec.owner);
    let status = match rec.status {
        RecordStatus::Active => "active",
        RecordStatus::Terminated => "TERMINATED (rights ended)",
    };
    let _ = writeln!(
        out,
        "status:        {status}{}",
        if rec.national {
            ", national object (Art. 34)"
        } else {
            ""
        }
    );
    let scope = match &rec.asset {
        Asset::Unique => "the whole of one object".to_owned(),
        Asset::Fungible { class, amount } => format!("{amount} units of class {class}"),
        Asset::Share { condo, numerator } => match &r.share {
            Some(s) => format!(
                "a share of {}/{} in condominium {} ({:?})",
                s.numerator, s.denominator, s.condo, s.condo_status
            ),
            None => format!("{numerator} parts of condominium {condo}"),
        },
    };
    let _ = writeln!(out, "scope:         {scope}");
    let _ = writeln!(
        out,
        "registered:    at height {} by subject {}",
        rec.registered_height, rec.registered_by
    );
    if rec.encumbrances.is_empty() {
        let _ = writeln!(out, "encumbrances:  none");
    }
    for e in &rec.encumbrances {
        let doc = e
            .document
            .map(|d| format!(", document {d}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "encumbrance:   #{} {:?} held by subject {} since height {}{doc}",
            e.id, e.kind, e.holder, e.since_height
        );
    }
    let absent: Vec<String> = r
        .absent_encumbrances
        .iter()
        .map(|k| format!("{k:?}").to_lowercase())
        .collect();
    if !absent.is_empty() {
        let _ = writeln!(out, "carries no:    {}", absent.join(", "));
    }
    let _ = writeln!(
        out,
        "arrested:      {}",
        if r.arrested { "YES" } else { "no" }
    );
    if let Some(p) = &r.provenance {
        let _ = writeln!(
            out,
            "provenance:    {} entries{}",
            p.total,
            if p.earlier > 0 {
                format!(
                    ", the latest {} shown; {} earlier committed by the proven digest",
                    p.entries.len(),
                    p.earlier
                )
            } else {
                String::new()
            }
        );
        for entry in &p.entries {
            let _ = writeln!(out, "  {}", provenance_line(entry));
        }
    }
    signers(out, &r.signers);
}

fn provenance_line(e: &ProvenanceEntry) -> String {
    let keys: Vec<String> = e.signers.iter().map(|s| s.key.to_string()).collect();
    format!(
        "height {} ({}): {}; tx {}, signed by {}",
        e.height,
        utc(e.time_ms),
        event(&e.event),
        e.tx,
        keys.join(", ")
    )
}

fn event(e: &Event) -> String {
    match e {
        Event::Registered {
            owner, registrar, ..
        } => format!("registered to {owner} by {registrar}"),
        Event::Transferred {
            from, to, amount, ..
        } => match amount {
            Some(a) => format!("{a} transferred from {from} to {to}"),
            None => format!("transferred from {from} to {to}"),
        },
        Event::SplitOff {
            record,
            from_record,
            owner,
            amount,
        } => format!("{amount} split from {from_record} into {record}, owned by {owner}"),
        Event::Encumbered { encumbrance, .. } => format!(
            "{:?} #{} for {}",
            encumbrance.kind, encumbrance.id, encumbrance.holder
        ),
        Event::Released {
            encumbrance, by, ..
        } => format!("encumbrance #{encumbrance} released by {by}"),
        Event::Terminated { by, .. } => format!("terminated by {by}"),
        Event::Deposited { instance, by, .. } => {
            format!("deposited by {by} with contract instance {instance}")
        }
        Event::CondoAttached { condo, shared, .. } => format!(
            "attached to condominium {condo} as {} object",
            if *shared { "a shared" } else { "an individual" }
        ),
        Event::CondoDecided {
            condo, action, by, ..
        } => format!("condominium {condo} decided {action:?} (by {by})"),
        Event::CondoShareOffered {
            offer, numerator, ..
        } => format!("{numerator} parts offered for sale (offer {offer})"),
        Event::CondoShareTaken { offer, buyer, .. } => format!("offer {offer} taken by {buyer}"),
        other => format!("{other:?}"),
    }
}

fn signers(out: &mut String, signers: &[SignerFinding]) {
    if signers.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "signers and the certificates they signed under (Art. 50 p.4(3)):"
    );
    for s in signers {
        match &s.certificate {
            None => {
                let _ = writeln!(out, "  key {}: signed under no certificate", s.key);
            }
            Some(c) => {
                let when = s
                    .status_when_signed
                    .as_ref()
                    .map(status)
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  key {}: {}; when it last signed under it here: {when}",
                    s.key,
                    certificate(c)
                );
            }
        }
    }
}

fn document(out: &mut String, d: &DocumentFinding, height: u64) {
    let _ = writeln!(out, "document:      blake3 {}", d.hash);
    let Some(first) = d.signatures.first() else {
        let _ = writeln!(
            out,
            "NOT ANCHORED: no signature was anchored to this document up to height {height}"
        );
        return;
    };
    let _ = writeln!(
        out,
        "existed by:    {} (height {}), the first anchoring",
        utc(first.time_ms),
        first.height
    );
    for (sig, cert) in d.signatures.iter().zip(&d.certificates) {
        let _ = writeln!(
            out,
            "signed by:     subject {} with key {} at height {} ({}), tx {}",
            sig.subject,
            sig.key,
            sig.height,
            utc(sig.time_ms),
            sig.tx
        );
        let _ = writeln!(
            out,
            "  {}; when it signed: {}",
            certificate(cert),
            status(&cert.status_at(sig.height, sig.time_ms))
        );
    }
}

fn certificate(c: &Certificate) -> String {
    let roles: Vec<String> = c
        .roles
        .iter()
        .map(|r| format!("{r:?}").to_lowercase())
        .collect();
    let until = c
        .valid_until
        .map(point)
        .unwrap_or_else(|| "no expiry".into());
    let issuer = c
        .issuer
        .map(|i| format!("issued by certificate {i}"))
        .unwrap_or_else(|| "named in genesis".into());
    let revoked = match &c.revocation {
        Some(r) => format!(
            ", REVOKED from height {} ({:?})",
            r.effective_height, r.reason
        ),
        None => String::new(),
    };
    format!("certificate {} of subject {} ({:?}), roles [{}], valid from {} to {until}, {issuer}{revoked}", c.id, c.subject, c.kind, roles.join(", "), point(c.valid_from))
}

fn point(p: Point) -> String {
    match p {
        Point::Height(h) => format!("height {h}"),
        Point::TimeMs(ms) => utc(ms),
    }
}

fn status(s: &CertStatus) -> String {
    match s {
        CertStatus::Valid => "valid".into(),
        CertStatus::NotYetValid => "NOT YET VALID".into(),
        CertStatus::Expired => "EXPIRED".into(),
        CertStatus::Revoked {
            reason,
            effective_height,
        } => format!("REVOKED from height {effective_height} ({reason:?})"),
    }
}
