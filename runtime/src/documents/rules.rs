//! Anchoring (Art. 55 p.1(4)): the signer and every co-signer sign the document's
//! hash, at this block's height and time.

use super::{DocumentAnchors, DocumentError, DocumentSignature};
use crate::execute::{ApplyError, TxContext};
use crate::limits::DOCUMENT_SIGNATURES_MAX;
use crate::records::Event;
use crate::state::{keys, Overlay};
use crate::types::Hash32;

pub fn anchor(
    state: &mut Overlay,
    ctx: &TxContext,
    document: &Hash32,
) -> Result<Vec<Event>, ApplyError> {
    let key = keys::document(document);
    let mut anchors: DocumentAnchors = state.get_typed(&key)?.unwrap_or_default();
    let mut signers = Vec::with_capacity(ctx.approvals.len());
    for approval in &ctx.approvals {
        let (Some(key), Some(certificate)) = (approval.key, approval.certificate) else {
            return Err(DocumentError::Uncertified(approval.subject).into());
        };
        let subject = approval.subject;
        if anchors.signatures.iter().any(|s| s.subject == subject) {
            let document = *document;
            return Err(DocumentError::AlreadySigned { document, subject }.into());
        }
        if anchors.signatures.len() >= DOCUMENT_SIGNATURES_MAX {
            let document = *document;
            return Err(DocumentError::TooManySignatures { document }.into());
        }
        anchors.signatures.push(DocumentSignature {
            subject,
            key,
            certificate,
            height: ctx.height,
            time_ms: ctx.time_ms,
            tx: ctx.tx_id,
        });
        signers.push(subject);
    }
    state.put(key, &anchors);
    Ok(vec![Event::DocumentAnchored {
        document: *document,
        signers,
    }])
}
