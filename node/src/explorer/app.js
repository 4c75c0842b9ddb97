// The explorer's router and search box. Views live at hash routes
// (#/record/ID, #/block/HEIGHT, ...) so they can be linked and bookmarked; a
// search is itself a route (#/search/TEXT) that finds what the text names and
// moves on to its view.
"use strict";

(function () {
  const ROUTES = {
    __proto__: null,
    block: { view: "block", shape: /^\d{1,15}$/, title: "Block" },
    tx: { view: "tx", shape: T.HEX, title: "Transaction" },
    record: { view: "record", shape: T.HEX, title: "Record" },
    owner: { view: "owner", shape: T.HEX, title: "Owner" },
    contract: { view: "contract", shape: T.HEX, title: "Contract" },
    instance: { view: "instance", shape: T.HEX, title: "Contract instance" },
    condo: { view: "condo", shape: T.HEX, title: "Condominium" },
    cert: { view: "cert", shape: T.HEX, title: "Certificate" },
  };

  /** What a 64-hex id may be, asked of the node in this order. */
  const PROBES = [
    ["record", "record_get"],
    ["tx", "tx_get"],
    ["owner", "subject_get"],
    ["key", "cert_status"],
    ["contract", "contract_get"],
    ["instance", "contract_instance"],
    ["condo", "condo_get"],
    ["cert", "cert_get"],
    ["account", "record_byOwner"],
  ];

  /** The route `text` names, or a sentence saying why there is none. */
  async function resolve(text) {
    const q = text.trim().toLowerCase().replace(/^0x/, "");
    if (/^\d{1,15}$/.test(q)) return { route: `#/block/${Number(q)}` };
    if (!T.HEX.test(q)) {
      return { sentence: "Type a record id, a transaction hash or an owner's subject id or public key (64 hexadecimal characters), or a block height." };
    }
    const found = await Promise.allSettled(PROBES.map(([, method]) => T.rpc(method, [q])));
    for (let i = 0; i < PROBES.length; i++) {
      const [kind] = PROBES[i];
      const outcome = found[i];
      if (outcome.status !== "fulfilled" || !outcome.value) continue;
      if (kind === "key") {
        const cert = outcome.value.certificate || {};
        return { route: cert.key === q ? `#/owner/${q}` : `#/cert/${q}` };
      }
      if (kind === "account") {
        if ((outcome.value.records || []).length) return { route: `#/owner/${q}` };
        continue;
      }
      return { route: `#/${kind}/${q}` };
    }
    const failure = found.find((f) => f.status === "rejected" && !T.isNotFound(f.reason) && f.reason.code !== -32602);
    if (failure) return { sentence: T.explain(failure.reason, "id", q) };
    return { sentence: `Nothing on this chain has the id ${q}: it is not a record, a transaction, an owner or a certified key, a contract or an instance, a condominium or a certificate.` };
  }

  T.views.search = async function (text) {
    const found = await resolve(text);
    if (found.route) {
      location.replace(found.route);
      return null;
    }
    return [T.heading("Search", T.el("span", { class: "text" }, text)), T.sentence(found.sentence, "notice")];
  };

  let current = 0;
  let unsubscribe = [];

  function parse(hash) {
    const path = hash.replace(/^#\/?/, "");
    if (!path) return { view: "home", param: null, title: "Latest blocks" };
    const slash = path.indexOf("/");
    const name = slash < 0 ? path : path.slice(0, slash);
    let param = slash < 0 ? "" : path.slice(slash + 1);
    if (name === "search") {
      try {
        param = decodeURIComponent(param);
      } catch (e) {
        return null;
      }
      return { view: "search", param, title: "Search" };
    }
    const route = ROUTES[name];
    if (!route || !route.shape.test(param)) return null;
    return { view: route.view, param, title: route.title };
  }

  async function render() {
    const token = ++current;
    unsubscribe.forEach((u) => u());
    unsubscribe = [];
    const view = document.getElementById("view");
    const route = parse(location.hash);
    const ctx = {
      onBlock(listener) {
        if (token === current) unsubscribe.push(T.onBlock(listener));
      },
    };
    view.setAttribute("aria-busy", "true");
    let content;
    if (!route) {
      content = [T.heading("Not found"), T.sentence("This address names nothing the explorer shows. Search for a record, a transaction, a block or an owner above.", "notice")];
    } else {
      try {
        content = await T.views[route.view](route.param, ctx);
      } catch (e) {
        content = [T.heading(route.title), T.sentence(T.explain(e, route.title.toLowerCase(), route.param), "notice")];
      }
      document.title = `${route.title} · Tamga explorer`;
    }
    if (token !== current || content === null) return;
    view.replaceChildren(...[content].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
    view.removeAttribute("aria-busy");
    view.setAttribute("data-view", route ? route.view : "none");
    window.scrollTo(0, 0);
  }

  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("search-input");
    const text = input.value.trim();
    if (!text) return;
    const target = `#/search/${encodeURIComponent(text)}`;
    if (location.hash === target) render();
    else location.hash = target;
  });

  window.addEventListener("hashchange", render);
  T.startLive();
  render();
})();
