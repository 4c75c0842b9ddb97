//! The certificate rules: who may issue, revoke and erase, and the check every
//! rights-affecting transaction passes first — each signer and co-signer holds a
//! certificate valid at that height (Art. 49 p.2, Art. 40 p.3). One function per
//! operation; each checks everything before it writes, so a refusal changes nothing.

use super::error::PkiError;
use super::identifier::subject_of;
use super::model::{
    Approval, CertStatus, Certificate, Point, Revocation, RevocationReason, Role, Subject,
    SubjectKind, SubjectRef,
};
use crate::execute::{ApplyError, TxContext};
use crate::limits::{CERTS_PER_SUBJECT_MAX, REVOCATION_AHEAD_MAX};
use crate::records::Event;
use crate::state::{get_typed, keys, Overlay, StateRead};
use crate::types::{hashing, Hash32, Payload, PublicKey, SubjectId};

type Outcome = Result<Vec<Event>, ApplyError>;

/// Applies a certificate payload on behalf of `ctx`'s signer.
pub fn apply(state: &mut Overlay, ctx: &TxContext, payload: &Payload) -> Outcome {
    match payload {
        Payload::IssueCertificate {
            subject,
            key,
            name,
            roles,
            valid_from,
            valid_until,
        } => {
            let request = IssueRequest {
                subject,
                key: *key,
                name: *name,
                roles,
                valid_from: valid_from.unwrap_or(Point::Height(ctx.height)),
                valid_until: *valid_until,
            };
            issue(state, ctx, request)
        }
        Payload::RevokeCertificate {
            certificate,
            reason,
            effective_height,
            document,
        } => {
            let effective = effective_height.unwrap_or(ctx.height);
            revoke(state, ctx, certificate, *reason, effective, *document)
        }
        Payload::ErasePersonalData { subject } => erase(state, ctx, subject),
        other => unreachable!("execute::apply_tx sends {other:?} to its own module"),
    }
}

/// Whether this module handles `payload`.
pub fn handles(payload: &Payload) -> bool {
    matches!(
        payload,
        Payload::IssueCertificate { .. }
            | Payload::RevokeCertificate { .. }
            | Payload::ErasePersonalData { .. }
    )
}

pub fn load_certificate(
    state: &dyn StateRead,
    id: &Hash32,
) -> Result<Option<Certificate>, ApplyError> {
    Ok(get_typed(state, &keys::certificate(id))?)
}

pub fn load_subject(state: &dyn StateRead, id: &SubjectId) -> Result<Option<Subject>, ApplyError> {
    Ok(get_typed(state, &keys::subject(id))?)
}

/// A subject the ledger knows (certified at some time), or a refusal.
pub fn require_subject(state: &dyn StateRead, id: &SubjectId) -> Result<Subject, ApplyError> {
    load_subject(state, id)?.ok_or_else(|| PkiError::UnknownSubject(*id).into())
}

/// The certificate `key` is bound to now (the latest one issued for it).
pub fn certificate_of_key(
    state: &dyn StateRead,
    key: &PublicKey,
) -> Result<Option<Certificate>, ApplyError> {
    let Some(id) = get_typed::<Hash32>(state, &keys::key_certificate(key))? else {
        return Ok(None);
    };
    load_certificate(state, &id)
}

/// The signer and every co-signer, each with a certificate valid at (`height`,
/// `time_ms`) (Art. 49 p.2(1), (4); Art. 40 p.3), in signing order.
pub fn certify(
    state: &dyn StateRead,
    height: u64,
    time_ms: u64,
    signers: &[PublicKey],
) -> Result<Vec<Approval>, ApplyError> {
    let mut approvals = Vec::with_capacity(signers.len());
    for key in signers {
        let refuse = |why: String| PkiError::UncertifiedSigner {
            key: *key,
            height,
            why,
        };
        let cert = certificate_of_key(state, key)?.ok_or_else(|| refuse("none issued".into()))?;
        match cert.status_at(height, time_ms) {
            CertStatus::Valid => {}
            status => return Err(refuse(describe(&cert, &status)).into()),
        }
        approvals.push(Approval {
            key: Some(*key),
            subject: cert.subject,
            roles: cert.roles.clone(),
            certificate: Some(cert.id),
        });
    }
    Ok(approvals)
}

fn describe(cert: &Certificate, status: &CertStatus) -> String {
    match status {
        CertStatus::Valid => format!("certificate {} is valid", cert.id),
        CertStatus::NotYetValid => format!("certificate {} is not valid yet", cert.id),
        CertStatus::Expired => format!("certificate {} has expired", cert.id),
        CertStatus::Revoked {
            reason,
            effective_height,
        } => format!(
            "certificate {} was revoked from height {effective_height} ({})",
            cert.id,
            reason.article()
        ),
    }
}

/// Whether `subject` holds a certificate valid now that carries `role`.
pub fn holds_role(
    state: &dyn StateRead,
    subject: &SubjectId,
    role: Role,
    height: u64,
    time_ms: u64,
) -> Result<bool, ApplyError> {
    let Some(subject) = load_subject(state, subject)? else {
        return Ok(false);
    };
    for id in &subject.certificates {
        let Some(cert) = load_certificate(state, id)? else {
            continue;
        };
        if cert.has_role(role) && cert.status_at(height, time_ms).is_valid() {
            return Ok(true);
        }
    }
    Ok(false)
}

struct IssueRequest<'a> {
    subject: &'a SubjectRef,
    key: PublicKey,
    name: Hash32,
    roles: &'a [Role],
    valid_from: Point,
    valid_until: Point,
}

/// Issue by a certification authority (Art. 55 p.1(2)); only a root accredits a
/// further authority (Art. 52 p.2).
fn issue(state: &mut Overlay, ctx: &TxContext, request: IssueRequest) -> Outcome {
    let issuer = ctx.signer_approval();
    let issuer_cert = match issuer.certificate {
        Some(id) if issuer.has_role(Role::Authority) => {
            load_certificate(state, &id)?.ok_or(PkiError::UnknownCertificate(id))?
        }
        _ => return Err(PkiError::NotAnAuthority.into()),
    };
    if request.roles.contains(&Role::Authority) && !issuer_cert.root {
        return Err(PkiError::RootRequired.into());
    }
    let (mut subject, existed) = resolve_subject(state, ctx, request.subject)?;
    // A new key for a subject the ledger knows speaks for everything it holds:
    // the subject consents with a valid key of its own, or a root certifies it
    // (every key lost). Otherwise any authority could take anyone over.
    if existed && !issuer_cert.root && !ctx.approved_by(&subject.id) {
        return Err(PkiError::SubjectConsentRequired(subject.id).into());
    }
    check_roles(request.roles, subject.kind)?;
    check_key(state, &request.key, &subject.id, ctx)?;
    let window_open = !request.valid_until.reached(ctx.height, ctx.time_ms);
    if !window_open || request.valid_from == request.valid_until {
        return Err(PkiError::BadValidity { height: ctx.height }.into());
    }
    prune_over(state, &mut subject, ctx)?;
    if subject.certificates.len() >= CERTS_PER_SUBJECT_MAX {
        let max = CERTS_PER_SUBJECT_MAX;
        let subject = subject.id;
        return Err(PkiError::TooManyCertificates { subject, max }.into());
    }
    let id = hashing::hash(&hashing::DOMAIN_CERT_ID, &[&ctx.tx_id.0]);
    let mut roles = request.roles.to_vec();
    roles.sort();
    let cert = Certificate {
        id,
        subject: subject.id,
        kind: subject.kind,
        key: request.key,
        name: request.name,
        roles,
        valid_from: request.valid_from,
        valid_until: Some(request.valid_until),
        issuer: Some(issuer_cert.id),
        root: false,
        issued_height: ctx.height,
        revocation: None,
    };
    subject.certificates.push(id);
    put_certificate(state, &cert);
    state.put(keys::subject(&subject.id), &subject);
    Ok(vec![Event::CertificateIssued {
        certificate: id,
        subject: subject.id,
        key: request.key,
        issuer: issuer.subject,
    }])
}

/// Writes a certificate and binds its key to it.
pub(crate) fn put_certificate(state: &mut Overlay, cert: &Certificate) {
    state.put(keys::certificate(&cert.id), cert);
    state.put(keys::key_certificate(&cert.key), &cert.id);
}

/// The subject a new certificate names: an existing one, or a new one created
/// from its identifier commitment (the same commitment names the same subject).
fn resolve_subject(
    state: &Overlay,
    ctx: &TxContext,
    subject: &SubjectRef,
) -> Result<(Subject, bool), ApplyError> {
    match subject {
        SubjectRef::Existing { subject } => Ok((require_subject(state, subject)?, true)),
        SubjectRef::New { kind, identifier } => {
            let id = subject_of(identifier);
            match load_subject(state, &id)? {
                Some(existing) if existing.kind != *kind => Err(PkiError::SubjectKindMismatch {
                    subject: id,
                    existing: existing.kind,
                    given: *kind,
                }
                .into()),
                Some(existing) => Ok((existing, true)),
                None => {
                    let new = Subject {
                        id,
                        kind: *kind,
                        identifier: *identifier,
                        registered_height: ctx.height,
                        certificates: vec![],
                        erased_height: None,
                    };
                    Ok((new, false))
                }
            }
        }
    }
}

/// Roles listed once each, and fit for the subject's kind: the court is a state
/// body; a certification authority is a legal entity (Art. 52 p.1) or a state
/// body's authority (Art. 52 p.3).
pub(crate) fn check_roles(roles: &[Role], kind: SubjectKind) -> Result<(), PkiError> {
    let mut sorted = roles.to_vec();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != roles.len() || roles.len() > 4 {
        return Err(PkiError::BadRoles);
    }
    let unfit = |role, why| PkiError::RoleNotForKind { role, kind, why };
    if roles.contains(&Role::Court) && kind != SubjectKind::StateBody {
        return Err(unfit(Role::Court, "a court is a state body"));
    }
    if roles.contains(&Role::Arbiter) && kind != SubjectKind::Individual {
        return Err(unfit(
            Role::Arbiter,
            "the final decision on a dispute is made by a human (Art. 67 p.3)",
        ));
    }
    if roles.contains(&Role::Authority) && kind == SubjectKind::Individual {
        return Err(unfit(
            Role::Authority,
            "a certification authority is a legal entity (Art. 52 p.1)",
        ));
    }
    Ok(())
}

/// A key may be bound anew only if it is a usable point, was never revoked, and
/// its last certificate (if any) is over and was the same subject's.
fn check_key(
    state: &Overlay,
    key: &PublicKey,
    subject: &SubjectId,
    ctx: &TxContext,
) -> Result<(), ApplyError> {
    if !crate::validators::usable_key(key) {
        return Err(PkiError::InvalidKey(*key).into());
    }
    let Some(last) = certificate_of_key(state, key)? else {
        return Ok(());
    };
    if last.revocation.is_some() {
        let certificate = last.id;
        return Err(PkiError::KeyRevoked {
            key: *key,
            certificate,
        }
        .into());
    }
    // The last certificate expired: the same subject may renew the key. Anything
    // else would let one key speak for two subjects.
    let over = last.status_at(ctx.height, ctx.time_ms) == CertStatus::Expired;
    if !over || last.subject != *subject {
        let certificate = last.id;
        return Err(PkiError::KeyInUse {
            key: *key,
            certificate,
        }
        .into());
    }
    Ok(())
}

/// Drops from the subject's live list the certificates revoked or expired now.
fn prune_over(state: &Overlay, subject: &mut Subject, ctx: &TxContext) -> Result<(), ApplyError> {
    let mut live = Vec::with_capacity(subject.certificates.len());
    for id in &subject.certificates {
        if let Some(cert) = load_certificate(state, id)? {
            match cert.status_at(ctx.height, ctx.time_ms) {
                CertStatus::Valid | CertStatus::NotYetValid => live.push(*id),
                CertStatus::Expired | CertStatus::Revoked { .. } => {}
            }
        }
    }
    subject.certificates = live;
    Ok(())
}

/// Revocation (Art. 59): at the holder's request (Art. 58 p.3), which on this
/// ledger takes effect when signed by any of the subject's valid keys (so a lost
/// key is revoked with another); on any ground by the authority that issued it
/// (Art. 59 p.1), or by a root (this ledger's rule: the roots answer for the
/// authorities they accredit).
fn revoke(
    state: &mut Overlay,
    ctx: &TxContext,
    id: &Hash32,
    reason: RevocationReason,
    effective_height: u64,
    document: Option<Hash32>,
) -> Outcome {
    let mut cert = load_certificate(state, id)?.ok_or(PkiError::UnknownCertificate(*id))?;
    // A revocation may be brought forward, never pushed back or undone: a thief
    // scheduling a far-off one cannot shield the key from a sooner one.
    if let Some(earlier) = &cert.revocation {
        if effective_height >= earlier.effective_height {
            return Err(PkiError::AlreadyRevoked(*id).into());
        }
    }
    if effective_height > ctx.height.saturating_add(REVOCATION_AHEAD_MAX) {
        let max = REVOCATION_AHEAD_MAX;
        return Err(PkiError::RevocationTooFar { max }.into());
    }
    if effective_height < ctx.height {
        let height = ctx.height;
        return Err(PkiError::RevocationBackdated {
            effective: effective_height,
            height,
        }
        .into());
    }
    let signer = ctx.signer_approval();
    let by_holder = signer.subject == cert.subject && reason == RevocationReason::HolderRequest;
    if !by_holder && !may_revoke_as_authority(state, signer, &cert)? {
        return Err(PkiError::RevocationNotPermitted { certificate: *id }.into());
    }
    cert.revocation = Some(Revocation {
        reason,
        effective_height,
        by: signer.subject,
        recorded_height: ctx.height,
        document,
    });
    state.put(keys::certificate(id), &cert);
    Ok(vec![Event::CertificateRevoked {
        certificate: *id,
        subject: cert.subject,
        reason,
        effective_height,
        by: signer.subject,
    }])
}

/// The issuing authority (any of its subject's authority keys) or a root.
fn may_revoke_as_authority(
    state: &Overlay,
    signer: &Approval,
    cert: &Certificate,
) -> Result<bool, ApplyError> {
    let Some(own) = signer
        .certificate
        .filter(|_| signer.has_role(Role::Authority))
    else {
        return Ok(false);
    };
    let own = load_certificate(state, &own)?;
    if own.as_ref().is_some_and(|c| c.root) {
        return Ok(true);
    }
    let Some(issuer) = cert.issuer else {
        return Ok(false);
    };
    let issuer = load_certificate(state, &issuer)?;
    Ok(issuer.is_some_and(|c| c.subject == signer.subject))
}

/// Whether `signer` acts as a root, or as the authority that issued one of the
/// subject's certificates still on its list: those who keep its data.
fn certified_it(state: &Overlay, signer: &Approval, subject: &Subject) -> Result<bool, ApplyError> {
    let Some(own) = signer
        .certificate
        .filter(|_| signer.has_role(Role::Authority))
    else {
        return Ok(false);
    };
    if load_certificate(state, &own)?.is_some_and(|c| c.root) {
        return Ok(true);
    }
    for id in &subject.certificates {
        let issuer = match load_certificate(state, id)?.and_then(|c| c.issuer) {
            Some(issuer) => load_certificate(state, &issuer)?,
            None => None,
        };
        if issuer.is_some_and(|c| c.subject == signer.subject) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An erasure request (Art. 41 p.1-2): the subject's own, or ordered by the
/// authority that certified it (its vault keeps the data) or a root. The ledger keeps only commitments; every node that
/// holds the clear identifier and salts in its vault deletes them when the block
/// commits, after which nothing links the commitment to the person.
fn erase(state: &mut Overlay, ctx: &TxContext, id: &SubjectId) -> Outcome {
    let mut subject = require_subject(state, id)?;
    let signer = ctx.signer_approval();
    if signer.subject != *id && !certified_it(state, signer, &subject)? {
        return Err(PkiError::ErasureNotPermitted(*id).into());
    }
    if subject.erased_height.is_some() {
        return Err(PkiError::AlreadyErased(*id).into());
    }
    subject.erased_height = Some(ctx.height);
    state.put(keys::subject(id), &subject);
    Ok(vec![Event::PersonalDataErased {
        subject: *id,
        by: signer.subject,
    }])
}
