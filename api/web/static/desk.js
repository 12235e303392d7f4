// The desk: moves focus to a form's error summary, shows the chosen source's text beside the
// event form, and makes a passage highlighted in that text the quote of the quote field chosen
// last (the shown source's own quote unless the editor chose another). Typing a quote works
// just as well: nothing here is needed to record an event.

const summary = document.getElementById("error-summary");
if (summary) summary.focus();

const panel = document.getElementById("source-text");
const status = document.getElementById("source-text-status");
const form = document.getElementById("event-form");

let activeQuote = null; // the quote field a highlight fills
let shownRow = null; // the sources[i] row whose text is shown
let lastSelection = null; // { start, end, text } of the last passage highlighted
let shownText = ""; // the text shown, as the server sent it

const rowOf = (name) => (/^sources\[(\d+)\]\./.exec(name || "") || [])[1];
const quoteOfRow = (row) => form.querySelector(`[name="sources[${row}].quote"]`);

function say(text) {
  if (status) status.textContent = text;
}

async function showSource(select) {
  const source = select.value;
  shownRow = rowOf(select.name);
  lastSelection = null;
  if (!source) {
    panel.hidden = true;
    say("");
    return;
  }
  say(`Loading the text of ${source}…`);
  const response = await fetch(`/desk/sources/${encodeURIComponent(source)}/text`, {
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (typeof body.text !== "string") {
    panel.hidden = true;
    say(body.note || body.detail || `Could not load the text (${response.status}).`);
    return;
  }
  shownText = body.text;
  panel.textContent = body.text;
  panel.dataset.source = source;
  panel.hidden = false;
  say(`The text of ${source}: highlight the passage to quote.`);
}

// The selection within the panel, as offsets into the text shown.
function selectedInPanel() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  if (!panel.contains(range.startContainer) || !panel.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(panel);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  const end = start + range.toString().length;
  const text = shownText.slice(start, end).replace(/\s+/g, " ").trim();
  return text ? { start, end, text } : null;
}

// Keeps the quoted passage marked in the text once the selection is gone.
function markPassage(start, end) {
  const marked = document.createElement("mark");
  marked.id = "quoted-passage";
  marked.textContent = shownText.slice(start, end);
  panel.replaceChildren(shownText.slice(0, start), marked, shownText.slice(end));
  const within = marked.offsetTop - panel.offsetTop; // both from the sticky panel's box
  panel.scrollTop = Math.max(0, within - panel.clientHeight / 3);
}

function useSelection(target) {
  const picked = selectedInPanel() || lastSelection;
  const field = target || activeQuote || (shownRow !== undefined ? quoteOfRow(shownRow) : null);
  if (!picked || !field) return;
  field.value = picked.text;
  field.dispatchEvent(new Event("input", { bubbles: true }));
  markPassage(picked.start, picked.end);
  const label = form.querySelector(`label[for="${field.id}"]`)?.textContent?.trim() || "Quote";
  say(`${label} set from the highlighted text: “${picked.text}”.`);
}

if (form && panel && panel.dataset.texts === "on") {
  for (const select of form.querySelectorAll('select[name^="sources["]')) {
    select.addEventListener("change", () => showSource(select).catch((e) => say(`Could not load the text: ${e.message}`)));
    select.addEventListener("focus", () => {
      if (select.value && panel.dataset.source !== select.value) showSource(select).catch(() => {});
    });
  }
  form.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-quote]")) activeQuote = event.target;
  });
  const pick = () => {
    const picked = selectedInPanel();
    if (!picked) return;
    lastSelection = picked;
    useSelection(null);
  };
  panel.addEventListener("mouseup", pick);
  panel.addEventListener("keyup", pick);
  for (const button of form.querySelectorAll(".use-selection")) {
    button.hidden = false;
    button.addEventListener("click", () => useSelection(document.getElementById(button.dataset.target)));
  }
  const first = form.querySelector('select[name="sources[0].source"]');
  if (first && first.value) showSource(first).catch(() => {});
}
