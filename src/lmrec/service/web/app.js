// The lmrec app: one page over the service's own API (the same online path as every client).
// Views: For you, Search, an item, the cart, the profile. No build step, no dependencies.
import { el, request, say } from "/app/common.js";

const state = {
  user: sessionStorage.getItem("lmrec.user"),
  token: sessionStorage.getItem("lmrec.token") || "",
  config: { open: false },
};
const main = () => document.getElementById("main");

function api(method, path, body) {
  return request(method, path, body, state.token ? { authorization: `Bearer ${state.token}` } : {});
}

const uid = () => encodeURIComponent(state.user);
const cartKey = () => `lmrec.cart.${state.user}`;
const cart = () => JSON.parse(localStorage.getItem(cartKey()) || "[]");

// -- items and feedback --------------------------------------------------------------------
function itemCard(item, refresh) {
  const why = el("div", { class: "why", hidden: true });
  const card = el("li", {},
    el("a", { class: "title", href: `#/item/${encodeURIComponent(item.item_id)}` }, item.title || item.item_id),
    item.categories && item.categories.length ? el("p", { class: "meta" }, item.categories.join(" · ")) : null,
    item.reason ? el("p", { class: "reason" }, item.reason) : null,
    el("div", { class: "actions" },
      el("button", { type: "button", on: { click: () => feedback(item, "click", refresh, "Liked") } }, "Like"),
      el("button", { type: "button", on: { click: () => feedback(item, "not_interested", refresh, "Hidden") } }, "Not interested"),
      el("button", { type: "button", on: { click: () => addToCart(item, refresh) } }, "Add to cart"),
      el("button", { type: "button", "aria-expanded": "false", on: { click: (e) => toggleWhy(e.currentTarget, why, item) } }, "Why?"),
      state.config.ratings ? rating(item, refresh) : null,
    ),
    why,
  );
  return card;
}

function rating(item, refresh) {
  const select = el("select", { "aria-label": "Rating" },
    el("option", { value: "" }, "Rate…"), [5, 4, 3, 2, 1].map((n) => el("option", { value: String(n) }, `${n} ★`)));
  select.addEventListener("change", async () => {
    if (!select.value) return;
    try {
      await api("POST", "/v1/events", { events: [{ user_id: state.user, item_id: item.item_id, type: "rating",
                                                   value: Number(select.value), event_id: crypto.randomUUID(),
                                                   recommendation_id: item.recommendation_id }] });
      say(`Rated ${select.value}: ${item.title || item.item_id}`);
      await refresh();
    } catch (error) { say(error.message); }
  });
  return select;
}

function toggleWhy(button, box, item) {
  const open = box.hidden;
  box.hidden = !open;
  button.setAttribute("aria-expanded", String(open));
  if (!open) return;
  const x = item.explanation || {};
  const parts = [x.text || item.reason || "No explanation."];
  if (x.item) parts.push(`The item it cites from your history has the id ${x.item}.`);
  if (x.effect != null) parts.push(`Without it, this item's score would drop by ${Number(x.effect).toFixed(3)}.`);
  parts.push(`Kind of reason: ${x.kind || "model"}; score ${Number(item.score ?? 0).toFixed(3)}.`);
  box.replaceChildren(...parts.map((p) => el("p", {}, p)));
}

async function feedback(item, type, refresh, done) {
  try {
    await api("POST", "/v1/events", { events: [{ user_id: state.user, item_id: item.item_id, type,
                                                 event_id: crypto.randomUUID(),
                                                 recommendation_id: item.recommendation_id }] });
    say(`${done}: ${item.title || item.item_id}`);
    await refresh();
  } catch (error) { say(error.message); }
}

async function addToCart(item, refresh) {
  const items = cart().filter((i) => i.item_id !== item.item_id);
  items.push({ item_id: item.item_id, title: item.title });
  localStorage.setItem(cartKey(), JSON.stringify(items));
  await feedback(item, "cart", refresh, "Added to cart");
}

// the items of a served list, each knowing the list it came from: feedback on it is tied to
// that list (its recommendation_id), so the service can measure what its lists did
function served(recs) {
  return recs.items.map((i) => ({ ...i, recommendation_id: recs.recommendation_id }));
}

function list(name, items, refresh) {
  return el("ul", { class: "items", "aria-label": name }, items.map((i) => itemCard(i, refresh)));
}

// -- views ---------------------------------------------------------------------------------
async function forYou() {
  const box = el("div");
  const render = async () => {
    // the user's variety (in their profile) is applied by the service itself
    const recs = await api("POST", "/v1/recommendations", { user_id: state.user, k: 10 });
    const parts = [list("For you", served(recs), render)];
    if (recs.cold_start) {
      parts.unshift(el("p", {}, "Tell us what you like: press Like on a few of these, and the list changes at once."));
    }
    box.replaceChildren(...parts);
  };
  const profile = await api("GET", `/v1/users/${uid()}/profile`);
  const slider = el("input", { type: "range", id: "variety", min: "0", max: "1", step: "0.25",
                               value: String(profile.edits.variety || 0) });
  slider.addEventListener("change", async () => {
    await api("PATCH", `/v1/users/${uid()}/profile`, { variety: Number(slider.value) });
    say(`Variety: ${slider.value}`);
    await render();
  });
  await render();
  return [el("h1", {}, "For you"),
          el("div", { class: "row" }, el("label", { for: "variety" }, "Variety"), slider),
          box];
}

async function search() {
  const results = el("div");
  const input = el("input", { type: "search", id: "q", name: "q" });
  const blend = el("input", { type: "checkbox", id: "blend", checked: true });
  const run = async () => {
    if (!input.value.trim()) return;
    const weight = blend.checked ? 0.5 : 1.0;
    const recs = await api("POST", "/v1/recommendations",
                           { user_id: state.user, k: 10, query: input.value.trim(), query_weight: weight });
    results.replaceChildren(list("Results", served(recs), run));
  };
  const form = el("form", { role: "search", on: { submit: async (e) => { e.preventDefault(); await run(); } } },
    el("label", { for: "q" }, "Search"), input,
    el("div", { class: "row" }, blend, el("label", { for: "blend" }, "Blend with my taste")),
    el("button", { type: "submit", class: "primary" }, "Go"));
  return [el("h1", {}, "Search in plain words"), form, results];
}

async function itemPage(id) {
  const item = await api("GET", `/v1/items/${encodeURIComponent(id)}`);
  const box = el("div");
  const render = async () => {
    const similar = await api("GET", `/v1/items/${encodeURIComponent(id)}/similar?k=10`);
    box.replaceChildren(el("h2", {}, "Similar items"), list("Similar items", similar.items, render));
  };
  await render();
  return [el("h1", {}, item.title || item.item_id),
          item.categories?.length ? el("p", { class: "meta" }, item.categories.join(" · ")) : null,
          el("ul", { class: "items", "aria-label": "This item" }, itemCard(item, render)), box];
}

async function cartPage() {
  const items = cart();
  const parts = [el("h1", {}, "Your cart")];
  if (!items.length) return [...parts, el("p", {}, "The cart is empty.")];
  parts.push(el("ul", { class: "items", "aria-label": "Cart" }, items.map((i) => el("li", {},
    el("a", { class: "title", href: `#/item/${encodeURIComponent(i.item_id)}` }, i.title || i.item_id)))));
  const empty = el("button", { type: "button", on: { click: () => { localStorage.removeItem(cartKey()); route(); } } }, "Empty the cart");
  parts.push(el("div", { class: "actions" }, empty));
  try {
    const r = await api("POST", "/v1/cart/recommendations", { items: items.map((i) => i.item_id), user_id: state.user, k: 6 });
    parts.push(el("h2", {}, "Goes well with"), list("Goes well with", r.items, route));
  } catch (error) { parts.push(el("p", {}, `No complements: ${error.message}`)); }
  return parts;
}

async function profilePage() {
  const p = await api("GET", `/v1/users/${uid()}/profile`);
  const top = Math.max(1e-9, ...p.interests.map((i) => i.share));
  const interests = el("ul", { class: "items", "aria-label": "Interests" }, p.interests.slice(0, 12).map((i) =>
    el("li", { class: "bar" },
      el("span", {}, `${i.category}${i.muted ? " (muted)" : ""}`),
      bar(i.share / top),
      el("span", { class: "meta" }, `${Math.round(100 * i.share)}%`),
      i.muted
        ? el("button", { type: "button", on: { click: () => edit({ unmute_categories: [i.category] }) } }, "Unmute")
        : el("button", { type: "button", on: { click: () => edit({ mute_categories: [i.category] }) } }, "Mute"))));
  const history = el("ul", { class: "items", "aria-label": "History" }, (p.recent || []).slice(0, 20).map((h) =>
    el("li", { class: "row" }, el("span", {}, h.title || h.item_id),
       el("button", { type: "button", on: { click: () => edit({ remove_items: [h.item_id] }) } }, "Remove"))));
  const muted = p.edits.muted_categories.map((c) => el("li", { class: "row" }, el("span", {}, c),
    el("button", { type: "button", on: { click: () => edit({ unmute_categories: [c] }) } }, "Unmute")));
  const rights = el("div", { class: "actions" },
    el("button", { type: "button", on: { click: download } }, "Download my data"),
    el("button", { type: "button", on: { click: forget } }, "Delete my data"));
  return [el("h1", {}, `Your profile (${p.activity.interactions} interactions)`),
          el("h2", {}, "Interests"), interests,
          el("h2", {}, "Muted categories"), muted.length ? el("ul", { class: "items", "aria-label": "Muted" }, muted) : el("p", {}, "None."),
          el("h2", {}, "History"), history,
          el("h2", {}, "Your data"), rights];
}

function bar(fraction) {
  const fill = el("span", { class: "fill", "aria-hidden": "true" });
  fill.style.width = `${Math.max(0.2, 8 * fraction).toFixed(2)}rem`; // CSSOM: allowed by the page's CSP
  return fill;
}

async function edit(change) {
  try { await api("PATCH", `/v1/users/${uid()}/profile`, change); say("Profile changed"); await route(); }
  catch (error) { say(error.message); }
}

async function download() {
  const data = await api("GET", `/v1/users/${uid()}/export`);
  const link = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" })),
                         download: `lmrec-data-${state.user}.json` });
  document.body.append(link);
  link.click();
  link.remove();
  say("Your data is downloading");
}

async function forget() {
  if (!confirm("Delete everything stored about you? Your lists start again from scratch.")) return;
  await api("DELETE", `/v1/users/${uid()}`);
  localStorage.removeItem(cartKey());
  signOut();
  say("Your data was deleted");
}

function signIn() {
  const user = el("input", { type: "text", id: "user", name: "user", autocomplete: "username", required: true });
  const token = el("input", { type: "password", id: "token", name: "token", autocomplete: "off" });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { on: { submit: async (e) => {
    e.preventDefault();
    state.user = user.value.trim();
    state.token = token.value.trim();
    try {
      await api("GET", `/v1/users/${uid()}/profile`);
    } catch (err) { error.textContent = `Cannot sign in: ${err.message}`; state.user = null; return; }
    sessionStorage.setItem("lmrec.user", state.user);
    sessionStorage.setItem("lmrec.token", state.token);
    location.hash = "#/";
    await route();
  } } },
  el("label", { for: "user" }, "User id"), user,
  state.config.open ? null : el("label", { for: "token" }, "User token"),
  state.config.open ? null : token,
  el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, "Sign in")), error);
  return [el("h1", {}, "Sign in"),
          el("p", {}, state.config.open ? "Pick a user id from the dataset, or a new one to start from scratch."
                                        : "Your user id and the token your service gave you."), form];
}

function signOut() {
  state.user = null;
  state.token = "";
  sessionStorage.removeItem("lmrec.user");
  sessionStorage.removeItem("lmrec.token");
  location.hash = "#/";
  route();
}

let routing = 0; // the latest navigation: a slower, earlier one must not draw over it

async function route() {
  const mine = ++routing;
  const signedIn = Boolean(state.user);
  document.getElementById("nav").hidden = !signedIn;
  const [, view, arg] = (location.hash || "#/").split("/");
  let parts;
  try {
    if (!signedIn) parts = signIn();
    else if (view === "search") parts = await search();
    else if (view === "item") parts = await itemPage(decodeURIComponent(arg || ""));
    else if (view === "cart") parts = await cartPage();
    else if (view === "profile") parts = await profilePage();
    else parts = await forYou();
  } catch (error) {
    parts = [el("h1", {}, "Something went wrong"), el("p", { class: "error" }, error.message)];
  }
  if (mine === routing) main().replaceChildren(...parts.filter(Boolean));
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  try { state.config = await api("GET", "/app/config.json"); } catch { /* defaults */ }
  window.addEventListener("hashchange", route);
  await route();
});
