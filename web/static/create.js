// The "new game" form: title, prompts (typed, from a sample pack or an imported file), timings.

import { adminApi } from "./admin.js";
import { api, h, keys, samePath, setText, store, toast } from "./ui.js";

const form = document.getElementById("create-form");
const titleIn = form.querySelector("#title");
const promptsIn = form.querySelector("#prompts");
const countEl = document.getElementById("prompt-count");
const packSel = document.getElementById("pack");
const fileIn = document.getElementById("import");
const errEl = form.querySelector(".form-error");
const button = form.querySelector("button[type=submit]");

const PROMPT_MAX = 200;

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

function usePack(pack, { source }) {
  const list = (pack.prompts || []).map((p) => String(p).trim()).filter(Boolean);
  if (!list.length) {
    showError(`${source} has no prompts in it.`);
    return;
  }
  promptsIn.value = list.join("\n");
  if (pack.title && (!titleIn.value.trim() || titleIn.dataset.fromPack === "1")) {
    titleIn.value = pack.title;
    titleIn.dataset.fromPack = "1";
  }
  showError("");
  updateCount();
  toast(`Loaded ${list.length} prompt${list.length === 1 ? "" : "s"} from ${source}.`, "ok", 2500);
}

promptsIn.addEventListener("input", () => {
  updateCount();
  showError("");
});
titleIn.addEventListener("input", () => {
  titleIn.dataset.fromPack = "0";
  showError("");
});
updateCount();

async function loadPacks() {
  try {
    const data = await api("/api/packs");
    for (const p of data.packs || []) {
      packSel.append(h("option", { value: p.name }, `${p.title} (${p.count})`));
    }
    if (!(data.packs || []).length) packSel.disabled = true;
  } catch {
    packSel.disabled = true;
  }
}
loadPacks();

packSel.addEventListener("change", async () => {
  const name = packSel.value;
  if (!name) return;
  if (prompts().length && !confirm("Replace the prompts you have with this pack?")) {
    packSel.value = "";
    return;
  }
  try {
    const pack = await api(`/api/packs/${encodeURIComponent(name)}`);
    usePack(pack, { source: `“${pack.title || name}”` });
  } catch (err) {
    showError(`Couldn't load that pack: ${err.message}`);
  }
  packSel.value = "";
});

fileIn.addEventListener("change", async () => {
  const file = fileIn.files && fileIn.files[0];
  fileIn.value = "";
  if (!file) return;
  if (file.size > 1024 * 1024) {
    showError("That file is too big for a question pack (1 MB at most).");
    return;
  }
  const isCsv = /\.csv$/i.test(file.name) || file.type === "text/csv";
  try {
    const body = await file.arrayBuffer();
    const pack = await adminApi(`/api/packs/parse?filename=${encodeURIComponent(file.name)}`, {
      method: "POST",
      raw: body,
      contentType: isCsv ? "text/csv" : file.type || "application/json",
    });
    usePack(pack, { source: file.name });
  } catch (err) {
    showError(
      err.code === "too_large"
        ? "That file is too big for a question pack."
        : `Couldn't read ${file.name}: ${err.message}`,
    );
  }
});

function whole(input, label, unit) {
  const n = Number.parseInt(input.value, 10);
  const min = Number(input.min) || 1;
  const max = Number(input.max) || 3600;
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new Error(`${label} must be between ${min} and ${max} ${unit}.`);
  }
  return n;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (button.disabled) return;
  const title = titleIn.value.trim();
  const list = prompts();
  let questionSeconds;
  let voteSeconds;
  let maxPlayers;
  try {
    if (!title) throw new Error("Give the game a title.");
    if (!list.length) throw new Error("Add at least one prompt — one per line.");
    const long = list.findIndex((p) => [...p].length > PROMPT_MAX);
    if (long >= 0) throw new Error(`Prompt ${long + 1} is over ${PROMPT_MAX} characters — shorten it.`);
    questionSeconds = whole(form.querySelector("#question_seconds"), "Time to answer", "seconds");
    voteSeconds = whole(form.querySelector("#vote_seconds"), "Time to vote", "seconds");
    maxPlayers = whole(form.querySelector("#max_players"), "Most players", "players");
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
      body: {
        title,
        prompts: list,
        question_seconds: questionSeconds,
        vote_seconds: voteSeconds,
        max_players: maxPlayers,
        late_join: form.querySelector("#late_join").checked,
      },
    });
    store.set(keys.host(res.game_id), res.host_token);
    location.assign(samePath(res.host_url, `/host/${encodeURIComponent(res.game_id)}`));
  } catch (err) {
    button.disabled = false;
    setText(button, "Create game");
    showError(err.code === "network" ? err.message : `Couldn't create the game: ${err.message}`);
  }
});
