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

function experiments() {
  return [el("h2", { id: "experiments" }, "Experiments"),
          el("p", {}, "No experiment results yet: A/B tests and interleaving will report here.")];
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
                   ...(await catalog()), ...experiments()];
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
