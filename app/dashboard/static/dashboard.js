// The escalation-risk dashboard: reads the /v1 API with the reader's key (kept in sessionStorage).
"use strict";

const KEY = "escalation-risk.api-key";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (p) => `${(p * 100).toFixed(1)}%`;

class AuthNeeded extends Error {}

async function api(path, as = "json") {
  const key = sessionStorage.getItem(KEY);
  const response = await fetch(path, { headers: key ? { "X-API-Key": key } : {} });
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    throw new AuthNeeded(body.detail || `HTTP ${response.status}`);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.detail || `HTTP ${response.status} for ${path}`);
  }
  return as === "text" ? response.text() : response.json();
}

function askForKey(message) {
  $("key-form").hidden = false;
  $("key-error").textContent = sessionStorage.getItem(KEY) ? message : "";
  $("key").focus();
}

// Features as plain language, for drivers that come without a label of their own.
const FEATURE_WORDS = {
  events_7d: "events in the last 7 days", events_30d: "events in the last 30 days",
  events_365d: "events in the last year", days_since_last: "days since the last event",
  events_trend_30d: "trend in the number of events", history_days: "how long the dyad has a history",
  max_hostility_30d: "the most hostile action in 30 days", max_hostility_365d: "the most hostile action in a year",
  last_hostility: "how hostile the last action was", max_rung_30d: "the highest escalation rung in 30 days",
  last_rung: "the escalation rung of the last action", hostility_trend_30d: "trend in hostility",
  use_of_force_30d: "uses of force in 30 days", log_fatalities_30d: "fatalities in 30 days",
  log_fatalities_365d: "fatalities in the last year", log_civilian_fatalities_30d: "civilian deaths in 30 days",
  fatal_events_30d: "deadly events in 30 days", fatality_trend_30d: "trend in fatalities",
  responses_30d: "responses to the other side in 30 days", reciprocated_30d: "whether hostility was returned",
  tit_for_tat_chain_30d: "length of the tit-for-tat chain", response_lag_days: "days between blow and answer",
  cross_border_30d: "actions across a border in 30 days", standoff_30d: "stand-off weapons used in 30 days",
  deescalation_30d: "de-escalation steps in 30 days", major_power: "a major power is involved",
  contiguous: "the two share a border", rivalry: "the two are strategic rivals",
};

function driverText(d) {
  if (typeof d === "string") return esc(d);
  const c = Number(d.contribution ?? 0);
  const arrow = c > 0 ? `<span class="up" title="raises the risk">▲</span> ` : c < 0
    ? `<span class="down" title="lowers the risk">▼</span> ` : "";
  if (d.label) return arrow + esc(d.label); // the API's own plain-language sentence
  const label = d.text || d.description || FEATURE_WORDS[d.feature] || String(d.feature).replaceAll("_", " ");
  const dir = c >= 0 ? `<span class="up">raises</span>` : `<span class="down">lowers</span>`;
  const value = d.value === undefined ? "" : ` <span class="hint">(${esc(d.value)})</span>`;
  return `${arrow}${esc(label)}${value}: ${dir} the risk by ${Math.abs(c * 100).toFixed(1)} points`;
}

function levelBadge(level) {
  return `<span class="level level-${esc(level)}">${esc(level)}</span>`;
}

async function showRanking() {
  $("ranking-view").hidden = false;
  $("dyad-view").hidden = true;
  const started = performance.now();
  const filters = new URLSearchParams();
  const country = $("country").value.trim().toUpperCase();
  if (country) filters.set("country", country);
  if ($("min-level").value) filters.set("min_level", $("min-level").value);
  $("ranking-status").textContent = "loading…";
  const ranking = await api(`/dashboard/ranking?${filters}`);
  const dyads = ranking.items;
  const rows = dyads.map((d, i) =>
    `<tr data-dyad="${esc(d.id)}"><td class="num">${i + 1}</td>` +
    `<td><a href="#dyad=${encodeURIComponent(d.id)}">${esc(d.members.join(" – "))}</a></td>` +
    `<td>${esc(d.kind.replaceAll("_", " "))}</td><td>${levelBadge(d.level)}</td>` +
    `<td class="num">${pct(d.probability)} <span class="hint">${pct(d.low)}–${pct(d.high)}</span></td>` +
    `<td>${esc(d.last_event_on)}</td>` +
    `<td class="num">${esc(d.event_count)}</td></tr>`);
  $("ranking").tBodies[0].innerHTML = rows.join("");
  const ms = performance.now() - started;
  const status = $("ranking-status");
  status.dataset.count = dyads.length;
  status.dataset.ms = ms.toFixed(0);
  status.textContent = `${dyads.length.toLocaleString()} dyads${ranking.truncated ? " (the first)" : ""}, ` +
    `ranked by current risk (${(ms / 1000).toFixed(2)} s)`;
}

// The newest `keep` events of a dyad: /v1/events lists oldest first (id order), so page to the end.
async function recentEvents(path, keep = 1000) {
  let items = [], cursor = "";
  do {
    const page = await api(`/v1/events?dyad=${path}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items = items.concat(page.items).slice(-keep);
    cursor = page.next_cursor;
  } while (cursor);
  return items.sort((a, b) => (a.occurred_on < b.occurred_on) - (a.occurred_on > b.occurred_on) || b.id - a.id);
}

async function showDyad(id) {
  $("ranking-view").hidden = true;
  $("dyad-view").hidden = false;
  $("dyad-title").textContent = id;
  const path = encodeURIComponent(id);
  const [dyad, svg, events] = await Promise.all([
    api(`/v1/dyads/${path}`),
    api(`/dashboard/dyads/${path}/chart.svg`, "text"),
    recentEvents(path),
  ]);
  $("dyad-title").textContent = `${dyad.members.join(" – ")} (${dyad.kind.replaceAll("_", " ")})`;
  const r = dyad.current;
  $("dyad-summary").innerHTML = r
    ? `${levelBadge(r.level)} ${pct(r.probability)} probability ` +
      `<span class="hint">(${Math.round(r.interval.level * 100)}% interval ${pct(r.interval.low)}–${pct(r.interval.high)})</span> of ` +
      `<abbr title="${esc(target.definition)}">${esc(target.name)}</abbr>, as of ${esc(r.as_of)}; ` +
      `${esc(r.event_count)} events, the last on ${esc(r.last_event_on)} <span class="hint">(model ${esc(r.model_version)})</span>`
    : "not assessed yet";
  $("chart").innerHTML = svg; // SVG drawn by this service, its text escaped there
  $("explanation").textContent = r && typeof r.explanation === "string" ? r.explanation : "";
  const drivers = (r && r.drivers) || [];
  $("drivers").innerHTML = drivers.length ? drivers.map((d) => `<li>${driverText(d)}</li>`).join("")
    : "<li>no driver stands out: the risk is close to the model's reference</li>";
  $("events").tBodies[0].innerHTML = events.map((e) =>
    `<tr><td>${esc(e.occurred_on)}</td><td>${esc(e.action.replaceAll("_", " "))}${e.retaliation ? " (retaliation)" : ""}</td>` +
    `<td>${esc(e.actor1.name)}</td><td>${esc(e.actor2 ? e.actor2.name : "")}</td>` +
    `<td>${esc([e.location.admin1, e.location.country].filter(Boolean).join(", "))}</td>` +
    `<td class="num">${esc(e.fatalities ?? "")}</td><td>${esc(e.notes ?? "")}</td></tr>`).join("");
}

// The primary target the probabilities are about, from the model card (read once per page).
const target = { name: "", definition: "" };

async function route() {
  $("error").textContent = "";
  const match = location.hash.match(/^#dyad=(.+)$/);
  try {
    if (!target.name) {
      const model = await api("/v1/model");
      $("model").textContent = `model ${model.version}`;
      target.name = String(model.primary || "escalation").replaceAll("_", " ");
      target.definition = (model.target_definitions || {})[model.primary] || "";
    }
    if (match) await showDyad(decodeURIComponent(match[1]));
    else await showRanking();
    $("key-form").hidden = true;
    $("forget-key").hidden = !sessionStorage.getItem(KEY);
  } catch (err) {
    if (err instanceof AuthNeeded) askForKey(err.message);
    else $("error").textContent = err.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    route();
  });
  $("forget-key").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); location.hash = ""; showRanking().catch(
    (err) => (err instanceof AuthNeeded ? askForKey(err.message) : ($("error").textContent = err.message))); });
  $("ranking").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-dyad]");
    if (row) location.hash = `dyad=${encodeURIComponent(row.dataset.dyad)}`;
  });
  window.addEventListener("hashchange", route);
  route();
});
