// Chain views: the latest blocks (live), one block with its transactions and
// its commit certificate's signers, and one transaction with what it did.
// Events are told as sentences.
"use strict";

(function () {
  const LATEST = 10;
  const KEEP = 25;

  /** The event's name and its fields. */
  function unpack(event) {
    const kind = event && typeof event === "object" ? Object.keys(event)[0] : null;
    return [kind, kind ? event[kind] || {} : {}];
  }

  const ENCUMBRANCE = { __proto__: null, pledge: "Pledged", lien: "Lien", lease: "Leased", arrest: "Arrested" };

  /** An event as a sentence (with links), for timelines and transactions. */
  T.describe = function (event) {
    const [kind, f] = unpack(event);
    const who = (id) => T.link("owner", id);
    const rec = (id) => T.link("record", id);
    switch (kind) {
      case "registered":
        return ["Registered to ", who(f.owner), " by ", who(f.registrar)];
      case "transferred":
        return ["Transferred from ", who(f.from), " to ", who(f.to), f.amount != null ? ` (amount ${f.amount})` : ""];
      case "split_off":
        return [`${f.amount} split off `, rec(f.from_record), " into ", rec(f.record), ", owned by ", who(f.owner)];
      case "encumbered": {
        const e = f.encumbrance || {};
        const verb = ENCUMBRANCE[e.kind] || T.capital(T.words(e.kind || "encumbered"));
        const held = e.kind === "arrest" ? " by " : " in favour of ";
        const cites = e.document ? [", citing document ", T.el("span", { class: "mono", title: e.document }, T.short(e.document))] : "";
        return [`${verb} (#${e.id})${held}`, who(e.holder), cites];
      }
      case "released":
        return [`Encumbrance #${f.encumbrance} released by `, who(f.by)];
      case "terminated":
        return ["Rights terminated by ", who(f.by)];
      case "deposited":
        return ["Deposited into contract instance ", T.link("instance", f.instance), " by ", who(f.by)];
      case "condo_attached":
        return [`Attached to condominium `, T.link("condo", f.condo), f.shared ? " as a shared object" : " as an individual object"];
      case "condo_share_offered":
        return [`Offered for sale (offer #${f.offer}) in condominium `, T.link("condo", f.condo)];
      case "condo_share_taken":
        return ["Taken by ", who(f.buyer), ` under offer #${f.offer} of condominium `, T.link("condo", f.condo)];
      case "condo_decided": {
        const [action] = unpack(f.action);
        return [`Condominium `, T.link("condo", f.condo), ` decided: ${T.words(action || "a decision")}`, f.proposal != null ? ` (proposal #${f.proposal})` : ""];
      }
      case null:
        return ["An event the explorer cannot read"];
      default:
        return [T.capital(T.words(kind))];
    }
  };

  /** An event with every field it carries, for a transaction's page. */
  function eventItem(event) {
    const [kind, fields] = unpack(event);
    return T.el("li", { class: "event" }, T.el("p", null, T.describe(event)), kind ? T.fields(fields) : null);
  }

  function blockRow(b) {
    const txs = b.txCount === 1 ? "1 transaction" : `${b.txCount} transactions`;
    return T.el(
      "li",
      { "data-height": b.height },
      T.el("a", { class: "height", href: `#/block/${b.height}` }, `#${b.height}`),
      T.el("span", { class: "when" }, T.time(b.time_ms)),
      T.el("span", { class: "count" }, txs),
      T.el("span", { class: "mono hash", title: b.hash }, T.short(b.hash))
    );
  }

  /** A block_get result as a row's fields. */
  function fromBlock(b) {
    return { height: b.header.height, hash: b.hash, time_ms: b.header.time_ms, txCount: b.txs.length };
  }

  /**
   * The latest blocks, newest first, kept in height order: a notice is put in its
   * place, and blocks it skips (committed while the page loaded, or missed by a
   * slow connection) are fetched, so the list has no gaps.
   */
  function latestList() {
    const list = T.el("ol", { id: "blocks", class: "blocks", reversed: "" });
    const has = (h) => !!list.querySelector(`li[data-height="${h}"]`);
    function insert(row) {
      if (has(row.height)) return;
      const after = [...list.children].find((li) => Number(li.dataset.height) < row.height);
      list.insertBefore(blockRow(row), after || null);
      while (list.children.length > KEEP) list.lastChild.remove();
    }
    async function fill(from, to) {
      const heights = [];
      for (let h = to; h >= from && heights.length < KEEP; h--) if (!has(h)) heights.push(h);
      const blocks = await Promise.all(heights.map((h) => T.rpc("block_get", [h]).catch(() => null)));
      for (const b of blocks) if (b) insert(fromBlock(b));
    }
    return { list, insert, fill, top: () => Number((list.firstChild && list.firstChild.dataset.height) || 0) };
  }

  T.views.home = async function (_, ctx) {
    const latest = latestList();
    const tip = T.el("span", { id: "tip-height" }, "");
    const empty = T.sentence("No blocks yet: they appear here as they are committed.");
    let loaded = false;
    ctx.onBlock((n) => {
      empty.remove();
      tip.textContent = String(n.height);
      const top = latest.top();
      latest.insert({ height: n.height, hash: n.hash, time_ms: n.time_ms, txCount: (n.txs || []).length });
      if (loaded && top && n.height > top + 1) latest.fill(top + 1, n.height - 1);
    });
    const status = await T.rpc("node_status", []);
    if (!tip.textContent) tip.textContent = String(status.height);
    await latest.fill(Math.max(1, status.height - LATEST + 1), status.height);
    loaded = true;
    const top = latest.top();
    const newest = Math.max(...[...latest.list.children].map((li) => Number(li.dataset.height)));
    if (newest > status.height) latest.fill(status.height + 1, newest - 1);
    return [
      T.heading("Latest blocks", "New blocks appear as the validators commit them."),
      T.kv([
        ["Chain", status.chain_id],
        ["Node", status.moniker],
        ["Height", tip],
        ["Pending transactions", String(status.mempool_txs)],
      ]),
      top ? null : empty,
      latest.list,
    ];
  };

  function txRow(tx, index) {
    const [kind, f] = unpack(tx.tx && tx.tx.payload);
    const target = f.record ? T.link("record", f.record) : f.instance ? T.link("instance", f.instance)
      : f.condo ? T.link("condo", f.condo) : f.contract ? T.link("contract", f.contract) : "";
    return [String(index), T.link("tx", tx.id), T.capital(T.words(kind || "?")), target, T.link("cert", tx.tx && tx.tx.signer)];
  }

  T.views.block = async function (height) {
    let b;
    try {
      b = await T.rpc("block_get", [Number(height)]);
    } catch (e) {
      if (T.isNotFound(e)) return [T.heading(`Block ${height}`), T.sentence(`There is no block ${height} on this chain yet.`, "notice")];
      throw e;
    }
    const h = b.header;
    const commit = b.commit || { signatures: [] };
    const nav = T.el("p", { class: "nav" },
      h.height > 1 ? T.el("a", { href: `#/block/${h.height - 1}` }, "← Previous") : null, " ",
      T.el("a", { href: `#/block/${h.height + 1}` }, "Next →"));
    const txs = b.txs.length
      ? T.table(["#", "Transaction", "What", "On", "Signed by"], b.txs.map(txRow), { id: "block-txs" })
      : T.sentence("This block holds no transactions.");
    const signers = (commit.signatures || []).map((s) => [T.link("cert", s.validator, { full: true })]);
    return [
      T.heading(`Block ${h.height}`, T.time(h.time_ms)),
      nav,
      T.kv([
        ["Hash", T.el("span", { class: "mono" }, b.hash)],
        ["Chain", h.chain_id],
        ["Proposer", T.link("cert", h.proposer, { full: true })],
        ["Previous block", T.el("span", { class: "mono" }, h.prev_hash)],
        ["State root", T.el("span", { class: "mono" }, h.state_root)],
        ["Transactions root", T.el("span", { class: "mono" }, h.txs_hash)],
      ]),
      T.section("Transactions", null, txs),
      T.section("Commit certificate", { id: "commit" },
        T.sentence(`Decided in round ${commit.round}; signed by ${signers.length} validator${signers.length === 1 ? "" : "s"}:`),
        T.table(["Validator key"], signers, { id: "commit-signers" })),
      b.evidence && b.evidence.length
        ? T.section("Evidence", null, T.sentence(`This node saw ${b.evidence.length} piece(s) of equivocation evidence at this height.`))
        : null,
    ];
  };

  T.views.tx = async function (hash) {
    let t;
    try {
      t = await T.rpc("tx_get", [hash]);
    } catch (e) {
      return [T.heading("Transaction"), T.sentence(T.explain(e, "transaction", hash), "notice")];
    }
    const out = [T.heading("Transaction", T.el("span", { class: "mono" }, hash))];
    if (t.status === "pending") {
      out.push(T.sentence("Waiting in the mempool to be included in a block."));
      return out;
    }
    if (t.status !== "committed") {
      const why = t.error ? t.error.message : "no reason given";
      out.push(T.sentence(`Not committed (${t.status}): ${why}.`, "notice"));
      return out;
    }
    out.push(T.el("p", { class: "sentence" }, "Committed in block ", T.blockLink(t.height), ` as transaction ${t.index}.`));
    const block = await T.rpc("block_get", [t.height]).catch(() => null);
    const tx = block && block.txs.find((x) => x.id === hash);
    if (tx) {
      const [kind, fields] = unpack(tx.tx.payload);
      out.push(T.section("What was signed", null, T.kv([
        ["Kind", T.capital(T.words(kind || "?"))],
        ["Signer", T.link("cert", tx.tx.signer, { full: true })],
        ["Nonce", String(tx.tx.nonce)],
        ["Co-signatures", String((tx.cosignatures || []).length)],
      ]), T.fields(fields)));
    }
    out.push(T.section("What it did", null, T.el("ul", { class: "events" }, (t.events || []).map(eventItem))));
    return out;
  };
})();
