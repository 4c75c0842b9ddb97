// Record views: a record with its owner, encumbrances, any arrest and its
// provenance as a timeline, and the ownership certificate to download; what an
// owner holds; a certificate's status.
"use strict";

(function () {
  const HISTORY_PAGE = 100;
  const OWNER_PAGE = 100;

  function assetText(record) {
    const a = record.asset;
    if (a === "unique" || !a) return "A unique object";
    if (a.fungible) return [`${a.fungible.amount} of class `, T.el("span", { class: "mono", title: a.fungible.class }, T.short(a.fungible.class))];
    if (a.share) return [`A share (${a.share.numerator} parts) of condominium `, T.link("condo", a.share.condo)];
    return "—";
  }

  function arrestBanner(record) {
    const arrests = (record.encumbrances || []).filter((e) => e.kind === "arrest");
    if (!arrests.length) return null;
    const a = arrests[0];
    return T.el("p", { class: "alert", id: "record-arrest" },
      "Under arrest since height ", String(a.since_height), " by ", T.link("owner", a.holder),
      a.document ? [", order ", T.el("span", { class: "mono", title: a.document }, T.short(a.document))] : "",
      ": it cannot be disposed of until the arrest is lifted.");
  }

  function encumbrances(record) {
    const list = record.encumbrances || [];
    if (!list.length) return T.sentence("No encumbrances: no pledge, lien, lease or arrest.");
    return T.table(["#", "Kind", "Holder", "Since", "Document"], list.map((e) => [
      String(e.id), T.capital(e.kind), T.link("owner", e.holder), T.blockLink(e.since_height),
      e.document ? T.el("span", { class: "mono", title: e.document }, T.short(e.document)) : "—",
    ]), { id: "record-encumbrances" });
  }

  function timelineItem(entry) {
    const signers = (entry.signers || []).map((s) => T.link("cert", s.key));
    return T.el("li", { "data-height": entry.height },
      T.el("div", { class: "when" }, T.blockLink(entry.height), " · ", T.time(entry.time_ms)),
      T.el("div", { class: "what" }, T.describe(entry.event)),
      T.el("div", { class: "meta" }, "Transaction ", T.link("tx", entry.tx),
        signers.length ? [" · signed by ", signers.map((s, i) => [i ? ", " : "", s])] : ""));
  }

  async function timeline(id) {
    const list = T.el("ol", { class: "timeline", id: "timeline" });
    const more = T.el("button", { type: "button", class: "more" }, "Show more");
    let skip = 0;
    async function page() {
      more.disabled = true;
      const h = await T.rpc("record_history", [id, skip, HISTORY_PAGE]);
      for (const entry of h.entries) list.append(timelineItem(entry));
      skip += h.entries.length;
      more.disabled = false;
      if (h.entries.length < HISTORY_PAGE) more.remove();
    }
    more.addEventListener("click", () => page().catch((e) => more.replaceWith(T.sentence(T.explain(e, "record", id)))));
    const section = T.section("Provenance", null, T.sentence("Every change of rights, oldest first."), list, more);
    await page();
    return section;
  }

  function certificateBox(id) {
    const note = T.el("p", { class: "sentence", id: "certificate-note" },
      "A file proving this record's state at the latest block, checkable offline with tamga verify FILE --genesis GENESIS_JSON.");
    const button = T.el("button", { type: "button", id: "download-certificate" }, "Download ownership certificate");
    button.addEventListener("click", async () => {
      button.disabled = true;
      note.textContent = "Asking the node for a certificate…";
      try {
        const r = await T.rpc("record_certificate", [id]);
        const bytes = T.bytes(r.certificate);
        if (!bytes) throw new Error("the node sent a certificate that is not hex");
        const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
        const name = `record-${id.slice(0, 16)}-h${Number(r.height)}.tamga`;
        const a = T.el("a", { href: url, download: name });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        note.textContent = `Downloaded ${name}: the record as of block ${r.height} (${bytes.length} bytes). Check it offline with tamga verify ${name} --genesis GENESIS_JSON.`;
      } catch (e) {
        note.textContent = T.explain(e, "certificate");
      } finally {
        button.disabled = false;
      }
    });
    return T.section("Ownership certificate", null, button, note);
  }

  T.views.record = async function (id) {
    let r;
    try {
      r = await T.rpc("record_get", [id]);
    } catch (e) {
      return [T.heading("Record"), T.sentence(T.explain(e, "record", id), "notice")];
    }
    return [
      T.heading("Record", T.el("span", { id: "record-description", class: "text" }, r.description)),
      arrestBanner(r),
      T.kv([
        ["Id", T.el("span", { class: "mono" }, r.id)],
        ["Owner", T.link("owner", r.owner, { full: true }), { id: "record-owner" }],
        ["Status", T.capital(r.status), { id: "record-status" }],
        ["Category", T.capital(r.category)],
        ["Asset", assetText(r)],
        ["National object", r.national ? "yes (Art. 34)" : "no"],
        ["Registered by", T.link("owner", r.registered_by, { full: true })],
        ["Registered at", T.blockLink(r.registered_height)],
        ["Provenance", `${r.provenance ? r.provenance.entries : "?"} entries`],
      ]),
      T.section("Encumbrances", null, encumbrances(r)),
      certificateBox(r.id),
      await timeline(r.id),
    ];
  };

  async function subjectSummary(subject) {
    const s = await T.rpc("subject_get", [subject]).catch(() => null);
    if (!s) return T.sentence("Not a certified subject: this may be the account of a contract instance or a condominium.");
    const certs = await T.rpc("cert_bySubject", [subject]).catch(() => ({ certificates: [] }));
    const rows = certs.certificates.map((c) => [T.link("cert", c.certificate.id), T.link("cert", c.certificate.key), statusText(c.status)]);
    return [
      T.kv([
        ["Kind", T.capital(T.words(s.kind))],
        ["Certified since", T.blockLink(s.registered_height)],
        ["Personal data", s.erased_height != null ? `erased at height ${s.erased_height}` : "kept off the ledger (Art. 41)"],
      ]),
      rows.length ? T.table(["Certificate", "Key", "Status"], rows) : null,
    ];
  }

  function recordRow(r) {
    const arrested = (r.encumbrances || []).some((e) => e.kind === "arrest");
    return [T.link("record", r.id), T.el("span", { class: "text" }, r.description), T.capital(r.category),
      T.capital(r.status) + (arrested ? " · arrested" : ""), String((r.encumbrances || []).length)];
  }

  T.views.owner = async function (id) {
    let first;
    try {
      first = await T.rpc("record_byOwner", [id, null, OWNER_PAGE]);
    } catch (e) {
      return [T.heading("Owner"), T.sentence(T.explain(e, "owner", id), "notice")];
    }
    const subject = first.owner;
    const rows = T.el("tbody");
    const table = T.el("div", { class: "scroll" }, T.el("table", { id: "owner-records" },
      T.el("thead", null, T.el("tr", null, ["Record", "Description", "Category", "Status", "Encumbrances"].map((h) => T.el("th", null, h)))), rows));
    const more = T.el("button", { type: "button", class: "more" }, "Show more");
    let next = null;
    function add(page) {
      for (const r of page.records) rows.append(T.el("tr", null, recordRow(r).map((c) => T.el("td", null, c))));
      next = page.next;
      if (!next) more.remove();
    }
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        add(await T.rpc("record_byOwner", [id, next, OWNER_PAGE]));
      } catch (e) {
        more.replaceWith(T.sentence(T.explain(e, "owner", id)));
      }
      more.disabled = false;
    });
    const holds = first.records.length ? T.el("div", null, table, more) : T.sentence("Holds no records.", "notice");
    add(first);
    return [
      T.heading("Owner", T.el("span", { class: "mono", id: "owner-subject" }, subject)),
      subject !== id ? T.sentence(`The key ${id} is certified for this subject.`) : null,
      await subjectSummary(subject),
      T.section("Records held", null, holds),
    ];
  };

  function statusText(status) {
    const s = status || {};
    switch (s.status) {
      case "valid": return "Valid";
      case "not_yet_valid": return "Not yet valid";
      case "expired": return "Expired";
      case "revoked": return `Revoked from height ${s.effective_height} (${T.words(s.reason || "no reason")})`;
      default: return T.capital(T.words(s.status || "unknown"));
    }
  }

  /** A validity bound: a height or a time. */
  function point(p) {
    if (p && p.height !== undefined) return `height ${p.height}`;
    if (p && p.time_ms !== undefined) return T.time(p.time_ms);
    return "—";
  }

  T.views.cert = async function (id) {
    let c;
    try {
      c = await T.rpc("cert_status", [id]);
    } catch (e) {
      return [T.heading("Certificate"), T.sentence(T.explain(e, "certificate or certified key", id), "notice")];
    }
    const cert = c.certificate;
    return [
      T.heading("Certificate", T.el("span", { class: "mono" }, cert.id)),
      T.el("p", { class: "sentence status", id: "cert-status" }, `${statusText(c.status)} at height ${c.at_height}.`),
      T.kv([
        ["Subject", T.link("owner", cert.subject, { full: true })],
        ["Key", T.el("span", { class: "mono" }, cert.key)],
        ["Kind", T.capital(T.words(cert.kind))],
        ["Issuer", cert.issuer ? T.link("owner", cert.issuer, { full: true }) : "none (a root authority of genesis)"],
        ["Issued at", T.blockLink(cert.issued_height)],
        ["Valid from", point(cert.valid_from)],
        ["Valid until", cert.valid_until ? point(cert.valid_until) : "no expiry"],
        ["Roles", T.value("roles", cert.roles)],
      ]),
    ];
  };
})();
