// Yinji web console: plain JavaScript, no build step, no external resource.
// It talks only to this node's REST API (same origin) with the token the user signed in with
// (sessionStorage, sent as a Bearer header); what it shows follows that token's role.
// DOM is built with createElement/textContent only (never innerHTML with data).
"use strict";

const BADGE_MS = 30000;   // how often the approvals badge is refreshed (also on every page)
const TERMINAL = ["succeeded", "failed", "cancelled", "rejected", "expired"];
const PAGES = {   // page -> roles that see it (the API enforces the same)
  home: ["operator", "approver", "auditor", "admin"],
  inbox: ["operator", "approver", "auditor"],
  apps: ["operator", "approver", "auditor"],
  audit: ["auditor"],
  models: ["operator", "approver", "auditor"],
  gateway: ["auditor"],
};
const S = { token: sessionStorage.getItem("yinji-token"), me: null, lang: "en", dict: {},
            timers: [] };

// -- helpers ---------------------------------------------------------------------------------
function t(key, vars) {
  let s = S.dict[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function fmtTime(sec) {
  if (!sec) return "";
  return new Date(sec * 1000).toLocaleString(S.lang === "zh" ? "zh-CN" : "en-GB");
}

function cell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  if (typeof v === "number" && !Number.isInteger(v)) return v.toLocaleString("en", { maximumFractionDigits: 4 });
  return String(v);
}

function table(caption, columns, rows, opts) {
  const head = h("tr", {}, columns.map(c => h("th", { scope: "col" }, c)));
  const body = rows.map(r => h("tr", {}, r.map(v => h("td",
    { class: typeof v === "number" ? "num" : null }, v instanceof Node ? v : cell(v)))));
  return h("div", { class: "scroll" }, h("table", opts || {},
    h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body)));
}

function say(text, isError) {
  const st = document.getElementById("status");
  st.textContent = text;
  st.className = isError ? "status error" : "status";
  clearTimeout(S.sayTimer);
  if (!isError) S.sayTimer = setTimeout(() => { st.textContent = ""; }, 6000);
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: `Bearer ${S.token}` } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  if (r.status === 401) { signOut(t("signin.expired")); throw new Error(t("signin.expired")); }
  if (!r.ok) {
    let detail = r.statusText;
    try { const j = await r.json(); detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail); } catch (e) { /* not JSON */ }
    const err = new Error(`${r.status}: ${detail}`);
    err.status = r.status;
    throw err;
  }
  const type = r.headers.get("content-type") || "";
  return type.includes("json") ? r.json() : r.blob();
}

async function download(path, filename) {
  const blob = await api("GET", path);
  const url = URL.createObjectURL(blob instanceof Blob ? blob : new Blob([JSON.stringify(blob)]));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// A section that loads its content; a failure (e.g. 403 for this role) shows in place.
function section(title, load) {
  const id = "s-" + Math.random().toString(36).slice(2, 9);
  const body = h("div", { class: "body" }, h("p", { class: "muted" }, t("loading")));
  const sec = h("section", { "aria-labelledby": id }, h("h2", { id }, title), body);
  Promise.resolve().then(load)
    .then(content => body.replaceChildren(...[content].flat().filter(c => c !== null && c !== undefined && c !== false)))
    .catch(e => body.replaceChildren(h("p", { class: "error", role: "alert" }, e.message)));
  return sec;
}

function clearTimers() { S.timers.forEach(clearInterval); S.timers = []; }
function can(role) { return S.me && S.me.role === role; }

// -- language --------------------------------------------------------------------------------
async function setLang(lang) {
  S.lang = lang;
  localStorage.setItem("yinji-lang", lang);
  S.dict = await (await fetch(`i18n/${lang}.json`)).json();
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach(el => { el.textContent = t(el.dataset.i18n); });
  const btn = document.getElementById("lang");
  btn.textContent = lang === "zh" ? "English" : "中文";
  btn.lang = lang === "zh" ? "en" : "zh";
  btn.setAttribute("aria-label", t("lang.switch"));
  if (S.me) route();
}

// -- sign-in ---------------------------------------------------------------------------------
async function signIn(token) {
  S.token = token;
  const me = await api("GET", "/whoami");
  sessionStorage.setItem("yinji-token", token);
  S.me = me;
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("signout").hidden = false;
  document.getElementById("node-name").textContent = me.node;
  document.getElementById("who").textContent = `${me.name} · ${t("role." + me.role)}`;
  document.querySelectorAll("#nav a").forEach(a => {
    a.hidden = !PAGES[a.dataset.page].includes(me.role);
  });
  // every API call is an audit entry: poll slowly, and not while the tab is hidden
  S.badgeTimer = setInterval(() => { if (!document.hidden) pollBadge(); }, BADGE_MS);
  if (!location.hash || location.hash === "#main") location.hash = "#/home";
  else route();
}

function signOut(message) {
  clearTimers();
  clearInterval(S.badgeTimer);
  S.token = null;
  S.me = null;
  sessionStorage.removeItem("yinji-token");
  document.getElementById("nav").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("node-name").textContent = "";
  document.getElementById("view").replaceChildren();
  document.getElementById("signin").hidden = false;
  document.getElementById("signin-error").textContent = message || "";
  document.getElementById("token").focus();
}

// -- approvals badge -------------------------------------------------------------------------
function waiting(jobs) {
  return jobs.filter(j => j.state === "proposed" && !j.approvals.some(a => a.node === S.me.node));
}

async function pollBadge() {
  if (!S.me || !PAGES.inbox.includes(S.me.role)) return;
  try {
    const n = waiting(await api("GET", "/jobs?state=proposed")).length;
    const b = document.getElementById("badge");
    b.hidden = n === 0;
    b.textContent = String(n);
    b.setAttribute("aria-label", t("inbox.badge", { n }));
  } catch (e) { /* shown on the next page load */ }
}

// -- router ----------------------------------------------------------------------------------
function route() {
  if (!S.me || location.hash === "#main") return;   // the skip link, not a page
  clearTimers();
  const [page, ...rest] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const name = PAGES[page] ? page : "home";
  document.querySelectorAll("#nav a").forEach(a => {
    if (a.dataset.page === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const view = document.getElementById("view");
  pollBadge();
  if (!PAGES[name].includes(S.me.role)) {
    view.replaceChildren(h("p", { class: "error", role: "alert" }, t("forbidden")));
    return;
  }
  const render = { home: viewHome, inbox: viewInbox, apps: viewApps, audit: viewAudit,
                   models: viewModels, gateway: viewGateway }[name];
  view.replaceChildren(...[render(...rest)].flat());
  const h1 = view.querySelector("h1");
  if (h1) { h1.tabIndex = -1; h1.focus(); }
}

// -- home ------------------------------------------------------------------------------------
function viewHome() {
  return [h("h1", {}, t("home.title")),
    section(t("home.node"), async () => {
      const st = await api("GET", "/peers/status");
      const rows = st.peers.map(p => [p.name, h("code", {}, p.fingerprint), p.dataplane,
        p.cert_expires ? p.cert_expires.slice(0, 10) : "?",
        h("span", { class: p.reachable ? "ok" : "bad" }, p.reachable ? t("home.up") : t("home.down"))]);
      let info = [];
      try {
        const n = await api("GET", "/node");
        info = [h("dl", { class: "facts" },
          h("dt", {}, t("home.name")), h("dd", {}, n.name),
          h("dt", {}, t("home.fingerprint")), h("dd", {}, h("code", {}, n.fingerprint)),
          h("dt", {}, t("home.profile")), h("dd", {}, n.crypto_profile),
          h("dt", {}, t("home.dataplane")), h("dd", {}, n.dataplane),
          h("dt", {}, t("home.expires")), h("dd", {}, (st.cert_expires || "?").slice(0, 10)))];
        // certificates (own or peers') expiring within cert_warn_days: renew with
        // `yinji node rotate-cert` on the node concerned
        const warn = n.cert_warnings || [];
        if (warn.length) info.unshift(h("div", { class: "error", role: "alert", id: "cert-warnings" },
          h("strong", {}, t("home.cert_warnings")), h("ul", {}, warn.map(w => h("li", {}, String(w))))));
      } catch (e) { info = [h("p", {}, st.node)]; }
      return [...info, table(t("home.peers"), [t("home.peer"), t("home.fingerprint"),
        t("home.dataplane"), t("home.expires"), t("home.reachable")], rows)];
    }),
    section(t("home.datasets"), async () => {
      const ds = await api("GET", "/datasets");
      if (!ds.length) return h("p", {}, t("none"));
      return ds.map(d => h("div", { class: "card" },
        h("h3", {}, `${d.id} `, h("span", { class: "muted" }, `${d.kind} · r${d.revision}`)),
        table(t("home.schema"), [t("home.column"), t("home.type")], Object.entries(d.schema)),
        table(t("home.policy"), [t("home.columns"), t("home.protocols"), t("home.peers_allowed")],
          d.policy.map(p => [(p.columns || []).join(", "), (p.protocols || []).join(", ") || "*",
            (p.peers || []).join(", ") || "*"]))));
    })];
}

// -- approval inbox --------------------------------------------------------------------------
function othersDecisions(job) {
  // While a job waits, its proposer holds the decisions: ask it (GET /jobs/ID/decisions).
  const box = h("div", { class: "others", "data-decisions": job.id },
    h("p", { class: "muted" }, t("inbox.decisions_later", { p: job.proposer })));
  api("GET", `/jobs/${encodeURIComponent(job.id)}/decisions`).then(r => {
    const rows = r.decisions.map(d => [d.node, t("decision." + d.decision), d.reason || ""]);
    box.replaceChildren(rows.length
      ? table(t("inbox.decisions"), [t("inbox.company"), t("inbox.decision"), t("inbox.reason")], rows)
      : h("p", { class: "muted" }, t("inbox.no_decisions")));
  }).catch(() => {});   // the proposer unreachable: the note above stays
  return box;
}

function proposalCard(job) {
  const spec = job.spec || {};
  const params = Object.assign({}, spec.params || {});
  const version = params.app_version;
  for (const k of ["app_version", "roles", "compute"]) delete params[k];
  const inputs = Object.entries(spec.inputs || {}).map(([n, i]) =>
    [n, i.dataset, (i.columns || []).join(", "), (spec.params && spec.params.roles || {})[n] || ""]);
  const decisions = job.approvals.map(a => [a.node, t("decision." + a.decision),
    (a.record && a.record.reason) || ""]);
  const local = job.local_input;
  const reason = h("input", { id: `reason-${job.id}`, type: "text", class: "reason" });
  const decide = async (what) => {
    try {
      await api("POST", `/jobs/${encodeURIComponent(job.id)}/${what}`, { reason: reason.value });
      say(t(what === "approve" ? "inbox.approved" : "inbox.rejected", { id: job.id }));
      route();
    } catch (e) { say(e.message, true); }
  };
  const mine = job.approvals.some(a => a.node === S.me.node);
  return h("article", { class: "card proposal", "data-job": job.id, "aria-labelledby": `p-${job.id}` },
    h("h3", { id: `p-${job.id}` }, `${job.protocol.replace(/^app\./, "")}`,
      version ? h("span", { class: "muted" }, ` v${version}`) : null),
    h("dl", { class: "facts" },
      h("dt", {}, t("inbox.job")), h("dd", {}, h("code", {}, job.id)),
      h("dt", {}, t("inbox.proposer")), h("dd", {}, job.proposer),
      h("dt", {}, t("inbox.created")), h("dd", {}, fmtTime(job.created)),
      h("dt", {}, t("inbox.recipients")), h("dd", {}, (spec.recipients || []).join(", ")),
      local ? [h("dt", {}, t("inbox.local")), h("dd", {},
        `${local.dataset} · ${local.location || local.table || ""}` +
        (local.rows !== null && local.rows !== undefined ? ` · ${t("inbox.rows", { n: local.rows })}` : "") +
        (local.problem ? ` · ${local.problem}` : ""))] : null),
    table(t("inbox.params"), [t("inbox.param"), t("inbox.value")], Object.entries(params).map(([k, v]) => [k, cell(v)])),
    table(t("inbox.inputs"), [t("inbox.company"), t("inbox.dataset"), t("home.columns"), t("inbox.role")], inputs),
    decisions.length ? table(t("inbox.decisions"), [t("inbox.company"), t("inbox.decision"), t("inbox.reason")], decisions)
      : othersDecisions(job),
    can("approver") && !mine && job.state === "proposed" ? h("div", { class: "decide" },
      h("label", { for: `reason-${job.id}` }, t("inbox.reason")), reason,
      h("button", { type: "button", class: "approve", onclick: () => decide("approve") }, t("inbox.approve")),
      h("button", { type: "button", class: "reject", onclick: () => decide("reject") }, t("inbox.reject")))
      : null);
}

function viewInbox() {
  return [h("h1", {}, t("inbox.title")),
    section(t("inbox.waiting"), async () => {
      const jobs = waiting(await api("GET", "/jobs?state=proposed"));
      return jobs.length ? jobs.map(proposalCard) : h("p", {}, t("inbox.empty"));
    }),
    section(t("inbox.standing"), async () => {
      const rules = await api("GET", "/approvals/standing");
      if (!rules.length) return h("p", {}, t("none"));
      return table(t("inbox.standing"), [t("inbox.rule"), t("inbox.by"), t("inbox.expires"), t("inbox.state"), ""],
        rules.map(r => [h("code", {}, JSON.stringify(r.rule)), r.created_by,
          r.expires ? fmtTime(r.expires) : t("never"), t("state." + r.state),
          can("approver") && r.state === "active" ? h("button", { type: "button", onclick: async () => {
            try { await api("DELETE", `/approvals/standing/${encodeURIComponent(r.id)}`); say(t("inbox.revoked")); route(); }
            catch (e) { say(e.message, true); }
          } }, t("inbox.revoke")) : ""]));
    })];
}

// -- apps ------------------------------------------------------------------------------------
function viewApps(name, sub, runId) {
  if (name && sub === "runs" && runId) return viewRun(name, runId);
  if (name) return viewApp(name);
  return [h("h1", {}, t("apps.title")),
    section(t("apps.installed"), async () => {
      const apps = await api("GET", "/apps");
      return h("ul", { class: "apps" }, apps.map(a => h("li", {},
        h("a", { href: `#/apps/${encodeURIComponent(a.name)}` }, a.title || a.name),
        h("span", { class: "muted" }, ` ${a.name} v${a.version}`), h("p", {}, a.summary))));
    }),
    section(t("apps.recent"), async () => {
      const jobs = (await api("GET", "/jobs")).filter(j => j.protocol.startsWith("app."))
        .sort((a, b) => b.created - a.created).slice(0, 20);
      if (!jobs.length) return h("p", {}, t("none"));
      return table(t("apps.recent"), [t("inbox.job"), t("apps.app"), t("inbox.state"), t("inbox.created")],
        jobs.map(j => { const app = j.protocol.slice(4); return [
          h("a", { href: `#/apps/${encodeURIComponent(app)}/runs/${encodeURIComponent(j.id)}` }, j.id),
          app, t("state." + j.state), fmtTime(j.created)]; }));
    })];
}

function paramField(p) {
  const id = `param-${p.name}`;
  const bounds = [p.minimum !== null ? `≥ ${p.minimum}` : "", p.maximum !== null ? `≤ ${p.maximum}` : ""]
    .filter(Boolean).join(", ");
  let def = p.default;
  if (p.type === "rates" && def && typeof def === "object") def = Object.entries(def).map(([k, v]) => `${k}=${v}`).join(",");
  if (Array.isArray(def)) def = def.join(",");
  let input;
  if (p.choices && p.choices.length) {
    input = h("select", { id, name: p.name }, h("option", { value: "" }, def !== null ? `(${def})` : "—"),
      p.choices.map(c => h("option", { value: String(c) }, String(c))));
  } else if (p.type === "bool") {
    input = h("input", { id, name: p.name, type: "checkbox", checked: def === true });
  } else {
    input = h("input", { id, name: p.name, type: ["int", "float"].includes(p.type) ? "number" : "text",
      step: p.type === "float" ? "any" : null, min: p.minimum, max: p.maximum,
      placeholder: def !== null && def !== undefined ? String(def) : "" });
  }
  input.dataset.type = p.type;
  input.dataset.default = def === null || def === undefined ? "" : String(def);
  const hint = [p.type, bounds, def !== null && def !== undefined ? t("apps.default", { v: def }) : "",
    p.required ? t("apps.required") : "", p.help].filter(Boolean).join(" · ");
  return h("div", { class: "field" }, h("label", { for: id }, p.name), input,
    h("small", { id: `${id}-hint` }, hint));
}

function readParams(form) {
  const out = {};
  form.querySelectorAll("[data-type]").forEach(el => {
    if (el.type === "checkbox") {
      if (el.checked !== (el.dataset.default === "true")) out[el.name] = el.checked;
    } else if (el.value !== "") {
      out[el.name] = ["int", "float"].includes(el.dataset.type) ? Number(el.value) : el.value;
    }
  });
  return out;
}

function viewApp(name) {
  const head = h("h1", {}, name);
  return [head, section(t("apps.launch"), async () => {
    const app = await api("GET", `/apps/${encodeURIComponent(name)}`);
    head.textContent = app.title || app.name;
    const intro = [h("p", {}, app.summary), h("p", { class: "muted" }, `${app.name} v${app.version}`)];
    if (!can("operator")) return [...intro, h("p", {}, t("apps.operator_only"))];
    // default dataset: the first of ours whose schema has every column of the app's first
    // role (peers usually name theirs alike; the user can change it)
    const datasets = await api("GET", "/datasets");
    const want = app.roles.length ? app.roles[0].columns.map(c => c.name) : [];
    const fit = datasets.find(d => want.every(c => c in d.schema)) || datasets[0];
    const peers = (await api("GET", "/peers")).map(p => p.name);
    const companies = [S.me.node, ...peers];
    const roles = app.roles.map(r => r.name);
    const inputRows = companies.map((c, i) => {
      const id = `in-${i}`;
      return h("tr", {},
        h("td", {}, h("input", { type: "checkbox", id: `${id}-on`, checked: true, "data-company": c }),
          h("label", { for: `${id}-on` }, ` ${c}`)),
        h("td", {}, h("input", { type: "text", id: `${id}-ds`, value: fit ? fit.id : "",
          "aria-label": t("apps.dataset_of", { c }) })),
        h("td", {}, roles.length > 1 ? h("select", { id: `${id}-role`, "aria-label": t("apps.role_of", { c }) },
          roles.map(r => h("option", { value: r }, r))) : roles[0]));
    });
    const form = h("form", { class: "launch", "aria-label": t("apps.launch") },
      h("fieldset", {}, h("legend", {}, t("apps.params")), app.params.map(paramField)),
      h("fieldset", {}, h("legend", {}, t("apps.inputs")),
        h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("inbox.company")),
          h("th", { scope: "col" }, t("inbox.dataset")), h("th", { scope: "col" }, t("inbox.role")))),
        h("tbody", {}, inputRows))),
      h("div", { class: "field" }, h("label", { for: "recipients" }, t("apps.recipients")),
        h("input", { id: "recipients", type: "text", placeholder: t("apps.recipients_default") })),
      app.private_input ? h("div", { class: "field" }, h("label", { for: "private" }, t("apps.private")),
        h("textarea", { id: "private", rows: 6, "aria-describedby": "private-hint" }),
        h("small", { id: "private-hint" }, `${app.private_input} — ${t("apps.private_hint")}`)) : null,
      h("button", { type: "submit" }, t("apps.start")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const inputs = {};
      companies.forEach((c, i) => {
        if (!document.getElementById(`in-${i}-on`).checked) return;
        const role = document.getElementById(`in-${i}-role`);
        inputs[c] = { dataset: document.getElementById(`in-${i}-ds`).value, ...(role ? { role: role.value } : {}) };
      });
      const body = { params: readParams(form), inputs };
      const rec = document.getElementById("recipients").value.trim();
      if (rec) body.recipients = rec.split(",").map(s => s.trim()).filter(Boolean);
      const priv = document.getElementById("private");
      if (priv && priv.value.trim()) {
        try { body.private = JSON.parse(priv.value); }
        catch (e) { body.private = { ids: priv.value.split(/[\n,]/).map(s => s.trim()).filter(Boolean) }; }
      }
      try {
        const run = await api("POST", `/apps/${encodeURIComponent(name)}/runs`, body);
        say(t("apps.started", { id: run.job.id }));
        location.hash = `#/apps/${encodeURIComponent(name)}/runs/${encodeURIComponent(run.job.id)}`;
      } catch (e) { say(e.message, true); }
    });
    return [...intro, form];
  })];
}

// The report's charts, drawn on the node (matplotlib SVG inside report.html), shown here as
// <img> of an SVG blob: an image cannot run script or load anything, and the page's CSP
// stays strict. Figures are in report.html's order: per table, that table's charts.
async function showCharts(into, name, runId, report) {
  const specs = Object.keys(report.tables || {}).flatMap(tn => (report.charts || []).filter(c => c.table === tn));
  return chartsOf(into, `/apps/${encodeURIComponent(name)}/runs/${encodeURIComponent(runId)}/files/report.html`, specs);
}

async function chartsOf(into, path, specs) {
  const blob = await api("GET", path);
  const text = await blob.text();   // not parsed into a document: its inline CSS would trip our CSP
  // each figure names its chart (data-title, HTML-escaped by the report writer); `specs` only
  // for reports written before that
  const unescape = x => x.replace(/&#34;|&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const figs = [...text.matchAll(/<figure(?: data-title="([^"]*)")?>([\s\S]*?)<\/figure>/g)].map((m, i) => {
    const title = (m[1] && unescape(m[1])) || (specs[i] && specs[i].title) || t("run.chart", { n: i + 1 });
    const svg = m[2].match(/<svg\b[\s\S]*<\/svg>/);
    const note = (m[2].match(/<figcaption[^>]*>([^<]*)<\/figcaption>/) || [])[1] || "";
    if (!svg) return h("figure", {}, h("figcaption", {}, `${title}: ${note}`));
    const src = URL.createObjectURL(new Blob([svg[0]], { type: "image/svg+xml" }));
    return h("figure", {}, h("img", { src, alt: title }),
      h("figcaption", {}, note ? `${title} — ${note}` : title));
  });
  into.replaceChildren(...(figs.length ? figs : [h("p", {}, t("none"))]));
}

function viewRun(name, runId) {
  const prog = h("progress", { max: 1, value: 0, "aria-label": t("run.progress") });
  const state = h("span", { class: "state", id: "run-state" }, "…");
  const stage = h("span", { class: "muted" });
  const result = h("div", { id: "run-result" });
  const decisions = h("div", { id: "run-decisions" });
  const cancel = h("button", { type: "button", hidden: true, onclick: async () => {
    try { await api("POST", `/jobs/${encodeURIComponent(runId)}/cancel`); tick(); }
    catch (e) { say(e.message, true); }
  } }, t("run.cancel"));
  let shown = false;
  const tick = async () => {
    try {
      const run = can("operator")
        ? await api("GET", `/apps/${encodeURIComponent(name)}/runs/${encodeURIComponent(runId)}`)
        : { job: await api("GET", `/jobs/${encodeURIComponent(runId)}`) };
      const job = run.job;
      prog.value = job.progress || (job.state === "succeeded" ? 1 : 0);
      state.textContent = t("state." + job.state);
      state.dataset.state = job.state;
      stage.textContent = job.stage ? ` · ${job.stage}` : "";
      decisions.replaceChildren(table(t("inbox.decisions"), [t("inbox.company"), t("inbox.decision"), t("inbox.reason")],
        job.approvals.map(a => [a.node, t("decision." + a.decision), (a.record && a.record.reason) || ""])));
      cancel.hidden = !can("operator") || TERMINAL.includes(job.state);
      if (TERMINAL.includes(job.state)) {
        clearTimers();
        if (!shown) { shown = true; result.replaceChildren(...renderResult(name, runId, job, run)); }
      }
    } catch (e) { clearTimers(); say(e.message, true); }
  };
  tick();
  S.timers.push(setInterval(tick, 1000));
  return [h("h1", {}, t("run.title", { app: name })),
    h("p", {}, h("code", {}, runId), " · ", state, stage), prog, cancel, decisions, result];
}

function renderResult(name, runId, job, run) {
  const out = [];
  if (job.reason) out.push(h("p", {}, `${t("inbox.reason")}: ${job.reason}`));
  const report = run.report;
  if (!report) { out.push(h("p", {}, run.files ? t("run.no_report") : t("apps.operator_only"))); return out; }
  out.push(h("h2", {}, report.title));
  if (report.summary && report.summary.length) out.push(h("ul", {}, report.summary.map(s => h("li", {}, s))));
  if (run.files && run.files.length) {
    out.push(h("div", { class: "downloads", role: "group", "aria-label": t("run.downloads") },
      run.files.map(f => h("button", { type: "button", class: "download", "data-file": f, onclick: async () => {
        try { await download(`/apps/${encodeURIComponent(name)}/runs/${encodeURIComponent(runId)}/files/${encodeURIComponent(f)}`, f); }
        catch (e) { say(e.message, true); }
      } }, t("run.download", { f })))));
  }
  for (const [tname, tb] of Object.entries(report.tables || {})) {
    const rows = tb.rows.slice(0, 200);
    out.push(table(tname + (tb.rows.length > 200 ? ` (${t("run.first", { n: 200, total: tb.rows.length })})` : ""),
      tb.columns, rows, { class: "result" }));
  }
  if ((run.files || []).includes("report.html")) {
    const charts = h("div", { class: "charts" }, h("p", { class: "muted" }, t("loading")));
    out.push(h("section", { "aria-label": t("run.charts") }, h("h2", {}, t("run.charts")), charts));
    showCharts(charts, name, runId, report).catch(e => charts.replaceChildren(h("p", { class: "error" }, e.message)));
  }
  return out;
}

// -- audit -----------------------------------------------------------------------------------
function viewAudit() {
  const list = h("div", { id: "audit-list" });
  const fJob = h("input", { id: "f-job", type: "text" });
  const fUser = h("input", { id: "f-user", type: "text" });
  const fKind = h("select", { id: "f-kind" }, h("option", { value: "" }, t("audit.all")));
  let entries = [];
  const who = e => [e.actor, e.data.by, e.data.principal, e.data.name].filter(Boolean).join(" ");
  const draw = () => {
    const shown = entries.filter(e => (!fKind.value || e.kind === fKind.value) &&
      (!fUser.value || who(e).toLowerCase().includes(fUser.value.toLowerCase()))).slice(-500).reverse();
    list.replaceChildren(table(t("audit.timeline", { n: shown.length }),
      ["#", t("audit.time"), t("audit.kind"), t("audit.who"), t("audit.what")],
      shown.map(e => [e.seq, fmtTime(e.ts), e.kind, who(e), h("code", {}, JSON.stringify(e.data))]), { class: "audit" }));
  };
  const load = async () => {
    const q = fJob.value.trim() ? `&job_id=${encodeURIComponent(fJob.value.trim())}` : "";
    const v = await api("GET", "/audit/verify");
    const after = Math.max(0, v.entries - 10000);
    entries = await api("GET", `/audit?limit=10000&after=${after}${q}`);
    const kinds = [...new Set(entries.map(e => e.kind))].sort();
    const keep = fKind.value;
    fKind.replaceChildren(h("option", { value: "" }, t("audit.all")), ...kinds.map(k => h("option", { value: k }, k)));
    fKind.value = kinds.includes(keep) ? keep : "";
    draw();
  };
  const filters = h("form", { class: "filters", "aria-label": t("audit.filters") },
    h("label", { for: "f-job" }, t("audit.job")), fJob,
    h("label", { for: "f-user" }, t("audit.user")), fUser,
    h("label", { for: "f-kind" }, t("audit.kind")), fKind,
    h("button", { type: "submit" }, t("audit.apply")),
    h("button", { type: "button", onclick: () => download("/audit/export", `audit-${S.me.node}.jsonl`).catch(e => say(e.message, true)) },
      t("audit.export")));
  filters.addEventListener("submit", ev => { ev.preventDefault(); load().catch(e => say(e.message, true)); });
  fKind.addEventListener("change", draw);
  fUser.addEventListener("input", draw);   // user and event type filter what is loaded
  return [h("h1", {}, t("audit.title")),
    section(t("audit.verify"), async () => {
      const v = await api("GET", "/audit/verify");
      return [h("p", { id: "audit-verified", class: v.ok ? "ok" : "bad" },
        v.ok ? t("audit.verified", { n: v.entries }) : t("audit.broken")),
        v.problems.length ? h("ul", {}, v.problems.map(p => h("li", {}, p))) : null,
        h("p", { class: "muted" }, t("audit.head"), " ", h("code", {}, v.head))];
    }),
    section(t("audit.peers"), async () => {
      const p = await api("GET", "/audit/verify/peers");
      const anchor = h("button", { type: "button", id: "anchor-now", onclick: async () => {
        try { await api("POST", "/audit/anchor"); say(t("audit.anchored")); route(); }
        catch (e) { say(e.message, true); }
      } }, t("audit.anchor"));
      return [h("p", { id: "audit-peers", class: p.ok ? "ok" : "bad" }, p.ok ? t("audit.peers_ok") : t("audit.peers_bad")),
        table(t("audit.peers"), [t("home.peer"), t("audit.status"), t("audit.anchors"), t("audit.last_seq"), t("audit.problems")],
          Object.entries(p.peers).map(([n, c]) => [n, h("span", { class: c.status === "ok" ? "ok" : "bad" }, c.status),
            c.anchors, c.last_seq, c.problems.join("; ")]), { id: "peer-checks" }),
        p.problems.length ? h("ul", {}, p.problems.map(x => h("li", {}, x))) : null, anchor];
    }),
    h("section", { "aria-labelledby": "tl" }, h("h2", { id: "tl" }, t("audit.log")), filters,
      (load().catch(e => list.replaceChildren(h("p", { class: "error" }, e.message))), list))];
}

// -- models and scenario APIs ----------------------------------------------------------------
function viewModels() {
  return [h("h1", {}, t("models.title")),
    section(t("models.registry"), async () => {
      const ms = await api("GET", "/models");
      if (!ms.length) return h("p", {}, t("none"));
      const reg = table(t("models.registry"), [t("models.name"), t("models.version"), t("models.kind"),
        t("models.parties"), t("models.label"), t("models.metrics"), t("inbox.created")],
        ms.map(m => [m.name, m.version, m.kind, m.parties.join(", "), m.label_holder,
          Object.entries(m.metrics).map(([k, v]) => `${k}=${cell(v)}`).join(" "), fmtTime(m.created)]));
      // The label holder's model-health report (ROC/KS, calibration, lift) of each model it
      // trained here: the training job's report.html, its charts shown as images.
      const health = ms.filter(m => Object.keys(m.metrics).length && can("operator")).map(m => {
        const into = h("div", { class: "charts", "data-model": `${m.name}/v${m.version}` }, h("p", { class: "muted" }, t("loading")));
        const job = encodeURIComponent(m.job_id);
        api("GET", `/jobs/${job}/result`).then(r => {
          const report = (r.result && r.result.report) || {};
          const specs = Object.keys(report.tables || {}).flatMap(tn => (report.charts || []).filter(c => c.table === tn));
          return chartsOf(into, `/jobs/${job}/files/report.html`, specs);
        }).catch(() => into.replaceChildren(h("p", { class: "muted" }, t("models.no_report"))));
        return h("section", { "aria-label": `${m.name} v${m.version}` }, h("h3", {}, t("models.health", { m: `${m.name} v${m.version}` })), into);
      });
      return h("div", {}, reg, ...health);
    }),
    section(t("models.scenarios"), async () => {
      const sc = await api("GET", "/scenarios");
      let counts = {};
      if (can("auditor")) {
        for (const c of await api("GET", "/scenarios/calls?limit=10000")) {
          const k = `${c.scenario}/v${c.version}`;
          counts[k] = (counts[k] || 0) + 1;
        }
      }
      if (!sc.length) return h("p", {}, t("none"));
      return table(t("models.scenarios"), [t("models.name"), t("models.kind"), t("models.callers"),
        t("models.quota"), t("inbox.state"), t("models.calls")],
        sc.map(s => { const d = s.definition || s; return [`${d.name || s.name}/v${d.version || s.version}`,
          d.kind || "", (d.callers || []).join(", "), cell(d.quota || {}), s.state || "",
          can("auditor") ? (counts[`${d.name || s.name}/v${d.version || s.version}`] || 0) : "—"]; }));
    })];
}

// -- gateway ---------------------------------------------------------------------------------
function viewGateway() {
  return [h("h1", {}, t("gateway.title")),
    section(t("gateway.counts"), async () => {
      let g;
      try { g = await api("GET", "/gateway/summary"); }
      catch (e) { if (e.status === 404) return h("p", {}, t("gateway.none")); throw e; }
      if (!g.calls) return h("p", {}, t("gateway.none"));
      return [h("p", {}, t("gateway.total", { calls: g.calls, blocked: g.blocked })),
        table(t("gateway.users"), [t("gateway.user"), t("gateway.calls"), t("gateway.blocked")],
          Object.entries(g.users).map(([u, c]) => [u, c.calls, c.blocked])),
        table(t("gateway.categories"), [t("gateway.category"), t("gateway.replaced"), t("gateway.blocked")],
          Object.entries(g.categories).map(([k, c]) => [k, c.replaced, c.blocked]))];
    })];
}

// -- start -----------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  const saved = localStorage.getItem("yinji-lang");
  await setLang(saved || ((navigator.language || "").startsWith("zh") ? "zh" : "en"));
  document.getElementById("lang").addEventListener("click", () => setLang(S.lang === "zh" ? "en" : "zh"));
  document.getElementById("signout").addEventListener("click", () => signOut());
  document.getElementById("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("token");
    try { await signIn(input.value.trim()); input.value = ""; }
    catch (e) { document.getElementById("signin-error").textContent = t("signin.failed", { e: e.message }); }
  });
  window.addEventListener("hashchange", route);
  if (S.token) {
    try { await signIn(S.token); return; } catch (e) { /* fall through to the sign-in form */ }
  }
  signOut();
});
