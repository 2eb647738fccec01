// The escalation-risk dashboard: an analyst's workbench over the /v1 API and /dashboard views, with the reader's
// key (kept in sessionStorage). Views live in the URL's hash (#, #dyad/ID, #country/ISO3, #map, #extract, each with
// ?as_of=), so a link shows a colleague the same picture. Everything is drawn here: no library, nothing fetched
// from elsewhere.
"use strict";

const KEY = "escalation-risk.api-key";
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (p) => `${(p * 100).toFixed(1)}%`;
const LEVELS = ["low", "elevated", "high", "critical"];
const LEVEL_COLOURS = { low: "#3d7a22", elevated: "#8a6508", high: "#b35400", critical: "#b0142a" };
const EVENTS_PAGE = 25;

class AuthNeeded extends Error {}

function headers(extra = {}) {
  const key = sessionStorage.getItem(KEY);
  return key ? { "X-API-Key": key, ...extra } : extra;
}

async function api(path, body) {
  const init = body === undefined ? { headers: headers() }
    : { method: "POST", headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify(body) };
  const response = await fetch(path, init);
  if (response.status === 401 || response.status === 403) {
    const problem = await response.json().catch(() => ({}));
    throw new AuthNeeded(problem.detail || `HTTP ${response.status}`);
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    const where = problem.field ? ` (${problem.field})` : "";
    const more = (problem.errors || []).map((e) => `${e.field}: ${e.detail}`).join("; ");
    throw new Error(`${more || problem.detail || `HTTP ${response.status} for ${path}`}${more ? "" : where}`);
  }
  return response.json();
}

function svg(tag, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function titled(el, text) {
  svg("title", {}, el).textContent = text;
  return el;
}

function askForKey(message) {
  $("key-form").hidden = false;
  $("key-error").textContent = sessionStorage.getItem(KEY) ? message : "";
  $("key").focus();
}

const KINDS = { state_state: "interstate", state_nonstate: "state vs armed group",
  nonstate_nonstate: "between armed groups", state_civilians: "state against civilians",
  nonstate_civilians: "armed group against civilians" };
const kindName = (kind) => KINDS[kind] || kind.replaceAll("_", " ");

function levelBadge(level) {
  return `<span class="level level-${esc(level)}">${esc(level)}</span>`;
}

// ---- the URL: #view/id?as_of=...&country=...&min_level=... ------------------------------------------------
function parseHash() {
  const raw = location.hash.slice(1);
  const legacy = raw.match(/^dyad=(.+)$/); // links from before views had paths
  if (legacy) return { view: "dyad", id: decodeURIComponent(legacy[1]), params: new URLSearchParams() };
  const [path, query = ""] = raw.split("?");
  const [view, ...rest] = path.split("/");
  return { view: view || "ranking", id: decodeURIComponent(rest.join("/")), params: new URLSearchParams(query) };
}

function link(view, id = "", params = {}) {
  const query = new URLSearchParams();
  const asOf = params.as_of ?? parseHash().params.get("as_of");
  if (asOf) query.set("as_of", asOf);
  for (const [k, v] of Object.entries(params)) if (k !== "as_of" && v) query.set(k, v);
  const path = view === "ranking" ? "" : id ? `${view}/${encodeURIComponent(id)}` : view;
  const q = query.toString();
  return `#${path}${q ? `?${q}` : ""}`;
}

const asOfParam = () => parseHash().params.get("as_of");
const asOfQuery = () => (asOfParam() ? `as_of=${encodeURIComponent(asOfParam())}` : "");

// ---- names -----------------------------------------------------------------------------------------------
const names = {};
const nameOf = (member) => names[member] || member;
const pairName = (members) => members.map(nameOf).join(" – ");

function memberCountry(member) {
  if (member.startsWith("nsa:")) return null;
  return member.startsWith("civ:") ? member.slice(4) : member;
}

function memberLink(member) {
  const country = memberCountry(member);
  return country ? `<a href="${esc(link("country", country))}" title="${esc(member)}">${esc(nameOf(member))}</a>`
    : `<span title="${esc(member)}">${esc(nameOf(member))}</span>`;
}

// ---- ranking ---------------------------------------------------------------------------------------------
function whyEmpty(r, minLevel) {
  const range = r.data.first ? `your data runs ${r.data.first} to ${r.data.last}` : "";
  if (!r.data.first) return "No events are stored yet: post events to /v1/events or import a dataset (escalation import).";
  if (!r.total) return `No dyad has an event by ${r.as_of}; ${range}: pick a date within it.`;
  const counts = LEVELS.filter((l) => r.levels[l]).map((l) => `${r.levels[l]} ${l}`).join(", ");
  return `${r.total} dyads as of ${r.as_of}, none at ${minLevel} or above (${counts}); ${range}: ` +
    "pick a date within it, or a lower level.";
}

async function showRanking(params, ticket) {
  show("ranking-view");
  const started = performance.now();
  const query = new URLSearchParams();
  const country = (params.get("country") || "").trim().toUpperCase();
  const minLevel = params.get("min_level") || "";
  if (document.activeElement !== $("country")) $("country").value = country; // not under a reader's typing
  if (document.activeElement !== $("min-level")) $("min-level").value = minLevel;
  if (country) query.set("country", country);
  if (minLevel) query.set("min_level", minLevel);
  if (params.get("as_of")) query.set("as_of", params.get("as_of"));
  $("ranking-status").textContent = "loading…";
  const ranking = await api(`/dashboard/ranking?${query}`);
  if (stale(ticket)) return;
  Object.assign(names, ranking.names);
  const rows = ranking.items.map((d, i) =>
    `<tr data-dyad="${esc(d.id)}"><td class="num">${i + 1}</td>` +
    `<td><a href="${esc(link("dyad", d.id))}" title="${esc(d.id)}">${esc(pairName(d.members))}</a></td>` +
    `<td>${esc(kindName(d.kind))}</td><td>${levelBadge(d.level)}</td>` +
    `<td class="num">${pct(d.probability)} <span class="hint">${pct(d.low)}–${pct(d.high)}</span></td>` +
    `<td class="date">${esc(d.last_event_on)}</td><td class="num">${esc(d.event_count)}</td></tr>`);
  $("ranking").tBodies[0].innerHTML = rows.join("");
  $("ranking").hidden = !rows.length;
  $("ranking-empty").hidden = rows.length > 0;
  $("ranking-empty").textContent = rows.length ? "" : whyEmpty(ranking, minLevel || "any level");
  const ms = performance.now() - started;
  const status = $("ranking-status");
  status.dataset.count = ranking.items.length;
  status.dataset.ms = ms.toFixed(0);
  status.textContent = `${ranking.items.length.toLocaleString()} dyads${ranking.truncated ? " (the first)" : ""}, ` +
    `ranked by risk as of ${ranking.as_of} (${(ms / 1000).toFixed(2)} s)`;
}

// ---- the dyad's chart ------------------------------------------------------------------------------------
const CHART = { w: 760, h: 300, left: 52, right: 16, top: 14, bottom: 64 };
const day = (iso) => Date.parse(`${iso}T00:00:00Z`) / 86400000;
const isoOf = (d) => new Date(d * 86400000).toISOString().slice(0, 10);

function niceStep(top) {
  for (const s of [0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25]) if (top / s <= 6) return s;
  return 0.25;
}

function timeTicks(start, end) {
  const years = (end - start) / 365.25;
  const out = [];
  const d = new Date(start * 86400000);
  let y = d.getUTCFullYear(), m = d.getUTCMonth();
  const every = years > 12 ? 60 : years > 6 ? 24 : years > 3 ? 12 : years > 1.5 ? 6 : years > 0.6 ? 2 : 1;
  m = Math.ceil((y * 12 + m + (d.getUTCDate() > 1 ? 1 : 0)) / every) * every;
  for (; ; m += every) {
    const t = Date.UTC(Math.floor(m / 12), m % 12, 1) / 86400000;
    if (t > end) break;
    if (t >= start) out.push({ t, label: every >= 12 ? String(Math.floor(m / 12)) :
      new Date(t * 86400000).toLocaleString("en", { month: "short", year: "numeric", timeZone: "UTC" }) });
  }
  return out;
}

const chartState = { on: null }; // the date the reader's cursor is on (null: the last), kept across live redraws

function drawChart(view, whatIf) {
  const box = $("chart");
  const focused = box.contains(document.activeElement);
  box.textContent = "";
  const { w, h, left, right, top: T, bottom } = CHART;
  const points = view.series.points;
  const start = day(points[0].as_of);
  const end = Math.max(day(points[points.length - 1].as_of), start + 30,
    whatIf ? day(whatIf.points[whatIf.points.length - 1].as_of) : 0);
  const all = points.concat(whatIf ? whatIf.points : []);
  const top = Math.min(1, Math.max(0.05, ...all.map((p) => p.interval.high), ...view.stored.map((s) => s.probability)) * 1.1);
  const plotW = w - left - right, plotH = h - T - bottom;
  const x = (d) => left + (d - start) / (end - start) * plotW;
  const y = (p) => T + (1 - p / top) * plotH;
  const root = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", class: "chart", tabindex: "0",
    "aria-label": `${pairName(view.members)}: risk through time; arrow keys move along it` }, box);
  svg("rect", { x: left, y: T, width: plotW, height: plotH, class: "plot" }, root);
  const step = niceStep(top);
  for (let p = 0; p <= top + 1e-9; p += step) {
    svg("line", { x1: left - 4, x2: left, y1: y(p), y2: y(p), class: "tick" }, root);
    svg("text", { x: left - 6, y: y(p) + 4, "text-anchor": "end", class: "axis" }, root).textContent =
      `${+(p * 100).toFixed(1)}%`;
  }
  const cuts = Object.entries(model.cuts).filter(([, c]) => c !== null && c <= top).sort((a, b) => a[1] - b[1]);
  cuts.forEach(([name, cut], n) => {
    svg("line", { x1: left, x2: w - right, y1: y(cut), y2: y(cut), class: `threshold level-line-${name}` }, root);
    svg("line", { x1: left - 4, x2: left, y1: y(cut), y2: y(cut), class: `tick level-line-${name}` }, root);
    const [lx, anchor] = n % 2 ? [w - right - 4, "end"] : [left + 4, "start"];
    svg("text", { x: lx, y: y(cut) - 3, "text-anchor": anchor, class: `cut level-text-${name}` }, root).textContent =
      `${name} ≥ ${pct(cut)}`;
  });
  for (const tick of timeTicks(start, end)) {
    svg("line", { x1: x(tick.t), x2: x(tick.t), y1: T + plotH, y2: T + plotH + 4, class: "tick" }, root);
    svg("text", { x: x(tick.t), y: h - 4, "text-anchor": "middle", class: "axis" }, root).textContent = tick.label;
  }
  const band = (ps) => ps.map((p) => `${x(day(p.as_of)).toFixed(1)},${y(p.interval.high).toFixed(1)}`)
    .concat(ps.slice().reverse().map((p) => `${x(day(p.as_of)).toFixed(1)},${y(p.interval.low).toFixed(1)}`)).join(" ");
  const line = (ps) => ps.map((p, i) => `${i ? "L" : "M"}${x(day(p.as_of)).toFixed(1)},${y(p.probability).toFixed(1)}`).join("");
  svg("polygon", { points: band(points), class: "band" }, root);
  svg("path", { d: line(points), class: "risk" }, root);
  if (whatIf) {
    svg("polygon", { points: band(whatIf.points), class: "band whatif-band" }, root);
    svg("path", { d: line(whatIf.points), class: "risk whatif" }, root);
  }
  const cursor = svg("line", { y1: T, y2: T + plotH, class: "cursor", visibility: "hidden" }, root);
  const overlay = svg("rect", { x: left, y: T, width: plotW, height: plotH, class: "overlay" }, root);
  for (const s of view.stored) {
    titled(svg("circle", { cx: x(day(s.as_of)), cy: y(s.probability), r: 3.5, class: `stored level-fill-${s.level}` },
      root), `said on the day (${s.reason}), as of ${s.as_of}: ${pct(s.probability)}, ${s.level}`);
  }
  const eventsY = T + plotH + 20;
  for (const m of view.marks) {
    const height = 3 + 3 * m.hostility;
    titled(svg("rect", { x: x(day(m.on)) - 1.5, y: eventsY - height / 2, width: 3, height, class: "event" }, root),
      `${m.on}: ${m.events} event${m.events > 1 ? "s" : ""}, ${m.fatalities} killed`);
  }
  svg("text", { x: 4, y: eventsY + 4, class: "events-label" }, root).textContent = "events";
  const dot = svg("circle", { r: 4.5, class: "cursor-dot", visibility: "hidden" }, root);
  const said = Object.fromEntries(view.stored.map((s) => [s.as_of, s]));
  const kept = points.findIndex((p) => p.as_of === chartState.on);
  let at = kept >= 0 ? kept : points.length - 1;
  const place = (i) => {
    at = Math.max(0, Math.min(points.length - 1, i));
    const p = points[at];
    const px = x(day(p.as_of));
    for (const [k, v] of Object.entries({ x1: px, x2: px, visibility: "visible" })) cursor.setAttribute(k, v);
    for (const [k, v] of Object.entries({ cx: px, cy: y(p.probability), visibility: "visible" })) dot.setAttribute(k, v);
    chartState.on = at === points.length - 1 ? null : p.as_of; // the end stays the end when new dates come
    const alt = whatIf && (whatIf.points.find((q) => q.as_of === p.as_of) ||
      (at === points.length - 1 ? whatIf.points[whatIf.points.length - 1] : null));
    const then = said[p.as_of];
    $("chart-readout").innerHTML = `<b>${esc(p.as_of)}</b>: ${pct(p.probability)} ` +
      `<span class="hint">(${pct(p.interval.low)}–${pct(p.interval.high)})</span> ${levelBadge(p.level)}` +
      (alt ? ` · what if (${esc(alt.as_of)}): ${pct(alt.probability)} ${levelBadge(alt.level)}` : "") +
      (then ? ` · said on the day: ${pct(then.probability)} ${levelBadge(then.level)}` : "") +
      `<br><span class="hint">${p.drivers.map((d) => esc(d.label)).join(" · ")}</span>`;
  };
  overlay.addEventListener("mousemove", (ev) => {
    const r = root.getBoundingClientRect();
    const d = start + ((ev.clientX - r.left) * w / r.width - left) / plotW * (end - start);
    let best = 0;
    points.forEach((p, i) => { if (Math.abs(day(p.as_of) - d) < Math.abs(day(points[best].as_of) - d)) best = i; });
    place(best);
  });
  root.addEventListener("keydown", (ev) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10, Home: -1e9, End: 1e9 };
    if (ev.key in moves) { ev.preventDefault(); place(at + moves[ev.key]); }
  });
  place(at);
  if (focused) root.focus();
  $("chart-legend").textContent = `line: the risk on each date from the events known now (every ` +
    `${view.series.step_days} day${view.series.step_days > 1 ? "s" : ""}), shaded: its 90% interval; dots: what the ` +
    `service said at the time; bars below: events, taller for more hostile acts` +
    (whatIf ? "; dashed: with the hypothetical events" : "");
}

// ---- why: the waterfall ------------------------------------------------------------------------------------
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function factText(f) {
  if (f.dyad_id !== undefined) return `${pairName(f.dyad_id.split("--"))}: ${f.deaths} killed`;  // another front
  if (f.kind !== undefined && f.occurred_on === undefined) {
    const ties = ["contiguous", "rivalry", "past_armed_conflict", "major_power"].filter((k) => f[k]);
    return `${f.kind.replaceAll("_", " ")}${ties.length ? `: ${ties.join(", ").replaceAll("_", " ")}` : ""}`;
  }
  const by = nameOf(f.initiator), at = f.target ? ` → ${nameOf(f.target)}` : "";
  const extra = [f.fatalities ? `${f.fatalities} killed` : "", f.retaliation ? "retaliation" : "",
    f.deescalation ? "de-escalation" : ""].filter(Boolean).join(", ");
  return `${f.occurred_on}: ${by}${at}, ${String(f.hostility).replaceAll("_", " ")}${extra ? `, ${extra}` : ""}`;
}

function drawWaterfall(box, risk) {
  box.textContent = "";
  const base = risk.explanation.baseline;
  const steps = [];
  let z = base;
  for (const d of risk.drivers) { steps.push({ d, from: z, to: z + d.contribution }); z += d.contribution; }
  const lo = Math.min(base, ...steps.map((s) => s.to)), hi = Math.max(base, ...steps.map((s) => s.to));
  const pad = (hi - lo) * 0.05 || 1;
  const W = 260, H = 18;
  const x = (v) => ((v - lo + pad) / (hi - lo + 2 * pad)) * W;
  const bar = (from, to, cls) => {
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "bar", "aria-hidden": "true" });
    svg("rect", { x: Math.min(x(from), x(to)), y: 3, width: Math.max(1.5, Math.abs(x(to) - x(from))), height: H - 6, class: cls }, s);
    return s;
  };
  const row = (label, value, graphic, details) => {
    const el = document.createElement(details ? "details" : "div");
    el.className = "wf-row";
    const head = document.createElement(details ? "summary" : "div");
    head.className = "wf-head";
    head.innerHTML = `<span class="wf-label">${label}</span><span class="wf-value">${value}</span>`;
    head.insertBefore(graphic, head.children[1]);
    el.appendChild(head);
    if (details) {
      const list = document.createElement("ul");
      list.innerHTML = details.length ? details.map((f) => `<li>${esc(factText(f))}</li>`).join("")
        : "<li>no event behind it: the absence of events is what counts here</li>";
      el.appendChild(list);
    }
    box.appendChild(el);
  };
  row("baseline: a pair of this kind with no events and no ties", pct(sigmoid(base)), bar(base, base, "wf-base"));
  for (const s of steps) {
    const c = s.d.contribution;
    const sign = c > 0 ? `<span class="up" aria-label="raises">▲</span>` : c < 0 ? `<span class="down" aria-label="lowers">▼</span>` : "";
    row(`${sign} <b>${esc(s.d.theme)}</b>: ${esc(s.d.label)}`,
      `${c >= 0 ? "+" : "−"}${Math.abs(c).toFixed(2)} → ${pct(sigmoid(s.to))}`, bar(s.from, s.to, c > 0 ? "wf-up" : "wf-down"),
      s.d.facts);
  }
  row(`<b>probability</b> <span class="hint">(90% interval ${pct(risk.interval.low)}–${pct(risk.interval.high)})</span>`,
    `${pct(risk.probability)} ${levelBadge(risk.level)}`, bar(base, z, "wf-total"));
  const note = document.createElement("p");
  note.className = "hint";
  note.textContent = "Each theme adds its log-odds (the signed number) to the baseline; the column shows the " +
    "probability after it. Open a theme for the events behind it.";
  box.appendChild(note);
}

// ---- what if -----------------------------------------------------------------------------------------------
const vocabulary = { actions: [], weapons: [] };
let current = null; // the dyad view on screen
let whatIfSeries = null;

function actorOf(member) {
  if (member.startsWith("nsa:")) return { name: nameOf(member), kind: "non_state" };
  if (member.startsWith("civ:")) return { name: nameOf(member), country: member.slice(4), kind: "civilians" };
  return { name: nameOf(member), country: member, kind: "state" };
}

function addWhatIfRow(view) {
  const n = $("whatif-events").children.length;
  const today = new Date().toISOString().slice(0, 10);
  const [a, b] = view.members;
  const fieldset = document.createElement("fieldset");
  fieldset.className = "whatif-event";
  const options = (items, chosen) => items.map((v) => `<option${v === chosen ? " selected" : ""}>${esc(v)}</option>`).join("");
  fieldset.innerHTML = `<legend>hypothetical event ${n + 1}</legend>` +
    `<label>date <input type="date" name="on" required max="${today}" value="${esc(asOfParam() || today)}"></label>` +
    `<label>by <select name="by"><option value="${esc(a)}">${esc(nameOf(a))}</option>` +
    `<option value="${esc(b)}">${esc(nameOf(b))}</option></select></label>` +
    `<label>action <select name="action">${options(vocabulary.actions, "attack")}</select></label>` +
    `<label>killed <input type="number" name="fatalities" min="0" max="1000000" value="0" size="6"></label>` +
    `<label>weapons <select name="weapons" multiple size="2">${options(vocabulary.weapons)}</select></label>` +
    `<label>where (ISO3) <input name="where" maxlength="3" size="4" pattern="[A-Za-z]{3}"></label>` +
    `<label><input type="checkbox" name="retaliation"> retaliation</label>` +
    `<button type="button" class="remove">remove</button>`;
  fieldset.querySelector(".remove").addEventListener("click", () => {
    fieldset.remove();
    [...$("whatif-events").children].forEach((f, i) => { f.querySelector("legend").textContent = `hypothetical event ${i + 1}`; });
  });
  const by = fieldset.querySelector("[name=by]"), where = fieldset.querySelector("[name=where]");
  const guess = () => { // where: the target's territory if it has one, else where the latest event was, else home
    const target = by.value === a ? b : a;
    where.value = memberCountry(target) || (view.events[0] && view.events[0].country) || memberCountry(by.value) || "";
  };
  by.addEventListener("change", guess);
  guess();
  $("whatif-events").appendChild(fieldset);
}

function whatIfEvents(view) {
  return [...$("whatif-events").children].map((f, i) => {
    const by = f.querySelector("[name=by]").value;
    const other = by === view.members[0] ? view.members[1] : view.members[0];
    return {
      source: "dashboard-what-if", source_event_id: `what-if-${i + 1}`, occurred_on: f.querySelector("[name=on]").value,
      actor1: actorOf(by), actor2: actorOf(other),
      location: { country: f.querySelector("[name=where]").value.trim().toUpperCase() },
      action: f.querySelector("[name=action]").value,
      fatalities: Number(f.querySelector("[name=fatalities]").value || 0),
      weapons: [...f.querySelector("[name=weapons]").selectedOptions].map((o) => o.value),
      retaliation: f.querySelector("[name=retaliation]").checked,
    };
  });
}

async function runWhatIf(view) {
  const events = whatIfEvents(view);
  if (!events.length) { $("whatif-result").textContent = "Add an event first."; return; }
  const last = events.map((e) => e.occurred_on).sort().pop();
  const asOf = [last, view.as_of].sort().pop();
  const [a, b] = view.members;
  $("whatif-result").textContent = "scoring…";
  try {
    const [answer, series] = await Promise.all([
      api("/v1/risk/what-if", { a, b, as_of: asOf, events }),
      api("/v1/risk/what-if/series", { a, b, events, from: view.series.points[0].as_of, to: asOf, step: view.series.step_days }),
    ]);
    whatIfSeries = series;
    const now = view.current;
    const themes = Object.fromEntries(now.drivers.map((d) => [d.theme, d]));
    $("whatif-result").innerHTML =
      `<p class="whatif-answer">With ${events.length} hypothetical event${events.length > 1 ? "s" : ""}, as of ${esc(answer.as_of)}: ` +
      `<b>${pct(answer.probability)}</b> <span class="hint">(${pct(answer.interval.low)}–${pct(answer.interval.high)})</span> ` +
      `${levelBadge(answer.level)}; as of ${esc(now.as_of)} without them: ${pct(now.probability)} ${levelBadge(now.level)}. ` +
      `Nothing was stored.</p><div class="scroll"><table class="whatif-drivers"><thead><tr><th scope="col">theme</th>` +
      `<th scope="col" class="num">now</th><th scope="col" class="num">what if</th><th scope="col">what if, in words</th></tr></thead><tbody>` +
      answer.drivers.map((d) => `<tr><td>${esc(d.theme)}</td><td class="num">${(themes[d.theme]?.contribution ?? 0).toFixed(2)}</td>` +
        `<td class="num">${d.contribution.toFixed(2)}</td><td>${esc(d.label)}</td></tr>`).join("") + "</tbody></table></div>";
    drawChart(view, whatIfSeries);
  } catch (err) {
    if (err instanceof AuthNeeded) throw err;
    $("whatif-result").innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

// ---- a dyad ------------------------------------------------------------------------------------------------
let eventsPage = 0;

function drawEvents(view) {
  const pages = Math.max(1, Math.ceil(view.events.length / EVENTS_PAGE));
  eventsPage = Math.max(0, Math.min(eventsPage, pages - 1));
  const shown = view.events.slice(eventsPage * EVENTS_PAGE, (eventsPage + 1) * EVENTS_PAGE);
  $("events").tBodies[0].innerHTML = shown.map((e) =>
    `<tr><td class="date">${esc(e.occurred_on)}</td><td>${esc(e.action.replaceAll("_", " "))}${e.retaliation ? " (retaliation)" : ""}</td>` +
    `<td>${esc(e.by)}</td><td>${esc(e.against ?? "")}</td><td>${esc(e.where)}</td>` +
    `<td class="num">${esc(e.fatalities ?? "")}</td><td>${esc(e.notes ?? "")}</td></tr>`).join("");
  $("events-count").textContent = `${view.events.length.toLocaleString()}${view.events_truncated ? "+ (the newest listed)" : ""}, newest first`;
  $("events-page").textContent = `page ${eventsPage + 1} of ${pages}`;
  $("events-newer").disabled = eventsPage === 0;
  $("events-older").disabled = eventsPage >= pages - 1;
  $("events-pager").hidden = pages < 2;
}

async function showDyad(id, ticket, quiet = false) {
  show("dyad-view");
  const view = await api(`/dashboard/dyads/${encodeURIComponent(id)}?${asOfQuery()}`);
  if (stale(ticket)) return;
  const fresh = !current || current.id !== view.id || current.as_of !== view.as_of;
  if (fresh) { whatIfSeries = null; eventsPage = 0; chartState.on = null; $("whatif-result").textContent = ""; $("whatif-events").textContent = ""; }
  current = view;
  Object.assign(names, view.names);
  $("dyad-title").innerHTML = `${view.members.map(memberLink).join(" – ")} <span class="hint">(${esc(kindName(view.kind))}, ${esc(view.id)})</span>`;
  const r = view.current;
  $("dyad-summary").innerHTML = `${levelBadge(r.level)} <b>${pct(r.probability)}</b> ` +
    `<span class="hint">(${Math.round(r.interval.level * 100)}% interval ${pct(r.interval.low)}–${pct(r.interval.high)})</span> ` +
    `probability of <abbr title="${esc(model.definition)}">${esc(model.target)}</abbr>, as of ${esc(r.as_of)}; ` +
    (r.last_event_on ? `${esc(r.event_count)} events in the look-back window, the last on ${esc(r.last_event_on)}`
      : `no events by then <span class="hint">(data: ${esc(view.data.first)} to ${esc(view.data.last)})</span>`) +
    ` <span class="hint">(model ${esc(r.model_version)})</span>`;
  drawChart(view, whatIfSeries);
  drawWaterfall($("waterfall"), r);
  if (!$("whatif-events").children.length) addWhatIfRow(view);
  drawEvents(view);
  if (!quiet) document.title = `${pairName(view.members)} · escalation-risk`;
}

// ---- a country ---------------------------------------------------------------------------------------------
function spark(values) {
  const s = svg("svg", { viewBox: "0 0 120 28", width: 120, height: 28, class: "spark", role: "img",
    "aria-label": values.length ? `from ${pct(values[0])} to ${pct(values[values.length - 1])}` : "not drawn" });
  if (!values.length) return s;
  const top = Math.max(0.05, ...values);
  svg("polyline", { points: values.map((v, i) => `${(i / Math.max(1, values.length - 1) * 118 + 1).toFixed(1)},${(27 - v / top * 25).toFixed(1)}`).join(" ") }, s);
  return s;
}

async function showCountry(iso3, ticket) {
  show("country-view");
  const view = await api(`/dashboard/countries/${encodeURIComponent(iso3)}?${asOfQuery()}`);
  if (stale(ticket)) return;
  Object.assign(names, view.names);
  $("country-title").textContent = `${view.name}: every front as of ${view.as_of}`;
  $("country-summary").textContent = view.items.length
    ? `${view.items.length} dyad${view.items.length > 1 ? "s" : ""} with an event by ${view.as_of}, highest risk first; ` +
      `small charts: the year before, every ${Math.round((day(view.spark_dates[1] || view.as_of) - day(view.spark_dates[0])) || 1)} days.`
    : `No dyad of ${view.name} has an event by ${view.as_of}` +
      (view.data.first ? `; your data runs ${view.data.first} to ${view.data.last}.` : ".");
  const body = $("country-dyads").tBodies[0];
  body.textContent = "";
  for (const d of view.items) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td><a href="${esc(link("dyad", d.id))}" title="${esc(d.id)}">${esc(pairName(d.members))}</a></td>` +
      `<td>${esc(kindName(d.kind))}</td><td>${levelBadge(d.level)}</td>` +
      `<td class="num">${pct(d.probability)} <span class="hint">${pct(d.low)}–${pct(d.high)}</span></td><td></td>` +
      `<td class="date">${esc(d.last_event_on)}</td>`;
    tr.children[4].appendChild(spark(d.spark));
    body.appendChild(tr);
  }
}

// ---- the map -------------------------------------------------------------------------------------------------
let world = null;

// TopoJSON (quantized, delta-encoded arcs) to rings of [lon, lat], per geometry.
function decode(topology) {
  const [sx, sy] = topology.transform.scale, [tx, ty] = topology.transform.translate;
  const arcs = topology.arcs.map((arc) => {
    let x = 0, y = 0;
    return arc.map(([dx, dy]) => { x += dx; y += dy; return [x * sx + tx, y * sy + ty]; });
  });
  const ring = (indexes) => indexes.flatMap((i, k) => {
    const pts = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
    return k ? pts.slice(1) : pts;
  });
  return topology.objects.countries.geometries.filter((g) => g.id !== "ATA").map((g) => ({
    id: g.id, name: g.properties.name,
    polygons: (g.type === "Polygon" ? [g.arcs] : g.type === "MultiPolygon" ? g.arcs : []).flatMap((p) => wrapped(p.map(ring))),
  }));
}

// A polygon whose rings cross the antimeridian (Russia's far east, Fiji) made continuous past ±180°, and drawn
// again 360° over, so that each side shows its part instead of a band across the map.
function wrapped(rings) {
  let crosses = false;
  const out = rings.map((r) => {
    let shift = 0;
    return r.map(([lon, lat], i) => {
      if (i) {
        const jump = lon - r[i - 1][0];
        if (jump > 180) { shift -= 360; crosses = true; } else if (jump < -180) { shift += 360; crosses = true; }
      }
      return [lon + shift, lat];
    });
  });
  if (!crosses) return [out];
  const side = out[0].some(([lon]) => lon > 180) ? -360 : 360;
  return [out, out.map((r) => r.map(([lon, lat]) => [lon + side, lat]))];
}

const MAP = { w: 960, h: 470, north: 84, south: -58 };
const project = ([lon, lat]) => [(lon + 180) / 360 * MAP.w, (MAP.north - lat) / (MAP.north - MAP.south) * MAP.h];

function centroid(country) { // the middle of its largest ring's extent: where a link starts
  let best = null, size = -1;
  for (const rings of country.polygons) {
    const xs = rings[0].map((p) => p[0]), ys = rings[0].map((p) => p[1]);
    const s = (Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys));
    if (s > size) { size = s; best = [(Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2]; }
  }
  return best && project(best);
}

async function showMap(ticket) {
  show("map-view");
  $("map-status").textContent = "loading…";
  const [ranking] = await Promise.all([api(`/dashboard/ranking?${asOfQuery()}`),
    world ? null : fetch("/dashboard/world.json").then((r) => r.json()).then((t) => { world = decode(t); })]);
  if (stale(ticket)) return;
  Object.assign(names, ranking.names);
  const highest = {}; // ISO3 -> the dyad at the highest level touching it
  for (const d of ranking.items) {
    for (const m of d.members) {
      const c = memberCountry(m);
      if (c && (!highest[c] || d.probability > highest[c].probability)) highest[c] = d;
    }
  }
  const box = $("map");
  box.textContent = "";
  const root = svg("svg", { viewBox: `0 0 ${MAP.w} ${MAP.h}`, role: "group", class: "map",
    "aria-label": `countries shaded by their highest dyad's level as of ${ranking.as_of}` }, box);
  const where = {};
  for (const c of world) {
    const d = c.polygons.map((rings) => rings.map((r) => r.map((p, i) => `${i ? "L" : "M"}${project(p).map((v) => v.toFixed(1)).join(",")}`).join("") + "Z").join("")).join("");
    const top = c.id && highest[c.id];
    const shape = svg("path", { d, class: `country ${top ? `level-fill-${top.level}` : "none"}` });
    if (top) {
      const a = svg("a", { href: link("country", c.id), "aria-label": `${c.name}: ${top.level}` }, root);
      a.appendChild(titled(shape, `${c.name}: ${top.level}, ${pairName(top.members)} ${pct(top.probability)}`));
    } else {
      root.appendChild(titled(shape, c.name));
    }
    if (c.id) where[c.id] = c;
  }
  let links = 0;
  for (const d of ranking.items.filter((r) => r.kind === "state_state").reverse()) { // the highest drawn last, on top
    const [p, q] = d.members.map((m) => where[m] && centroid(where[m]));
    if (!p || !q) continue;
    svg("line", { x1: p[0], y1: p[1], x2: q[0], y2: q[1], class: "link-casing" }, root);
    for (const [cx, cy] of [p, q]) svg("circle", { cx, cy, r: 3, class: "link-end" }, root);
    titled(svg("line", { x1: p[0], y1: p[1], x2: q[0], y2: q[1], class: `link level-stroke-${d.level}` }, root),
      `${pairName(d.members)}: ${d.level}, ${pct(d.probability)}`);
    links++;
  }
  const shaded = Object.keys(highest).length;
  $("map-status").textContent = shaded ? `${shaded} countries with a dyad as of ${ranking.as_of}, ${links} interstate links`
    : whyEmpty(ranking, "any level");
  $("map-legend").innerHTML = LEVELS.map((l) => `${levelBadge(l)}`).join(" ") + " · unshaded: no dyad with an event by then";
}

// ---- live: /v1/stream, read with the key (an EventSource cannot send one), resumed from its last id ----------
const live = { last: null, timer: null, dyads: new Set(), since: 0 };

// The feed's newest cursor, read before the first view is drawn: the stream starts after it, so that a stream that
// drops before its first event still resumes where the page's data ends. A cursor past any head gets a 409 naming it.
async function feedHead() {
  const response = await fetch(`/v1/assessments?after=${"9".repeat(18)}&limit=1`, { headers: headers() });
  const body = await response.json().catch(() => ({}));
  return response.status === 409 ? body.head : null;
}

async function follow() {
  for (;;) {
    try {
      const h = live.last ? headers({ "Last-Event-ID": live.last }) : headers();
      const response = await fetch("/v1/stream", { headers: h });
      if (response.status === 401 || response.status === 403) { // a key revoked or forgotten: ask, stop following
        following = false;
        $("live").textContent = "";
        askForKey((await response.json().catch(() => ({}))).detail || `HTTP ${response.status}`);
        return;
      }
      if (response.status === 409) { // a cursor this database never gave (a restore): go on from its head
        live.last = (await response.json().catch(() => ({}))).head || null;
        live.dyads = new Set(parseHash().view === "dyad" ? [parseHash().id] : []);
        refresh();
        continue;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      $("live").textContent = "● live";
      $("live").className = "live on";
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "", id = null, data = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r?\n/)) >= 0) {
          const lineText = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer[nl] === "\r" ? 2 : 1));
          if (lineText === "") {
            if (data) received(id, data);
            id = null; data = "";
          } else if (lineText.startsWith("id:")) id = lineText.slice(3).trim();
          else if (lineText.startsWith("data:")) data += lineText.slice(5).trim();
        }
      }
    } catch (err) { /* dropped: resume below */ }
    $("live").textContent = "○ reconnecting";
    $("live").className = "live off";
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function received(id, data) {
  if (id) live.last = id;
  try { live.dyads.add(JSON.parse(data).data.dyad_id); } catch (err) { return; }
  // One redraw a quarter second at most, however long a burst lasts (an import): the first event sets it.
  live.timer = live.timer || setTimeout(() => { live.timer = null; refresh(); }, 250);
}

async function refresh() {
  const touched = live.dyads;
  live.dyads = new Set();
  const { view, id } = parseHash();
  try {
    if (view === "dyad") { if (touched.has(id)) await showDyad(id, ++tickets, true); }
    else await render();
    $("live").dataset.updated = String(++live.since);
  } catch (err) { /* the next event or a reload tries again */ }
}

// ---- the page ------------------------------------------------------------------------------------------------
const model = { target: "", definition: "", cuts: {} };

function show(id) {
  for (const v of ["ranking-view", "dyad-view", "country-view", "map-view", "extract-view"]) $(v).hidden = v !== id;
}

// ---- from a report: POST /v1/extract, the drafts beside the text, the ticked ones posted ----------------------
const drafting = { text: "", result: null, picked: 0, ticket: 0 };

function showExtract() {
  show("extract-view");
  if (!$("report-date").value) $("report-date").value = new Date().toISOString().slice(0, 10);
  $("report-date").max = new Date().toISOString().slice(0, 10);
}

function markReport() {
  // The picked draft's fields, each span once (the first of overlapping ones), in the text's order. The service's
  // offsets count code points (Python's string indices): the text is cut as an array of code points, not UTF-16.
  const box = $("report-marked"), points = Array.from(drafting.text);
  const text = { slice: (a, b) => points.slice(a, b).join("") };
  const evidence = drafting.result ? drafting.result.evidence[drafting.picked] : null;
  const spans = evidence ? Object.entries(evidence.fields).map(([field, e]) => ({ field, ...e }))
    .sort((a, b) => a.start - b.start || b.end - a.end) : [];
  let html = "", at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    html += esc(text.slice(at, span.start)) +
      `<mark data-field="${esc(span.field)}" title="${esc(span.field)}, confidence ${span.confidence}">` +
      `${esc(text.slice(span.start, span.end))}</mark>`;
    at = span.end;
  }
  box.innerHTML = html + esc(text.slice(at, points.length));
}

function drawDrafts() {
  const { events, evidence, unresolved } = drafting.result;
  const body = $("drafts").querySelector("tbody");
  body.textContent = "";
  events.forEach((e, i) => {
    const tr = document.createElement("tr");
    tr.dataset.draft = String(i);
    tr.classList.toggle("picked", i === drafting.picked);
    const against = e.actor2 ? (e.actor2.country ? nameOf(e.actor2.country) : e.actor2.name) : "";
    const killed = e.fatalities == null ? "" : `${e.fatalities}${e.civilian_fatalities ? ` (${e.civilian_fatalities} civilians)` : ""}`;
    tr.innerHTML = `<td><input type="checkbox" checked aria-label="post draft ${i + 1}"></td>` +
      `<td class="date">${esc(e.occurred_on)}</td><td>${esc(e.action)}${e.retaliation ? " (retaliation)" : ""}</td>` +
      `<td>${esc(nameOf(e.actor1.country || e.actor1.name))}</td><td>${esc(against)}</td>` +
      `<td>${esc(nameOf(e.location.country))}${e.location.admin1 ? `, ${esc(e.location.admin1)}` : ""}</td>` +
      `<td class="num">${esc(killed)}</td><td class="num">${evidence[i].confidence.toFixed(2)}</td>`;
    body.appendChild(tr);
  });
  $("unresolved").innerHTML = unresolved.map((u) => `<li>${esc(u.sentence)} <span class="hint">(${esc(u.reason)})</span></li>`).join("");
  $("drafts-post").disabled = !events.length;
  $("extract-status").textContent = `${events.length} draft event${events.length === 1 ? "" : "s"}, ` +
    `${unresolved.length} sentence${unresolved.length === 1 ? "" : "s"} not resolved`;
  markReport();
}

async function draftFromReport() {
  const text = $("report-text").value, ticket = ++drafting.ticket;
  $("drafts-posted").textContent = "";
  $("extract-status").textContent = "drafting…";
  let result;
  try {
    [result] = await Promise.all([api("/v1/extract", { text, published_on: $("report-date").value }),
      world ? null : fetch("/dashboard/world.json").then((r) => r.json()).then((t) => { world = decode(t); })]);
  } catch (err) {
    if (ticket === drafting.ticket) $("extract-status").textContent = "";
    throw err;
  }
  if (ticket !== drafting.ticket) return;  // a newer draft was asked for meanwhile: this answer is for other text
  for (const c of world) if (c.id && !names[c.id]) names[c.id] = c.name;  // the drafts' states by name
  Object.assign(drafting, { text, result, picked: 0 });
  drawDrafts();
}

async function postTicked() {
  const ticked = [...$("drafts").querySelectorAll("tbody tr")].filter((tr) => tr.querySelector("input").checked)
    .map((tr) => drafting.result.events[Number(tr.dataset.draft)]);
  if (!ticked.length) { $("drafts-posted").textContent = "nothing ticked"; return; }
  // Sent as drafted: an answer names the event it answers, which the service finds among the ticked ones or the
  // stored ones. Only where that event is neither (a 422 on responds_to) is the answer sent again without the link.
  let items = ticked, unlinked = 0;
  try {
    let result;
    try {
      result = await api("/v1/events/batch", { items });
    } catch (err) {
      const ids = new Set(ticked.map((e) => e.source_event_id));
      if (err instanceof AuthNeeded || !/responds_to/.test(err.message)) throw err;
      items = ticked.map((e) => (e.responds_to && !ids.has(e.responds_to)
        ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== "responds_to")) : e));
      unlinked = items.filter((e, i) => e !== ticked[i]).length;
      if (!unlinked) throw err;
      result = await api("/v1/events/batch", { items });
    }
    const counts = {};
    for (const item of result.items) counts[item.status] = (counts[item.status] || 0) + 1;
    $("drafts-posted").textContent = "posted: " + Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ") +
      (unlinked ? ` (${unlinked} without the link to an answered event that is neither ticked nor stored)` : "");
  } catch (err) {
    $("drafts-posted").textContent = err instanceof AuthNeeded
      ? "posting needs a key with the write scope" : `not posted: ${err.message}`;
  }
}

// Each render takes a ticket; an answer that comes back after a newer render started is dropped, so a slow
// earlier view (a past date's ranking scores every dyad) never overwrites the one asked for since.
let tickets = 0;
const stale = (ticket) => ticket !== tickets;

async function render() {
  const { view, id, params } = parseHash();
  const ticket = ++tickets;
  if (document.activeElement !== $("as-of")) $("as-of").value = params.get("as_of") || "";
  $("as-of").max = new Date().toISOString().slice(0, 10);
  if (view === "dyad") await showDyad(id, ticket);
  else if (view === "country") await showCountry(id, ticket);
  else if (view === "map") await showMap(ticket);
  else if (view === "extract") showExtract();
  else await showRanking(params, ticket);
}

let following = false;

async function route() {
  $("error").textContent = "";
  try {
    if (!model.target) {
      const card = await api("/v1/model");
      $("model").textContent = `model ${card.version}`;
      model.target = String(card.primary || "escalation").replaceAll("_", " ");
      model.definition = (card.target_definitions || {})[card.primary] || "";
      model.cuts = Object.fromEntries(Object.entries(card.thresholds || {}).map(([k, t]) => [k, t && typeof t === "object" ? t.cut : t]));
      const vocab = await api("/v1/vocabulary");
      vocabulary.actions = vocab.actions.map((a) => a.name);
      vocabulary.weapons = vocab.weapons;
    }
    const head = following ? null : await feedHead();
    await render();
    $("key-form").hidden = true;
    $("forget-key").hidden = !sessionStorage.getItem(KEY);
    if (!following) { following = true; live.last = head; follow(); }
  } catch (err) {
    if (err instanceof AuthNeeded) askForKey(err.message);
    else $("error").textContent = err.message;
  }
}

function go(view, id, params) {
  const target = link(view, id, params);
  if (location.hash === target) route(); else location.hash = target;
}

document.addEventListener("DOMContentLoaded", () => {
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    route();
  });
  $("forget-key").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    go("ranking", "", { country: $("country").value.trim().toUpperCase(), min_level: $("min-level").value });
  });
  $("as-of-form").addEventListener("submit", (e) => e.preventDefault());
  $("as-of").addEventListener("change", () => {
    const value = $("as-of").value; // some browsers fire on each digit of the year: wait for a whole date
    if (!$("as-of").validity.valid || !/^(18|19|20)\d\d-\d\d-\d\d$/.test(value)) return;
    const { view, id, params } = parseHash();
    go(view, id, { ...Object.fromEntries(params), as_of: $("as-of").value });
  });
  $("today").addEventListener("click", () => {
    const { view, id, params } = parseHash();
    params.delete("as_of");
    location.hash = link(view, id, { ...Object.fromEntries(params), as_of: "" });
  });
  $("ranking").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-dyad]");
    if (row && !e.target.closest("a")) location.hash = link("dyad", row.dataset.dyad);
  });
  $("whatif-add").addEventListener("click", () => current && addWhatIfRow(current));
  $("whatif-clear").addEventListener("click", () => {
    $("whatif-events").textContent = ""; $("whatif-result").textContent = ""; whatIfSeries = null;
    if (current) { addWhatIfRow(current); drawChart(current, null); }
  });
  $("whatif").addEventListener("submit", (e) => {
    e.preventDefault();
    if (current) runWhatIf(current).catch((err) => (err instanceof AuthNeeded ? askForKey(err.message) : null));
  });
  $("events-newer").addEventListener("click", () => { eventsPage--; drawEvents(current); });
  $("events-older").addEventListener("click", () => { eventsPage++; drawEvents(current); });
  $("extract-form").addEventListener("submit", (e) => {
    e.preventDefault();
    draftFromReport().catch((err) => (err instanceof AuthNeeded ? askForKey(err.message) : ($("error").textContent = err.message)));
  });
  $("drafts").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-draft]");
    if (!row || e.target.closest("input")) return;
    drafting.picked = Number(row.dataset.draft);
    for (const tr of $("drafts").querySelectorAll("tbody tr")) tr.classList.toggle("picked", tr === row);
    markReport();
  });
  $("drafts-post").addEventListener("click", () => postTicked());
  window.addEventListener("hashchange", route);
  route();
});
