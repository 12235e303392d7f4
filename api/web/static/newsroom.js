// The newsroom page: each party's stance over time as a lane, the events in valid-time order,
// an "as of" slider and a "known at" picker that re-query the API, and live updates from the
// feed. The view's state lives in the query string, so any view can be shared as a link.
// Everything drawn from the record goes through textContent: the record is data, not markup.

const app = document.getElementById("app");
const embedded = app.dataset.embed === "true";
const DAY = 86_400_000;
const STANCES = [
  "unstated", "proposed", "accepted", "conditional", "noncommittal", "countered", "rejected", "withdrawn",
];
const TYPE_NAMES = {
  PositionStated: "Position stated",
  ProposalTabled: "Proposal tabled",
  ProposalAmended: "Proposal amended",
  StatementMade: "Statement",
  MeetingHeld: "Meeting",
  ThreatIssued: "Threat",
};

const controls = {
  proposal: document.getElementById("proposal"),
  asOf: document.getElementById("as-of"),
  asOfLabel: document.getElementById("as-of-label"),
  knownAt: document.getElementById("known-at"),
  utc: document.getElementById("times-utc"),
  reset: document.getElementById("reset"),
};
const view = {
  status: document.getElementById("status"),
  title: document.getElementById("proposal-title"),
  legend: document.getElementById("legend"),
  lanes: document.getElementById("lanes"),
  axis: document.getElementById("axis"),
  events: document.getElementById("events"),
};

const state = readLocation();
const registry = { actors: new Map(), sources: new Map() };
let frame = null; // { start, end, days }: the span the lanes and the slider cover
let loading = 0; // the number of the latest load; an older one that ends late is dropped
let pending = null;

// ---- the query string ---------------------------------------------------------------------

function readLocation() {
  const query = new URLSearchParams(location.search);
  return {
    proposal: embedded ? app.dataset.proposal : query.get("proposal") || "",
    asOf: query.get("as_of") || "",
    knownAt: query.get("known_at") || "",
    utc: query.get("times") === "utc",
  };
}

function writeLocation() {
  const query = new URLSearchParams();
  if (!embedded && state.proposal) query.set("proposal", state.proposal);
  if (state.asOf) query.set("as_of", state.asOf);
  if (state.knownAt) query.set("known_at", state.knownAt);
  if (state.utc) query.set("times", "utc");
  const search = query.toString();
  history.replaceState(null, "", location.pathname + (search ? `?${search}` : ""));
  updateExportLinks();
}

function updateExportLinks() {
  const links = {
    "export-timelinejs": "/v1/exports/timelinejs",
    "export-csv": "/v1/exports/events.csv",
    "export-plover": "/v1/exports/plover.jsonl",
  };
  for (const [id, path] of Object.entries(links)) {
    const link = document.getElementById(id);
    if (link) link.href = withQuery(path, { proposal: state.proposal, as_of: state.asOf, known_at: state.knownAt });
  }
}

// ---- the API ------------------------------------------------------------------------------

function withQuery(path, params) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url.pathname + url.search;
}

async function api(path, params = {}) {
  const response = await fetch(withQuery(path, params), { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || body.title || `the API answered ${response.status}`);
  return body;
}

async function allPages(path, params) {
  const items = [];
  let page = await api(path, { ...params, limit: 1000 });
  items.push(...page.items);
  while (page.next) {
    page = await api(page.next);
    items.push(...page.items);
  }
  return items;
}

// ---- time ---------------------------------------------------------------------------------
// One convention on the whole page. An event's time is told where it happened: in its own
// zone, named by its city, with UTC beside any clock time ("13 Mar 2025, 18:00 Moscow
// (15:00 UTC)"); a date alone names its zone ("13 Mar 2025, Moscow time"). "Times in UTC"
// tells them in UTC alone. The page's own moments (the as-of day, the known-at instant) are
// UTC and say so. Always a 24-hour clock and the day before the month, whatever the browser's
// locale.

const ms = (instant) => Date.parse(instant);
const dayOf = (time) => new Date(time).toISOString().slice(0, 10);
const FINE = new Set(["hour", "minute", "second", "instant"]);
const UTC = { name: "UTC", utc: true, iana: "UTC", shift: 0 };

// Making an Intl.DateTimeFormat costs far more than using one: a lane of thousands of
// segments asks for the same few again and again.
const formats = new Map();

function format(timeZone) {
  if (!formats.has(timeZone)) {
    formats.set(timeZone, new Intl.DateTimeFormat("en-GB", {
      timeZone, day: "numeric", month: "short", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }));
  }
  return formats.get(timeZone);
}

// The calendar and clock reading of an instant in a zone.
function reading(instant, zone) {
  const when = new Date(ms(instant) + zone.shift);
  const parts = Object.fromEntries(format(zone.iana).formatToParts(when).map((p) => [p.type, p.value]));
  return {
    day: parts.day, month: parts.month, year: parts.year, clock: `${parts.hour}:${parts.minute}`,
    date: `${parts.day} ${parts.month} ${parts.year}`,
  };
}

const OFFSET = /T[\d:.]+([+-])(\d\d):?(\d\d)$/;

// The zone an event is told in: its IANA zone when it has one other than UTC, else the offset
// its occurred_at was written with ("UTC+3"), else UTC. A zone is named by its city.
function zoneOf(event) {
  const timeZone = event?.timezone || "UTC";
  if (!["UTC", "Etc/UTC", "Etc/GMT"].includes(timeZone) && !timeZone.startsWith("Etc/")) {
    const city = timeZone.split("/").pop().replaceAll("_", " ");
    return { name: city, utc: false, iana: timeZone, shift: 0 };
  }
  const offset = OFFSET.exec(String(event?.occurred_at || "").split("/")[0]);
  if (!offset || Number(offset[2]) + Number(offset[3]) === 0) return UTC;
  const minutes = (offset[1] === "-" ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
  const hours = `${offset[1]}${Number(offset[2])}${offset[3] === "00" ? "" : `:${offset[3]}`}`;
  return { name: `UTC${hours}`, utc: false, iana: "UTC", shift: minutes * 60_000 };
}

// "13 Mar 2025", "11–13 Mar 2025", "28 Feb – 2 Mar 2025", "Mar 2025".
function dates(a, b, precision) {
  if (precision === "year") return a.year === b.year ? a.year : `${a.year} – ${b.year}`;
  if (precision === "month") {
    const first = `${a.month} ${a.year}`;
    const last = `${b.month} ${b.year}`;
    return first === last ? first : `${a.year === b.year ? a.month : first} – ${last}`;
  }
  if (a.date === b.date) return a.date;
  if (a.month === b.month && a.year === b.year) return `${a.day}–${b.date}`;
  if (a.year === b.year) return `${a.day} ${a.month} – ${b.date}`;
  return `${a.date} – ${b.date}`;
}

// "13 Mar 2025, 18:00", "13 Mar 2025, 18:00–23:59", "12 Mar 2025, 21:00 – 13 Mar 2025, 20:59".
function clocks(a, b) {
  if (a.date !== b.date) return `${a.date}, ${a.clock} – ${b.date}, ${b.clock}`;
  return a.clock === b.clock ? `${a.date}, ${a.clock}` : `${a.date}, ${a.clock}–${b.clock}`;
}

// The UTC beside a local clock time: the clock alone while the dates agree with the local ones.
function besideUtc(a, b, ua, ub) {
  if (a.date === ua.date && b.date === ub.date && a.date === b.date) {
    return ua.clock === ub.clock ? ua.clock : `${ua.clock}–${ub.clock}`;
  }
  const at = (u) => `${u.day} ${u.month} ${u.clock}`;
  return ua.clock === ub.clock && ua.date === ub.date ? at(ua) : `${at(ua)} – ${at(ub)}`;
}

// When something happened, from its earliest to its latest instant, by the convention above.
function when(earliest, latest, zone, precision) {
  const fine = FINE.has(precision);
  if (zone.utc || state.utc) {
    if (!fine && zone.utc) return `${dates(reading(earliest, UTC), reading(latest, UTC), precision)}, UTC`;
    return `${clocks(reading(earliest, UTC), reading(latest, UTC))} UTC`;
  }
  const a = reading(earliest, zone);
  const b = reading(latest, zone);
  if (!fine) return `${dates(a, b, precision)}, ${zone.name} time`;
  return `${clocks(a, b)} ${zone.name} (${besideUtc(a, b, reading(earliest, UTC), reading(latest, UTC))} UTC)`;
}

// An event's valid time, with its qualifiers: "13 Mar 2025, Moscow time (uncertain)".
function eventWhen(event) {
  const valid = event.valid_time;
  const qualifiers = valid.qualifiers.length ? ` (${valid.qualifiers.join(", ")})` : "";
  return `${when(valid.earliest, valid.latest, zoneOf(event), valid.precision)}${qualifiers}`;
}

const ISO_DATE = /^\d{4}-\d\d-\d\d$/;

// A day of the page's own (the as-of day), or a date without a zone: "13 Mar 2025".
const utcDay = (date) => reading(`${date}T12:00:00Z`, UTC).date;

// A moment of the page's own (the known-at instant): "1 Jan 2030, 00:00 UTC".
const utcMoment = (instant) => `${clocks(reading(instant, UTC), reading(instant, UTC))} UTC`;

// The calendar date of an instant in an IANA zone, as YYYY-MM-DD.
const isoDates = new Map();

function localDate(instant, timeZone) {
  const zone = timeZone || "UTC";
  if (!isoDates.has(zone)) {
    isoDates.set(zone, new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    }));
  }
  return isoDates.get(zone).format(new Date(instant));
}

// The end of the chosen day: a bare date as `as_of` means the end of that day.
function asOfInstant() {
  return state.asOf ? ms(`${state.asOf}T23:59:59.999Z`) : Infinity;
}

// The known-at picker is a text field in UTC, "YYYY-MM-DD HH:MM" (seconds optional): a
// datetime-local field would show the browser's locale (12-hour, month first) and its zone.
const PICKED = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d)(\.\d{1,6})?)?\s*(?:Z|UTC)?$/i;

function knownAtForPicker(knownAt) {
  if (!knownAt || Number.isNaN(ms(knownAt))) return knownAt || "";
  const iso = new Date(ms(knownAt)).toISOString();
  const seconds = iso.slice(17, 23) === "00.000" ? "" : iso.slice(16, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}${seconds}`;
}

// The known_at a picker entry means, "" for none, or null when it cannot be read.
function knownAtFromPicker(text) {
  const entry = text.trim();
  if (!entry) return "";
  const found = PICKED.exec(entry);
  if (!found) return null;
  const [, year, month, day, hour, minute, second = "00", fraction = ""] = found;
  const instant = `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}Z`;
  // Date.parse accepts 31 February; the round trip does not.
  const parsed = new Date(ms(instant));
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 19) !== instant.slice(0, 19)) return null;
  return instant;
}

// ---- loading ------------------------------------------------------------------------------

// The events list shows the latest events up to the chosen day, a page at a time: a proposal
// with tens of thousands of events draws as fast as one with ten.
const PAGE = 200;
const FIRST_LANES = 20;
let earlier = null; // the link to the page before the ones shown, when there is one

async function load(reason) {
  const mine = ++loading;
  if (!state.proposal) {
    say("No proposal is on record yet.");
    return;
  }
  say(reason || "Loading…");
  const known = { known_at: state.knownAt };
  const about = { ...known, proposal: state.proposal, retracted: "show" };
  try {
    const [proposal, first, last, shown] = await Promise.all([
      api(`/v1/proposals/${encodeURIComponent(state.proposal)}`, { ...known, as_of: state.asOf }),
      // The first and the last event bound the lanes, whatever day is chosen.
      api("/v1/timeline", { ...about, limit: 1 }),
      api("/v1/timeline", { ...about, limit: 1, order: "desc" }),
      api("/v1/timeline", { ...about, to: state.asOf, limit: PAGE, order: "desc" }),
      loadRegistry(),
    ]);
    // The first parties' lanes are drawn at once; the others follow, a page at a time.
    const every = await api(`/v1/proposals/${encodeURIComponent(state.proposal)}/histories`, {
      ...known, limit: FIRST_LANES,
    });
    const histories = new Map(every.items.map((history) => [history.actor, history.items]));
    if (mine !== loading) return;
    const events = shown.items.slice().reverse();
    const byId = new Map([...first.items, ...last.items, ...events].map((event) => [event.id, event]));
    frame = frameOf([...first.items, ...last.items], histories);
    earlier = shown.next;
    drawSlider();
    drawTitle(proposal, byId);
    drawLanes(proposal, histories, byId);
    drawEvents(events);
    say(`${earlier ? "The latest " : ""}${events.length} events; ${describeMoment()}.`);
    drawLaterLanes(every.next, proposal, histories, byId, mine).catch((error) => say(`Could not load: ${error.message}`));
  } catch (error) {
    if (mine === loading) say(`Could not load: ${error.message}`);
  }
}

// The lanes of the parties after the first page, as their histories arrive.
async function drawLaterLanes(next, proposal, histories, byId, mine) {
  const cut = asOfInstant();
  while (next) {
    const page = await api(next);
    if (mine !== loading) return;
    for (const history of page.items) {
      histories.set(history.actor, history.items);
      const position = proposal.positions.find((p) => p.actor === history.actor);
      const waiting = view.lanes.querySelector(`.lane[data-actor="${CSS.escape(history.actor)}"]`);
      if (position && waiting) waiting.replaceWith(lane(position, history.items, byId, cut));
    }
    next = page.next;
  }
}

// The page before the shown ones, put above them.
async function loadEarlier() {
  if (!earlier) return;
  const mine = loading;
  const page = await api(earlier);
  if (mine !== loading) return;
  earlier = page.next;
  view.events.prepend(...page.items.slice().reverse().map(eventItem));
  drawEarlierButton();
}

async function loadRegistry() {
  const [actors, sources] = await Promise.all([allPages("/v1/actors", {}), allPages("/v1/sources", {})]);
  registry.actors = new Map(actors.map((actor) => [actor.id, actor]));
  registry.sources = new Map(sources.map((source) => [source.id, source]));
}

function describeMoment() {
  const asOf = state.asOf ? `as of the end of ${utcDay(state.asOf)} (UTC)` : "as of now";
  const knownAt = state.knownAt ? `as known at ${utcMoment(state.knownAt)}` : "as known now";
  return `${asOf}, ${knownAt}`;
}

function say(message) {
  view.status.textContent = message;
}

// The lanes span the proposal's events and stance changes, a day either side.
function frameOf(events, histories) {
  const times = events.flatMap((event) => [ms(event.valid_time.earliest)]);
  for (const items of histories.values()) times.push(...items.map((item) => ms(item.valid_from)));
  if (times.length === 0) times.push(Date.now());
  const start = ms(`${dayOf(Math.min(...times))}T00:00:00Z`) - DAY;
  const end = ms(`${dayOf(Math.max(...times))}T00:00:00Z`) + 2 * DAY;
  return { start, end, days: Math.round((end - start) / DAY) };
}

// ---- drawing ------------------------------------------------------------------------------

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
    else if (name === "style") for (const [property, v] of Object.entries(value)) node.style.setProperty(property, v);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

const actorName = (id) => registry.actors.get(id)?.name || id;

function drawLegend() {
  view.legend.replaceChildren(
    ...STANCES.map((stance) =>
      element("li", { class: "legend-item" }, element("span", { class: "swatch", "data-stance": stance }), stance),
    ),
  );
}

function drawSlider() {
  // The last step past the frame's days means "now": no as_of at all.
  controls.asOf.max = String(frame.days + 1);
  const chosen = state.asOf ? Math.round((ms(`${state.asOf}T00:00:00Z`) - frame.start) / DAY) : frame.days + 1;
  controls.asOf.value = String(Math.max(0, Math.min(frame.days + 1, chosen)));
  labelSlider();
}

function sliderDate() {
  const step = Number(controls.asOf.value);
  return step > frame.days ? "" : dayOf(frame.start + step * DAY);
}

function labelSlider() {
  if (!frame) return;
  const date = sliderDate();
  const text = date ? utcDay(date) : "now";
  controls.asOfLabel.textContent = text;
  controls.asOf.setAttribute("aria-valuetext", text);
}

function drawTitle(proposal, byId) {
  document.title = `${proposal.title || proposal.id} · Diplomatic Timeline`;
  // The day it was tabled where it was tabled (the tabling event's zone), or in UTC.
  const tabling = byId.get(proposal.based_on?.[0]);
  const zone = state.utc ? UTC : zoneOf(tabling);
  view.title.replaceChildren(
    element("strong", { text: proposal.title || proposal.id }),
    proposal.proposer ? ` — tabled by ${actorName(proposal.proposer)}` : "",
    proposal.tabled_at ? `, ${reading(proposal.tabled_at, zone).date}` : "",
  );
}

function percent(time) {
  const share = (Math.min(Math.max(time, frame.start), frame.end) - frame.start) / (frame.end - frame.start);
  return `${(share * 100).toFixed(3)}%`;
}

function drawLanes(proposal, histories, byId) {
  const cut = asOfInstant();
  view.lanes.replaceChildren(
    ...proposal.positions.map((position) => lane(position, histories.get(position.actor), byId, cut)),
  );
  drawAxis(cut);
}

function lane(position, history, byId, cut) {
  const name = actorName(position.actor);
  const headingId = `lane-${position.actor}`;
  if (history === undefined) {  // its history is on its way
    return element(
      "section",
      { class: "lane", "data-actor": position.actor, "aria-labelledby": headingId, "aria-busy": "true" },
      element("h3", { id: headingId, class: "lane-name" }, name),
      element("ol", { class: "track", "aria-label": `${name}'s stance over time, loading` }),
    );
  }
  const spans = [];
  const first = history.length ? ms(history[0].valid_from) : frame.end;
  if (first > frame.start) spans.push({ stance: "unstated", from: frame.start, to: first });
  for (const item of history) {
    spans.push({ stance: item.stance, from: ms(item.valid_from), to: item.valid_to ? ms(item.valid_to) : frame.end, item });
  }
  const track = element("ol", { class: "track", "aria-label": `${name}'s stance over time` });
  for (const span of spans) {
    if (span.from > cut) continue;
    track.append(segment(position.actor, span, Math.min(span.to, cut), byId));
  }
  if (cut < frame.end) {
    track.append(element("li", {
      class: "unknown", style: { left: percent(cut), width: `calc(${percent(frame.end)} - ${percent(cut)})` },
      "aria-hidden": "true",
    }));
  }
  return element(
    "section",
    { class: "lane", "data-actor": position.actor, "aria-labelledby": headingId },
    element(
      "h3",
      { id: headingId, class: "lane-name" },
      name,
      " ",
      element("span", {
        class: "stance-chip", "data-stance": position.stance, text: position.stance,
        "aria-label": `${position.stance} ${state.asOf ? "as of the chosen day" : "now"}`,
      }),
    ),
    track,
  );
}

function segment(actor, span, to, byId) {
  const event = span.item ? byId.get(span.item.based_on?.[0]) : null;
  const timeZone = event?.timezone || "UTC";
  // An event not loaded with the page leaves its zone and precision unknown: then UTC, to the minute.
  const precision = event?.valid_time?.precision || "minute";
  const tipId = `tip-${actor}-${span.from}`;
  const since = span.item ? when(span.item.valid_from, span.item.valid_from, zoneOf(event), precision) : "";
  const speaker = span.item?.speaker ? actorName(span.item.speaker) : "";
  const label = span.item
    ? `${actorName(actor)}: ${span.stance} from ${since}${speaker ? `, said by ${speaker}` : ""}`
    : `${actorName(actor)}: no stance on record`;
  const button = element("button", { type: "button", class: "segment-button", "aria-describedby": tipId, "aria-label": label });
  const item = element(
    "li",
    {
      class: "segment", "data-stance": span.stance,
      "data-from": span.item ? localDate(span.item.valid_from, timeZone) : "",
      style: { left: percent(span.from), width: `calc(${percent(to)} - ${percent(span.from)})` },
    },
    button,
  );
  // The details are made when first wanted (hover or focus): a proposal's lanes can hold
  // thousands of segments, and most are never looked at.
  const tip = () => element("div", { class: "tip", role: "tooltip", id: tipId },
    element("p", { class: "tip-head" }, element("strong", { text: span.stance }), since ? ` · since ${since}` : ""),
    speaker ? element("p", { class: "tip-speaker", text: `Speaker: ${speaker}` }) : null,
    ...(span.item?.sources || []).map(citation),
    span.item?.contested ? element("p", { class: "mark-note", text: "Voices of this party disagree." }) : null,
  );
  const open = () => {
    const card = item.querySelector(".tip") || item.appendChild(tip());
    item.classList.add("open");
    place(item, card);
  };
  const close = () => item.classList.remove("open");
  item.addEventListener("mouseenter", open);
  item.addEventListener("focusin", open);
  item.addEventListener("mouseleave", () => {
    if (!item.contains(document.activeElement)) close();
  });
  item.addEventListener("focusout", (event) => {
    if (!item.contains(event.relatedTarget) && !item.matches(":hover")) close();
  });
  return item;
}

// Escape closes an open card wherever the focus is, without moving the pointer.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const open of document.querySelectorAll(".segment.open")) open.classList.remove("open");
});

// A card opens under its segment, or over it when there is more room there, and slides left
// or right to stay on the screen (a segment near the right edge used to push it off, cutting
// words); a card taller than the room it has scrolls.
const EDGE = 8;

function place(item, card) {
  for (const property of ["left", "top", "bottom", "max-height"]) card.style.removeProperty(property);
  const anchor = item.getBoundingClientRect();
  const screenWidth = document.documentElement.clientWidth;
  card.style.setProperty("max-width", `${screenWidth - 2 * EDGE}px`);
  const left = Math.max(EDGE, Math.min(anchor.left, screenWidth - EDGE - card.offsetWidth));
  card.style.setProperty("left", `${left - anchor.left}px`);
  const below = window.innerHeight - anchor.bottom - EDGE;
  const above = anchor.top - EDGE;
  if (card.offsetHeight <= below || below >= above) {
    card.style.setProperty("top", "100%");
    card.style.setProperty("max-height", `${Math.max(below, 0)}px`);
  } else {
    card.style.setProperty("top", "auto");
    card.style.setProperty("bottom", "100%");
    card.style.setProperty("max-height", `${above}px`);
  }
}

// A quote is printed exactly as recorded, set off as a block quotation (a rule at its side),
// without quotation marks of ours: an excerpt often opens with the article's own marks
// ("“Our goal is…,” Ushakov told reporters"), and marks around it would double them.
function citation(cited) {
  const source = registry.sources.get(cited.source);
  const published = ISO_DATE.test(source?.published_on || "") ? `, ${utcDay(source.published_on)}` : "";
  const outlet = source ? `${source.outlet}, “${source.headline}”${published}` : cited.source;
  const reference = source?.url
    ? element("a", { href: source.url, target: embedded ? "_blank" : null, rel: "noopener", text: outlet })
    : outlet;
  return element(
    "figure",
    { class: "citation" },
    cited.quote ? element("blockquote", { text: cited.quote }) : null,
    element("figcaption", {}, "— ", element("cite", {}, reference)),
  );
}

const dayMonth = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", day: "numeric", month: "short" });
let axisCut = Infinity;

// Day labels (UTC days), as many as the axis has room for: the step between them grows with the
// days shown and shrinks with the width, so on a phone they never run into each other. Each
// label is centred on its day, kept inside the axis, and left out if it would touch the one
// before.
function drawAxis(cut) {
  axisCut = cut;
  const width = view.axis.clientWidth;
  axisWidth = width;
  const probe = element("span", { class: "tick", text: "28 Sept" });
  view.axis.replaceChildren(probe);
  const label = probe.offsetWidth;
  const perDay = width / frame.days;
  const gap = 8;
  // One and a half labels apart: the first and last labels, kept inside the axis, are shifted by
  // half a label towards their neighbours.
  const every = Math.max(1, Math.ceil((1.5 * label + gap) / perDay));
  const ticks = [];
  let reached = -Infinity;
  for (let day = 0; day <= frame.days; day += every) {
    const left = Math.max(0, Math.min(day * perDay - label / 2, width - label));
    if (left < reached + gap) continue;
    reached = left + label;
    ticks.push(element("span", {
      class: "tick",
      style: { left: `${left}px`, width: `${label}px` },
      text: dayMonth.format(new Date(frame.start + day * DAY)),
    }));
  }
  if (cut < frame.end) ticks.push(element("span", { class: "cut", style: { left: percent(cut) } }));
  view.axis.replaceChildren(...ticks);
}

// The labels are laid out for the axis's width: a turned phone or a resized window lays them
// out again.
let axisWidth = 0;
new ResizeObserver(() => {
  if (!frame || view.axis.clientWidth === axisWidth) return;
  axisWidth = view.axis.clientWidth;
  drawAxis(axisCut);
}).observe(view.axis);

function headline(event) {
  const payload = event.payload;
  if (payload.summary) return payload.summary;
  if (event.type === "ProposalTabled") return `${actorName(payload.proposer)} tables “${payload.title}”`;
  if (event.type === "PositionStated") {
    const by = payload.speaker ? ` (${actorName(payload.speaker)})` : "";
    return `${actorName(payload.actor)}: ${payload.stance}${by}`;
  }
  return TYPE_NAMES[event.type] || event.type;
}

function drawEvents(events) {
  if (events.length === 0) {
    view.events.replaceChildren(element("li", { class: "empty", text: "No events on record for this view." }));
  } else {
    view.events.replaceChildren(...events.map(eventItem));
  }
  drawEarlierButton();
}

function drawEarlierButton() {
  let button = document.getElementById("earlier-events");
  if (!earlier) {
    button?.remove();
    return;
  }
  if (!button) {
    button = element("button", { type: "button", id: "earlier-events", class: "earlier", text: "Show earlier events" });
    button.addEventListener("click", () => loadEarlier().catch((error) => say(`Could not load: ${error.message}`)));
    view.events.before(button);
  }
}

function eventItem(event) {
  const marks = [];
  if (event.retracted) marks.push(["retracted", "Retracted"]);
  if (event.corrected_by.length) marks.push(["corrected", "Corrected"]);
  if (event.disputed) marks.push(["disputed", "Disputed"]);
  // One outlet alone reports it: said in words on the mark and in a note, not by colour.
  if (event.single_source) marks.push(["single-source", "Single source"]);
  const quote = event.payload.quote;
  const headingId = `event-${event.id}`;
  return element(
    "li",
    {
      class: "event", "data-id": event.id, "data-type": event.type,
      "data-retracted": event.retracted ? "true" : null,
      "data-corrected": event.corrected_by.length ? "true" : null,
      "data-disputed": event.disputed ? "true" : null,
      "data-single-source": event.single_source ? "true" : null,
    },
    element(
      "article",
      { "aria-labelledby": headingId },
      element(
        "p",
        { class: "event-meta" },
        element("time", {
          datetime: event.valid_time.earliest,
          text: eventWhen(event),
        }),
        " · ",
        TYPE_NAMES[event.type] || event.type,
        ...marks.map(([kind, text]) => element("span", { class: `mark mark-${kind}`, text })),
      ),
      element("h3", { id: headingId, class: "event-headline", text: headline(event) }),
      event.actors.length
        ? element("p", { class: "event-actors", text: event.actors.map(actorName).join(" · ") })
        : null,
      quote ? element("blockquote", { class: "event-quote", text: quote }) : null,
      ...event.disputes.map((dispute) => element("p", { class: "mark-note", text: `Disputed: ${dispute.reason}` })),
      event.retracted ? element("p", { class: "mark-note", text: "Retracted: this report was withdrawn." }) : null,
      event.single_source
        ? element("p", {
          class: "single-source-note",
          text: `Single source: only ${event.corroboration?.outlets?.[0] || "one outlet"} reports this.`,
        })
        : null,
      element("details", { class: "sources" },
        element("summary", { text: `${event.sources.length} source${event.sources.length === 1 ? "" : "s"}` }),
        ...event.sources.map(citation)),
    ),
  );
}

// ---- live updates -------------------------------------------------------------------------

// A pinned "known at" is a view of the past: new events do not belong in it.
function onLiveEvent(type) {
  if (state.knownAt) {
    say(`A new ${type} was recorded; clear “Known at” to see it.`);
    return;
  }
  clearTimeout(pending);
  pending = setTimeout(() => load(`A new ${TYPE_NAMES[type] || type} was recorded; updating…`), 150);
}

async function follow() {
  const [types, health] = await Promise.all([api("/v1/event-types"), api("/v1/health")]);
  const feed = new EventSource(`/v1/feed?after=${health.head ?? 0}`);
  for (const type of types.items) feed.addEventListener(type.name, () => onLiveEvent(type.name));
}

// ---- controls -----------------------------------------------------------------------------

function bindControls() {
  if (controls.proposal) {
    if (!state.proposal) state.proposal = controls.proposal.value;
    controls.proposal.value = state.proposal;
    controls.proposal.addEventListener("change", () => {
      state.proposal = controls.proposal.value;
      writeLocation();
      load();
    });
  }
  controls.knownAt.value = knownAtForPicker(state.knownAt);
  controls.utc.checked = state.utc;
  controls.asOf.addEventListener("input", labelSlider);
  controls.asOf.addEventListener("change", () => {
    state.asOf = sliderDate();
    writeLocation();
    load();
  });
  // Enter submits the form and leaving the field changes it: either one applies the entry.
  controls.knownAt.addEventListener("change", pickKnownAt);
  controls.utc.addEventListener("change", () => {
    state.utc = controls.utc.checked;
    writeLocation();
    load();
  });
  controls.reset.addEventListener("click", () => {
    state.asOf = "";
    state.knownAt = "";
    controls.knownAt.value = "";
    controls.knownAt.removeAttribute("aria-invalid");
    writeLocation();
    load();
  });
  document.getElementById("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    pickKnownAt();
  });
}

function pickKnownAt() {
  const knownAt = knownAtFromPicker(controls.knownAt.value);
  if (knownAt === null) {
    controls.knownAt.setAttribute("aria-invalid", "true");
    say("Known at: write a UTC time as YYYY-MM-DD HH:MM, for example 2025-03-13 18:00.");
    return;
  }
  const wasInvalid = controls.knownAt.hasAttribute("aria-invalid");
  controls.knownAt.removeAttribute("aria-invalid");
  if (knownAt === state.knownAt && !wasInvalid) return;
  state.knownAt = knownAt;
  controls.knownAt.value = knownAtForPicker(knownAt);
  writeLocation();
  load();
}

if (controls.asOf) {
  drawLegend();
  bindControls();
  writeLocation();
  load().then(follow).catch((error) => say(`Live updates are off: ${error.message}`));
}
