// The operator console: model versions (activate, roll back), live traffic from the service's
// own counters, the catalog (add, edit, hide), and experiment results. Admin key required.
import { el, request, say } from "/app/common.js";

const state = { key: sessionStorage.getItem("lmrec.adminKey") || "", config: { open: false }, last: null, timer: null };

function api(method, path, body) {
  return request(method, path, body, state.key ? { "x-api-key": state.key } : {});
}

const fmt = (x, digits = 4) => (x == null ? "—" : Number(x).toFixed(digits));

// -- versions ------------------------------------------------------------------------------
async function versions() {
  const m = await api("GET", "/v1/models");
  const rows = m.versions.map((v) => {
    const d = m.details[v] || {};
    const evaluation = d.evaluation || {};
    const model = (d.models || [])[0];
    const numbers = (model && evaluation[model]) || {};
    const active = v === m.active.version;
    return el("tr", {},
      el("th", { scope: "row" }, v), el("td", {}, (d.models || []).join(", ")),
      el("td", {}, d.trained_at || "—"), el("td", {}, fmt(numbers["NDCG@10"])), el("td", {}, fmt(numbers["HR@10"])),
      el("td", {}, active ? "active" : el("button", { type: "button", "aria-label": `Activate ${v}`,
        on: { click: () => act(`/v1/models/${encodeURIComponent(v)}/activate`, `Activated ${v}`) } }, "Activate")));
  });
  const back = el("button", { type: "button", disabled: !m.previous,
    on: { click: () => act("/v1/models/rollback", "Rolled back") } }, "Roll back");
  return [el("h2", { id: "versions" }, "Model versions"),
          el("p", {}, `Active: ${m.active.version} (${m.active.model})`),
          el("div", { class: "scroll" }, el("table", { "aria-label": "Model versions" },
            el("thead", {}, el("tr", {}, ["version", "models", "trained", "NDCG@10", "HR@10", ""].map((h) => el("th", { scope: "col" }, h)))),
            el("tbody", {}, rows))),
          el("div", { class: "actions" }, back)];
}

async function act(path, done) {
  try { await api("POST", path); say(done); await render(); } catch (error) { say(error.message); }
}

// -- traffic -------------------------------------------------------------------------------
function percentile(buckets, q) {
  const total = buckets.reduce((s, b) => s + b[1], 0);
  if (!total) return null;
  let seen = 0;
  for (const [le, n] of buckets) { seen += n; if (seen >= q * total) return le; }
  return null;
}

function trafficNumbers(now, before) {
  const seconds = before ? Math.max(1e-6, now.at - before.at) : null;
  const count = (snap, pred) => snap.requests.filter(pred).reduce((s, r) => s + r.count, 0);
  const all = (r) => r.route !== "/v1/ops/traffic";
  const errors = (r) => all(r) && Number(r.status) >= 500;
  const n = count(now, all) - (before ? count(before, all) : 0);
  const e = count(now, errors) - (before ? count(before, errors) : 0);
  const route = "/v1/recommendations";
  const cum = (snap) => (snap.latency[route] || []);
  const nowB = cum(now), prevB = before ? cum(before) : [];
  const delta = nowB.map(([le, c], i) => [le, c - (i > 0 ? nowB[i - 1][1] : 0) - ((prevB[i]?.[1] ?? 0) - (i > 0 ? (prevB[i - 1]?.[1] ?? 0) : 0))]);
  return { rate: seconds ? n / seconds : null, errorRate: n ? e / n : 0,
           p50: percentile(delta, 0.5), p95: percentile(delta, 0.95), p99: percentile(delta, 0.99) };
}

async function traffic() {
  const box = el("dl", { "aria-label": "Traffic" });
  const update = async () => {
    const now = await api("GET", "/v1/ops/traffic");
    const t = trafficNumbers(now, state.last);
    state.last = now;
    const ms = (s) => (s == null ? "—" : `≤ ${Math.round(s * 1000)} ms`);
    box.replaceChildren(
      el("dt", {}, "Requests per second"), el("dd", {}, t.rate == null ? "measuring…" : t.rate.toFixed(1)),
      el("dt", {}, "Error rate (5xx)"), el("dd", {}, `${(100 * t.errorRate).toFixed(2)}%`),
      el("dt", {}, "Recommendation latency p50 / p95 / p99"), el("dd", {}, `${ms(t.p50)} / ${ms(t.p95)} / ${ms(t.p99)}`));
  };
  await update();
  clearInterval(state.timer);
  state.timer = setInterval(() => update().catch(() => {}), 2000);
  return [el("h2", { id: "traffic" }, "Live traffic"), box,
          el("p", { class: "meta" }, "From this worker's own counters, over the last 2 seconds.")];
}

// -- catalog -------------------------------------------------------------------------------
async function catalog() {
  const page = await api("GET", "/v1/items?limit=100");
  const id = el("input", { type: "text", id: "item-id", required: true });
  const title = el("input", { type: "text", id: "item-title", required: true });
  const cats = el("input", { type: "text", id: "item-categories" });
  const hidden = el("input", { type: "checkbox", id: "item-hidden" });
  const save = async (item) => {
    try { await api("PUT", "/v1/items", [item]); say(`Saved ${item.item_id}`); await render(); }
    catch (error) { say(error.message); }
  };
  const form = el("form", { on: { submit: (e) => { e.preventDefault(); save({ item_id: id.value.trim(), title: title.value.trim(),
      categories: cats.value.split(",").map((c) => c.trim()).filter(Boolean), hidden: hidden.checked }); } } },
    el("label", { for: "item-id" }, "Item id"), id, el("label", { for: "item-title" }, "Title"), title,
    el("label", { for: "item-categories" }, "Categories (comma-separated)"), cats,
    el("div", { class: "row" }, hidden, el("label", { for: "item-hidden" }, "Hidden")),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Save item")));
  const added = el("ul", { class: "items", "aria-label": "Added items" }, page.added.map((i) => el("li", { class: "row" },
    el("span", {}, `${i.item_id}: ${i.title}${i.hidden ? " (hidden)" : ""}`),
    el("button", { type: "button", "aria-label": `${i.hidden ? "Show" : "Hide"} ${i.item_id}`,
      on: { click: () => save({ ...i, hidden: !i.hidden }) } }, i.hidden ? "Show" : "Hide"))));
  return [el("h2", { id: "catalog" }, "Catalog"),
          el("p", {}, `${page.total} trained items, ${page.total_added} added or changed through the API. `
                      + "To change or hide a trained item, save it here under its own id."),
          form, el("h3", {}, "Added or changed"), page.added.length ? added : el("p", {}, "None yet.")];
}

const ci = (e, digits = 4) => (e && e.mean != null
  ? `${fmt(e.mean, digits)}${e.ci95 && e.ci95[0] != null ? ` [${fmt(e.ci95[0], digits)}, ${fmt(e.ci95[1], digits)}]` : ""}` : "—");
const pct = (e) => (e && e.mean != null
  ? `${(100 * e.mean).toFixed(1)}% [${(100 * e.ci95[0]).toFixed(1)}%, ${(100 * e.ci95[1]).toFixed(1)}%]` : "—");

function table(label, head, rows) {
  return el("div", { class: "scroll" }, el("table", { "aria-label": label },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, j) => (j === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c))))))));
}

async function online() {
  const m = await api("GET", "/v1/metrics/online");
  const rows = m.groups.map((g) => [g.variant ? `${g.version} / ${g.variant}` : g.version, String(g.lists), String(g.users),
    ci(g.ctr), fmt(g.conversion.cart, 3), fmt(g.coverage, 3), g.latency_ms.p95 == null ? "—" : `${g.latency_ms.p95.toFixed(1)} ms`]);
  return [el("h2", { id: "online" }, "What lists did (last day)"),
          rows.length ? table("Online metrics", ["version", "lists", "users", `CTR@${m.k} [95% CI]`, "cart rate", "coverage", "p95"], rows)
                      : el("p", {}, "No list served in the last day.")];
}

async function experimentResults(e) {
  const r = await api("GET", `/v1/experiments/${encodeURIComponent(e.name)}`);
  const parts = [el("h3", {}, `${e.name} (${e.kind === "ab" ? "A/B" : "interleaving"}, ${e.running ? "running" : "stopped"})`)];
  parts.push(table(`Variants of ${e.name}`, ["variant", "version", "users", "impressions", "clicks", "CTR [95% CI]"],
    r.variants.map((v) => [v.name, v.version, String(v.users), String(v.impressions), String(v.clicks), ci(v.ctr)])));
  const rows = r.comparisons.map((c) => [c.variant, c.lift ? pct(c.lift) : `prefers ${c.variant}: ${pct(c.preference)}`,
    fmt(c.p_value, 3), fmt(c.always_valid_p, 3)]);
  parts.push(table(`Comparisons of ${e.name}`, ["variant", e.kind === "ab" ? "lift of CTR [95% CI]" : "preference [95% CI]",
    "p-value", "always-valid p"], rows));
  parts.push(el("p", { class: "meta" }, `Sample-ratio mismatch p = ${fmt(r.srm_p, 3)}`
    + (r.srm_p < 0.001 ? ": the split is off; check the assignment before trusting these numbers." : ".")
    + " Watch the always-valid p: it stays valid however often you look."));
  if (e.running) {
    parts.push(el("div", { class: "actions" }, el("button", { type: "button", "aria-label": `Stop ${e.name}`,
      on: { click: () => act(`/v1/experiments/${encodeURIComponent(e.name)}/stop`, `Stopped ${e.name}`) } }, "Stop")));
  }
  return parts;
}

async function experiments() {
  const [list, models] = await Promise.all([api("GET", "/v1/experiments"), api("GET", "/v1/models")]);
  const name = el("input", { type: "text", id: "exp-name", required: true });
  const kind = el("select", { id: "exp-kind" }, el("option", { value: "ab" }, "A/B test"),
                  el("option", { value: "interleaving" }, "Interleaving"));
  const pick = (id) => el("select", { id }, models.versions.map((v) => el("option", { value: v }, v)));
  const a = pick("exp-a"), b = pick("exp-b");
  if (models.versions.length > 1) b.value = models.versions[1];
  const form = el("form", { on: { submit: async (ev) => {
    ev.preventDefault();
    const same = a.value === b.value;
    const variants = [{ name: same ? "A" : a.value, version: a.value }, { name: same ? "B" : b.value, version: b.value }];
    try { await api("POST", "/v1/experiments", { name: name.value.trim(), kind: kind.value, variants });
          say(`Started ${name.value.trim()}`); await render(); }
    catch (error) { say(error.message); }
  } } },
  el("label", { for: "exp-name" }, "Experiment name"), name, el("label", { for: "exp-kind" }, "Kind"), kind,
  el("label", { for: "exp-a" }, "Control version"), a, el("label", { for: "exp-b" }, "Treatment version"), b,
  el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Start experiment")));
  const parts = [el("h2", { id: "experiments" }, "Experiments")];
  const running = list.experiments.filter((e) => e.running);
  const shown = [...running, ...list.experiments.filter((e) => !e.running).slice(-3)];
  for (const e of shown) parts.push(...(await experimentResults(e)));
  if (!shown.length) parts.push(el("p", {}, "No experiment yet."));
  if (!running.length) parts.push(el("h3", {}, "Start one"), form);
  return parts;
}

// -- shell ---------------------------------------------------------------------------------
function signIn() {
  const key = el("input", { type: "password", id: "key", autocomplete: "off", required: !state.config.open });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { on: { submit: async (e) => {
    e.preventDefault();
    state.key = key.value.trim();
    try { await api("GET", "/v1/ops/traffic"); }
    catch (err) { error.textContent = `Cannot sign in: ${err.message}`; state.key = ""; return; }
    sessionStorage.setItem("lmrec.adminKey", state.key);
    state.signedIn = true;
    await render();
  } } }, el("label", { for: "key" }, "Admin key"), key,
  el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Sign in")), error);
  return [el("h1", {}, "Operator console"), form];
}

async function render() {
  const main = document.getElementById("main");
  const signedIn = Boolean(state.signedIn);
  document.getElementById("nav").hidden = !signedIn;
  if (!signedIn) { clearInterval(state.timer); main.replaceChildren(...signIn()); return; }
  try {
    const parts = [el("h1", {}, "Operator console"), ...(await versions()), ...(await traffic()),
                   ...(await catalog()), ...(await online()), ...(await experiments())];
    main.replaceChildren(...parts);
  } catch (error) {
    main.replaceChildren(el("h1", {}, "Something went wrong"), el("p", { class: "error" }, error.message));
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("sign-out").addEventListener("click", () => {
    state.key = ""; state.signedIn = false; sessionStorage.removeItem("lmrec.adminKey"); render();
  });
  try { state.config = await api("GET", "/app/config.json"); } catch { /* defaults */ }
  state.signedIn = Boolean(state.key);
  await render();
});
