// The "new game" form: title, the kind of game, its prompts (typed, from one of its sample packs or an
// imported file: JSON, CSV or a Kahoot! spreadsheet) and its settings, built from what the appliance
// declares (GET /api/types). A line that starts with another kind's slug in brackets (`[quiz] …`) is
// played by that kind: the game mixes kinds, and the form shows every kind's settings.

import { adminApi, signedIn } from "./admin.js";
import { api, h, keys, samePath, setText, store, toast } from "./ui.js";

const form = document.getElementById("create-form");
const titleIn = form.querySelector("#title");
const promptsIn = form.querySelector("#prompts");
const countEl = document.getElementById("prompt-count");
const packSel = document.getElementById("pack");
const fileIn = document.getElementById("import");
const errEl = form.querySelector(".form-error");
const button = form.querySelector("button[type=submit]");
const typeField = document.getElementById("type-field");
const typeSel = document.getElementById("type");
const settingsEl = document.getElementById("settings");
const promptHint = document.getElementById("prompt-hint");
const PACK_MAX = 256 * 1024; // engagements/packs.py MAX_PACK_BYTES: refused here before the upload

const prompts = () =>
  promptsIn.value
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);

function updateCount() {
  const n = prompts().length;
  setText(countEl, `${n} prompt${n === 1 ? "" : "s"}`);
}

function showError(text) {
  setText(errEl, text || "");
  errEl.hidden = !text;
}

/** A pack from the server ({type, title, prompts: [line], settings, notes}) into the form: its type
 * and its prompts first (their kinds' settings appear), then its title and the settings it brings. */
async function usePack(pack, { source }) {
  const list = (pack.prompts || []).map((p) => String(p).trim()).filter(Boolean);
  if (!list.length) {
    showError(`${source} has no prompts in it.`);
    return;
  }
  promptsIn.value = list.join("\n");
  if (pack.type && catalogue && typeSel.value !== pack.type && chosenType(pack.type)) {
    typeSel.value = pack.type; // the kind of game its unmarked prompts are written for
    buildSettings();
    await loadPacks();
  } else {
    buildSettings();
  }
  for (const [name, value] of Object.entries(pack.settings || {})) {
    const input = form.querySelector(`#${CSS.escape(name)}`);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = !!value;
    else input.value = String(value);
  }
  if (pack.title && (!titleIn.value.trim() || titleIn.dataset.fromPack === "1")) {
    titleIn.value = pack.title;
    titleIn.dataset.fromPack = "1";
  }
  showError("");
  updateCount();
  toast(`Loaded ${list.length} prompt${list.length === 1 ? "" : "s"} from ${source}.`, "ok", 2500);
  for (const note of pack.notes || []) toast(note, "info", 8000);
}

promptsIn.addEventListener("input", () => {
  updateCount();
  showError("");
  if (catalogue && mixedKinds().join() !== settingsEl.dataset.kinds) buildSettings();
});
titleIn.addEventListener("input", () => {
  titleIn.dataset.fromPack = "0";
  showError("");
});
updateCount();

const packPlaceholder = packSel.querySelector('option[value=""]');

/** The sample packs of the chosen kind of game. */
async function loadPacks() {
  const type = typeSel.value;
  let packs = [];
  try {
    packs = (await api(`/api/packs${type ? `?type=${encodeURIComponent(type)}` : ""}`)).packs || [];
  } catch {
    /* no samples offered: typing and importing still work */
  }
  if (type !== typeSel.value) return; // the host changed the kind of game meanwhile
  packSel.replaceChildren(packPlaceholder, ...packs.map((p) => h("option", { value: p.name }, `${p.title} (${p.count})`)));
  packSel.disabled = !packs.length;
}

packSel.addEventListener("change", async () => {
  const name = packSel.value;
  if (!name) return;
  if (prompts().length && !confirm("Replace the prompts you have with this pack?")) {
    packSel.value = "";
    return;
  }
  try {
    const pack = await api(`/api/packs/${encodeURIComponent(name)}`);
    await usePack(pack, { source: `“${pack.title || name}”` });
  } catch (err) {
    showError(`Couldn't load that pack: ${err.message}`);
  }
  packSel.value = "";
});

fileIn.addEventListener("change", async () => {
  const file = fileIn.files && fileIn.files[0];
  fileIn.value = "";
  if (!file) return;
  if (file.size > PACK_MAX) {
    showError(`That file is too big for a question pack (${PACK_MAX / 1024} KB at most).`);
    return;
  }
  try {
    // Every POST is JSON (docs/security.md): the file, a spreadsheet too, travels in base64.
    const data = base64(new Uint8Array(await file.arrayBuffer()));
    const pack = await adminApi("/api/packs/parse", {
      method: "POST",
      body: { filename: file.name, type: typeSel.value || undefined, data },
    });
    await usePack(pack, { source: file.name });
  } catch (err) {
    showError(
      err.code === "too_large"
        ? "That file is too big for a question pack."
        : `Couldn't read ${file.name}: ${err.message}`,
    );
  }
});

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// ---- the kind of game and its settings ---------------------------------------------------------

let catalogue = null; // GET /api/types: {default, settings, types: [{slug, title, settings}]}

function chosenType(slug = typeSel.value) {
  return catalogue ? catalogue.types.find((t) => t.slug === slug) || null : null;
}

// A line `[slug] …` is played by that kind (engagements/creation.py, TYPE_MARK and prompt_type): a bracket
// naming no kind of this appliance is part of the prompt.
const TYPE_MARK = /^\[([a-z0-9][a-z0-9-]*)\]\s*/;

/** The kind that plays a line of the form: its `[slug]`'s, else the chosen one. */
function kindOf(line) {
  const mark = TYPE_MARK.exec(line);
  return (mark && chosenType(mark[1])) || chosenType();
}

/** The kinds the prompts play, the chosen one first. */
function mixedKinds() {
  return [...new Set([typeSel.value, ...prompts().map((line) => kindOf(line)?.slug)].filter(Boolean))];
}

/** The kinds the host runs alongside the rounds: those whose `alongside` box is ticked. */
function alongsideKinds() {
  const on = (t) => t.alongside && settingsEl.querySelector(`#${CSS.escape(t.alongside)}`)?.checked;
  return catalogue.types.filter(on).map((t) => t.slug);
}

/** The declared settings of every kind the game plays or runs alongside (a setting two kinds declare
 * is one, as the server reads it), every kind's box that runs it alongside the rounds (offered on
 * every game: engagements/creation.py, `alongside`), then the core's:
 * [{name, label, kind, default, min, max, unit, help}]. */
function declared() {
  const own = new Map();
  const add = (s) => s && !own.has(s.name) && own.set(s.name, s);
  for (const slug of new Set([...mixedKinds(), ...alongsideKinds()])) for (const s of chosenType(slug)?.settings || []) add(s);
  for (const t of catalogue.types) add(t.alongside && t.settings.find((s) => s.name === t.alongside));
  return [...own.values(), ...catalogue.settings];
}

function settingField(s) {
  const id = s.name;
  const help = s.help ? h("span", { class: "muted small" }, s.help) : null;
  if (s.kind === "boolean") {
    return h(
      "label",
      { class: "field field-check" },
      h("input", { id, name: id, type: "checkbox", checked: !!s.default }),
      h("span", { class: "field-label" }, s.label),
      help,
    );
  }
  return h(
    "label",
    { class: "field" },
    h("span", { class: "field-label" }, s.label),
    h("input", {
      id,
      name: id,
      class: "input",
      type: "number",
      inputmode: "numeric",
      min: String(s.min),
      max: String(s.max),
      step: "1",
      value: String(s.default),
      required: true,
    }),
    help,
  );
}

/** The settings of the kinds the game plays (keeping what the host typed), and how prompts are typed. */
function buildSettings() {
  const typed = new Map([...settingsEl.querySelectorAll("input")].map((i) => [i.name, i.type === "checkbox" ? i.checked : i.value]));
  settingsEl.replaceChildren(...declared().map(settingField));
  for (const [name, value] of typed) {
    const input = settingsEl.querySelector(`#${CSS.escape(name)}`);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = value;
    else input.value = value;
  }
  settingsEl.dataset.kinds = mixedKinds().join();
  const type = chosenType();
  const others = catalogue.types.filter((t) => t.slug !== typeSel.value).map((t) => `[${t.slug}]`);
  const mixing = others.length ? `; start a line with ${others.join(" or ")} to play it as that kind` : "";
  setText(promptHint, type ? `— ${type.prompt_hint}${mixing}` : "— one per line");
}

async function loadTypes() {
  await signedIn;
  try {
    catalogue = await adminApi("/api/types");
  } catch (err) {
    showError(`Couldn't load the kinds of game: ${err.message}`);
    return;
  }
  typeSel.replaceChildren(...catalogue.types.map((t) => h("option", { value: t.slug }, t.title)));
  typeSel.value = catalogue.default;
  typeField.hidden = catalogue.types.length < 2;
  buildSettings();
  await loadPacks();
}
settingsEl.addEventListener("change", (e) => {
  // Running a kind alongside the rounds brings its other settings (and taking it away, removes them).
  if (catalogue && catalogue.types.some((t) => t.alongside && t.alongside === e.target.name)) buildSettings();
});
typeSel.addEventListener("change", () => {
  buildSettings();
  loadPacks();
});
loadTypes();

/** The form's value of one declared setting; throws a message a host can act on. */
function settingValue(s) {
  const input = form.querySelector(`#${CSS.escape(s.name)}`);
  if (s.kind === "boolean") return input.checked;
  const n = Number(input.value);
  if (!Number.isInteger(n) || n < s.min || n > s.max) {
    throw new Error(`${s.label} must be a whole number from ${s.min} to ${s.max}${s.unit ? ` (${s.unit})` : ""}.`);
  }
  return n;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (button.disabled) return;
  const title = titleIn.value.trim();
  const list = prompts();
  const settings = {};
  try {
    if (!catalogue) throw new Error("The kinds of game have not loaded yet: reload the page.");
    if (!title) throw new Error("Give the game a title.");
    if (!list.length) throw new Error("Add at least one prompt — one per line.");
    const most = (line) => kindOf(line)?.prompt_chars ?? Infinity;
    const long = list.findIndex((p) => [...p.replace(TYPE_MARK, "")].length > most(p));
    if (long >= 0) throw new Error(`Prompt ${long + 1} is over ${most(list[long])} characters — shorten it.`);
    for (const s of declared()) settings[s.name] = settingValue(s);
  } catch (err) {
    showError(err.message);
    return;
  }
  showError("");
  button.disabled = true;
  setText(button, "Creating…");
  try {
    const res = await adminApi("/api/games", {
      method: "POST",
      body: { ...settings, title, prompts: list, type: typeSel.value },
    });
    store.set(keys.host(res.game_id), res.host_token);
    location.assign(samePath(res.host_url, `/host/${encodeURIComponent(res.game_id)}`));
  } catch (err) {
    button.disabled = false;
    setText(button, "Create game");
    showError(err.code === "network" ? err.message : `Couldn't create the game: ${err.message}`);
  }
});
