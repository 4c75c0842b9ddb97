// DOM helpers for the Tamga explorer. Everything the node returns (descriptions,
// terms, agreements: text anyone can put on the ledger) is set with textContent
// or as an attribute value, never parsed as HTML; links point only inside the
// page (#/...) or at a downloaded blob.
"use strict";

const T = (window.Tamga = { views: {} });

T.HEX = /^[0-9a-f]{64}$/;
const SVG_NS = "http://www.w3.org/2000/svg";

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "href" && !/^(#\/|blob:)/.test(String(value))) continue;
    if (name.startsWith("on") || name === "style" || name === "src") continue;
    node.setAttribute(name, String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element with attributes and children (strings become text nodes). */
T.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  return append(node, children);
};

/** An SVG element, the same way. */
T.svg = function (tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  return append(node, children);
};

/** "condo_share_taken" as "condo share taken". */
T.words = function (name) {
  return String(name).replace(/_/g, " ");
};

T.capital = function (text) {
  const s = String(text);
  return s.charAt(0).toUpperCase() + s.slice(1);
};

/** The first characters of a long id, for lists; the whole id is its title. */
T.short = function (id) {
  const s = String(id);
  return s.length > 16 ? s.slice(0, 10) + "…" + s.slice(-4) : s;
};

/** A block time (milliseconds since 1970) in UTC. */
T.time = function (ms) {
  if (typeof ms !== "number") return "—";
  const d = new Date(ms);
  return isNaN(d) ? "—" : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
};

/** Where each kind of id is shown. */
const ROUTES = {
  __proto__: null,
  record: "record", owner: "owner", contract: "contract", instance: "instance",
  condo: "condo", cert: "cert", tx: "tx",
};

/** A link to the view of an id; not a link unless it is 64 hex characters. */
T.link = function (kind, id, opts) {
  const text = opts && opts.full ? String(id) : T.short(id);
  if (!ROUTES[kind] || typeof id !== "string" || !T.HEX.test(id)) {
    return T.el("span", { class: "mono", title: String(id) }, text);
  }
  return T.el("a", { class: "mono", href: `#/${ROUTES[kind]}/${id}`, title: id }, text);
};

T.blockLink = function (height) {
  const h = Number(height);
  if (!Number.isSafeInteger(h) || h < 0) return T.el("span", null, String(height));
  return T.el("a", { href: `#/block/${h}` }, `#${h}`);
};

/** Field names whose values are ids of one kind. */
const FIELD_KINDS = {
  __proto__: null,
  record: "record", records: "record", from_record: "record", object: "record",
  holdings: "record", shared_objects: "record",
  owner: "owner", from: "owner", to: "owner", holder: "owner", by: "owner",
  subject: "owner", registrar: "owner", proposer: "owner", lessee: "owner",
  buyer: "owner", seller: "owner", parties: "owner", arbiters: "owner",
  appeal: "owner", deployer: "owner", created_by: "owner", opened_by: "owner",
  issuer: "owner", voters: "owner", signers: "owner", representative: "owner",
  account: "owner", registered_by: "owner", party: "owner", consents: "owner",
  contract: "contract", instance: "instance", condo: "condo",
  certificate: "cert", certificates: "cert", key: "cert", signer: "cert",
  validator: "cert", public_key: "cert", proposer_key: "cert",
  tx: "tx",
};

/** One value from the node, shown as text or links, never as JSON. */
T.value = function (name, v, depth) {
  depth = depth || 0;
  if (v === null || v === undefined) return T.el("span", { class: "none" }, "—");
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") {
    if (T.HEX.test(v) && FIELD_KINDS[name]) return T.link(FIELD_KINDS[name], v, { full: true });
    if (T.HEX.test(v)) return T.el("span", { class: "mono" }, v);
    return T.el("span", { class: "text" }, v.length > 2000 ? v.slice(0, 2000) + "…" : v);
  }
  if (depth > 4) return "…";
  if (Array.isArray(v)) {
    if (v.length === 0) return T.el("span", { class: "none" }, "none");
    return T.el("ul", { class: "values" }, v.slice(0, 200).map((x) => T.el("li", null, T.value(name, x, depth + 1))));
  }
  return T.fields(v, depth + 1);
};

/** An object's fields as a definition list. */
T.fields = function (obj, depth) {
  const list = T.el("dl", { class: "kv" });
  for (const [name, v] of Object.entries(obj || {})) {
    list.append(T.el("dt", null, T.capital(T.words(name))), T.el("dd", null, T.value(name, v, depth || 0)));
  }
  return list;
};

/** Labelled rows; a row whose value is null or undefined is left out. */
T.kv = function (rows) {
  const list = T.el("dl", { class: "kv" });
  for (const [label, value, attrs] of rows) {
    if (value === null || value === undefined) continue;
    list.append(T.el("dt", null, label), T.el("dd", attrs || null, value));
  }
  return list;
};

T.section = function (title, attrs, ...children) {
  return T.el("section", attrs, T.el("h2", null, title), children);
};

T.sentence = function (text, cls) {
  return T.el("p", { class: "sentence" + (cls ? " " + cls : "") }, text);
};

/** A table that scrolls sideways on a narrow screen. */
T.table = function (headers, rows, attrs) {
  const head = T.el("thead", null, T.el("tr", null, headers.map((h) => T.el("th", { scope: "col" }, h))));
  const body = T.el("tbody", null, rows.map((cells) => T.el("tr", null, cells.map((c) => T.el("td", null, c)))));
  return T.el("div", { class: "scroll" }, T.el("table", attrs, head, body));
};

/** A page title and an optional line under it. */
T.heading = function (title, subtitle) {
  return [T.el("h1", null, title), subtitle ? T.el("p", { class: "subtitle" }, subtitle) : null];
};

/** Hex to bytes, or null when it is not hex. */
T.bytes = function (hex) {
  if (typeof hex !== "string" || hex.length % 2 || !/^[0-9a-f]*$/i.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
};
