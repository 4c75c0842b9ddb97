// Contract views (Art. 67): a contract with its terms for people and its
// arbitration clause, and an instance with its parties, what it holds, its
// status and any dispute.
"use strict";

(function () {
  function people(ids) {
    if (!ids || !ids.length) return "none";
    return T.el("ul", { class: "values" }, ids.map((id) => T.el("li", null, T.link("owner", id, { full: true }))));
  }

  T.views.contract = async function (id) {
    let c;
    try {
      c = await T.rpc("contract_get", [id]);
    } catch (e) {
      return [T.heading("Contract"), T.sentence(T.explain(e, "contract", id), "notice")];
    }
    const a = c.arbitration || {};
    return [
      T.heading("Contract", T.el("span", { class: "mono" }, c.id)),
      T.kv([
        ["Deployed by", T.link("owner", c.deployer, { full: true })],
        ["Deployed at", T.blockLink(c.deployed_height)],
        ["Code", [`${c.code_bytes} bytes of Wasm, hash `, T.el("span", { class: "mono" }, c.code_hash)]],
        ["Terms hash", T.el("span", { class: "mono" }, c.terms_hash)],
      ]),
      T.section("Arbitration clause", { id: "contract-arbitration" },
        T.sentence(`A dispute freezes an instance until ${a.quorum} of these arbiters rule within ${a.deadline_blocks} blocks` +
          (a.appeal ? "; past that, the appeal arbiter rules." : ".")),
        T.kv([
          ["Arbiters", people(a.arbiters)],
          ["Quorum", String(a.quorum)],
          ["Deadline", `${a.deadline_blocks} blocks`],
          ["Appeal arbiter", a.appeal ? T.link("owner", a.appeal, { full: true }) : "none"],
        ])),
      T.section("Terms", null, T.el("pre", { class: "terms", id: "contract-terms" }, c.terms)),
    ];
  };

  function statusOf(status) {
    if (typeof status === "string") return [T.capital(status), null];
    const d = status && status.frozen;
    if (!d) return ["Unknown", null];
    const dispute = T.section("Dispute", { id: "instance-dispute" },
      T.el("p", { class: "alert" }, "Frozen by a dispute opened by ", T.link("owner", d.opened_by), " at height ",
        String(d.opened_height), ": nothing it holds moves and no call runs until the arbiters rule."),
      T.kv([
        ["Reason (document hash)", T.el("span", { class: "mono" }, d.reason)],
        ["Arbiters rule by height", String(d.deadline_height)],
      ]));
    return ["Frozen by a dispute", dispute];
  }

  T.views.instance = async function (id) {
    let i;
    try {
      i = await T.rpc("contract_instance", [id]);
    } catch (e) {
      return [T.heading("Contract instance"), T.sentence(T.explain(e, "contract instance", id), "notice")];
    }
    const [status, dispute] = statusOf(i.status);
    const parties = T.table(["Party", "Accepted"], (i.parties || []).map((p, n) => [
      T.link("owner", p, { full: true }), i.accepted && i.accepted[n] ? "yes" : "not yet",
    ]), { id: "instance-parties" });
    const holdings = (i.holdings || []).length
      ? T.el("ul", { class: "values", id: "instance-holdings" }, i.holdings.map((r) => T.el("li", null, T.link("record", r, { full: true }))))
      : T.sentence("It holds nothing.");
    return [
      T.heading("Contract instance", T.el("span", { class: "mono" }, i.id)),
      T.kv([
        ["Contract", T.link("contract", i.contract, { full: true })],
        ["Status", status, { id: "instance-status" }],
        ["Created at", T.blockLink(i.created_height)],
        ["Account", T.link("owner", i.account, { full: true })],
      ]),
      dispute,
      T.section("Parties", null, parties),
      T.section("Holdings", null, holdings),
    ];
  };
})();
