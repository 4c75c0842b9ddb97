// The condominium view (Art. 35): its agreement, participants' shares as a pie
// chart (plain SVG), its objects, and its proposals with their tallies against
// the threshold.
"use strict";

(function () {
  const COLORS = ["#1d4e89", "#e07a1f", "#2a9d8f", "#c0392b", "#7b5ea7", "#8d6e3f", "#3b8b2e", "#d4a017"];
  const R = 70;
  const C = 80;

  function point(angle) {
    return `${(C + R * Math.cos(angle)).toFixed(3)} ${(C + R * Math.sin(angle)).toFixed(3)}`;
  }

  /** Slices of a pie, one per participant, from 12 o'clock clockwise. */
  function pie(participants, denominator) {
    const svg = T.svg("svg", { viewBox: "0 0 160 160", class: "pie", id: "condo-chart", role: "img", "aria-label": "Participants' shares" });
    let start = -Math.PI / 2;
    participants.forEach((p, i) => {
      const fraction = denominator > 0 ? p.share.num / denominator : 0;
      const fill = COLORS[i % COLORS.length];
      const title = T.svg("title", null, `${p.subject}: ${p.fraction}`);
      if (fraction >= 0.99999) {
        svg.append(T.svg("circle", { cx: C, cy: C, r: R, fill, "data-subject": p.subject }, title));
        return;
      }
      const end = start + fraction * 2 * Math.PI;
      const large = end - start > Math.PI ? 1 : 0;
      const d = `M ${C} ${C} L ${point(start)} A ${R} ${R} 0 ${large} 1 ${point(end)} Z`;
      svg.append(T.svg("path", { d, fill, stroke: "#fff", "stroke-width": 1, "data-subject": p.subject }, title));
      start = end;
    });
    return svg;
  }

  function legend(participants) {
    return T.el("ul", { class: "legend", id: "condo-participants" }, participants.map((p, i) => {
      const swatch = T.svg("svg", { viewBox: "0 0 10 10", class: "swatch" }, T.svg("rect", { width: 10, height: 10, fill: COLORS[i % COLORS.length] }));
      return T.el("li", { "data-subject": p.subject }, swatch, " ", T.el("strong", null, p.fraction), " ",
        T.link("owner", p.subject), " · share records ", (p.records || []).map((r, n) => [n ? ", " : "", T.link("record", r)]));
    }));
  }

  function parseFraction(text) {
    const m = /^(\d+)\/(\d+)$/.exec(String(text || ""));
    return m && Number(m[2]) > 0 ? Number(m[1]) / Number(m[2]) : null;
  }

  /** The tally as a bar, with the threshold marked. */
  function tallyBar(p) {
    const tally = p.tally && p.tally.den > 0 ? p.tally.num / p.tally.den : 0;
    const threshold = parseFraction(p.threshold);
    const svg = T.svg("svg", { viewBox: "0 0 200 14", class: "tally", role: "img", "aria-label": `Tally ${p.tally_fraction}, threshold ${p.threshold}` },
      T.svg("rect", { width: 200, height: 14, fill: "#e4e8ee", rx: 3 }),
      T.svg("rect", { width: (200 * Math.min(tally, 1)).toFixed(2), height: 14, fill: "#2a9d8f", rx: 3 }));
    if (threshold !== null) {
      svg.append(T.svg("line", { x1: 200 * threshold, x2: 200 * threshold, y1: 0, y2: 14, stroke: "#c0392b", "stroke-width": 2 }));
    }
    return svg;
  }

  function actionText(action) {
    const kind = action && typeof action === "object" ? Object.keys(action)[0] : action;
    return T.capital(T.words(kind || "?"));
  }

  function openProposal(p) {
    const tally = p.tally_fraction ? `${p.tally_fraction} voted for it` : "decided by the governing contract";
    const needs = p.threshold ? `; it needs ${p.threshold}` : "";
    const action = p.action && typeof p.action === "object" ? p.action[Object.keys(p.action)[0]] : null;
    return T.el("li", { class: "proposal", "data-number": p.number },
      T.el("h3", null, `#${p.number}: ${actionText(p.action)}`),
      T.el("p", { class: "sentence" }, `${tally}${needs}. Open until height ${p.deadline_height}; proposed by `, T.link("owner", p.proposer), "."),
      p.tally ? tallyBar(p) : null,
      action && typeof action === "object" ? T.fields(action) : null,
      T.kv([["Voters", T.value("voters", p.voters)]]));
  }

  function proposals(list) {
    const open = list.filter((p) => p.status === "open");
    const past = list.filter((p) => p.status !== "open");
    return [
      T.section("Open proposals", { id: "condo-proposals" }, open.length
        ? T.el("ul", { class: "proposals" }, open.map(openProposal))
        : T.sentence("No proposal is open.")),
      past.length ? T.section("Past proposals", null, T.table(["#", "Action", "Status", "Tally", "Threshold"], past.map((p) => [
        String(p.number), actionText(p.action), T.capital(p.status) + (p.executed_height != null ? ` at ${p.executed_height}` : ""),
        p.tally_fraction || "—", p.threshold || "—",
      ]))) : null,
    ];
  }

  function objects(title, list) {
    if (!list || !list.length) return null;
    return T.section(title, null, T.table(["Record", "Description", "Owner", "Status"], list.map((o) => [
      T.link("record", o.record), T.el("span", { class: "text" }, o.description || "—"), T.link("owner", o.owner), T.capital(o.status || "—"),
    ])));
  }

  function governance(g) {
    const rows = [["Decided by", g.kind === "contract" ? ["contract instance ", T.link("instance", g.instance)] : T.capital(g.kind)]];
    if (g.mandate) rows.push(["Representative", T.link("owner", g.mandate.representative, { full: true })]);
    const thresholds = g.thresholds
      ? T.table(["Decision", "Share needed"], Object.entries(g.thresholds).map(([k, v]) => [T.capital(T.words(k)), v]))
      : null;
    return T.section("Governance", null, T.kv(rows), thresholds);
  }

  T.views.condo = async function (id) {
    let c;
    try {
      c = await T.rpc("condo_get", [id]);
    } catch (e) {
      return [T.heading("Condominium"), T.sentence(T.explain(e, "condominium", id), "notice")];
    }
    const props = await T.rpc("condo_proposals", [id]).catch(() => ({ proposals: [] }));
    const participants = c.participants || [];
    return [
      T.heading("Digital condominium", T.el("span", { class: "mono" }, c.id)),
      T.kv([
        ["Status", c.status === "dissolved" ? `Dissolved at height ${c.dissolved_height}` : "Active", { id: "condo-status" }],
        ["Founded", ["at ", T.blockLink(c.created_height), " by ", T.link("owner", c.created_by)]],
        ["Account", T.link("owner", c.account, { full: true })],
        ["Shares", `in ${c.denominator} parts`],
        ["Pre-emption window", `${c.preemption_blocks} blocks`],
      ]),
      T.section("Participants", null, T.el("div", { class: "chart" }, pie(participants, c.denominator), legend(participants))),
      T.section("Agreement", null, T.el("pre", { class: "terms", id: "condo-agreement" }, c.agreement)),
      governance(c.governance || {}),
      objects("Shared objects", c.shared),
      objects("Individual objects", c.individual),
      proposals(props.proposals || []),
    ];
  };
})();
