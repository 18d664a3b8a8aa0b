// The join form (home page and /j/{code}): code + nickname → POST /api/join → the phone view.

import { api, keys, kept, pageData, samePath, setText, store } from "./ui.js";

const form = document.getElementById("join-form");
const codeIn = form.querySelector("#code");
const nickIn = form.querySelector("#nickname");
const errEl = form.querySelector(".form-error");
const button = form.querySelector("button[type=submit]");
const buttonLabel = button.textContent;

const normalize = (s) => String(s || "").toUpperCase().replace(/[^A-Z0-9]/g, "");

function showError(text) {
  setText(errEl, text || "");
  errEl.hidden = !text;
}

function busy(on, label = buttonLabel) {
  button.disabled = on;
  setText(button, label);
}

// Reopening /j/CODE on a phone that already joined goes straight back into the game.
const preset = normalize(pageData().code);
if (preset) {
  const gameId = store.get(keys.code(preset));
  if (gameId && store.get(keys.player(gameId))) {
    location.replace(`/play/${encodeURIComponent(gameId)}`);
  }
  codeIn.value = preset;
}
if (!nickIn.value) nickIn.value = store.get(keys.nickname) || "";
if (document.body.classList.contains("page-join")) (preset ? nickIn : codeIn).focus();

codeIn.addEventListener("input", () => {
  const pos = codeIn.selectionStart;
  const v = codeIn.value.toUpperCase().replace(/\s+/g, "");
  if (v !== codeIn.value) {
    codeIn.value = v;
    try {
      codeIn.setSelectionRange(pos, pos);
    } catch {
      /* ignore */
    }
  }
  showError("");
});
nickIn.addEventListener("input", () => showError(""));

let cooldown = 0;

function rateLimited(seconds) {
  let left = Math.max(1, seconds || 10);
  clearInterval(cooldown);
  const step = () => {
    if (left <= 0) {
      clearInterval(cooldown);
      busy(false);
      showError("");
      return;
    }
    showError(`Too many tries from this device. Wait ${left} second${left === 1 ? "" : "s"} and try again.`);
    busy(true, `Wait ${left}s`);
    left -= 1;
  };
  step();
  cooldown = setInterval(step, 1000);
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (button.disabled) return;
  const code = normalize(codeIn.value);
  const nickname = nickIn.value.trim().replace(/\s+/g, " ");
  if (!code) {
    showError("Enter the game code shown on the big screen.");
    codeIn.focus();
    return;
  }
  if (!nickname) {
    showError("Pick a nickname so everyone knows who you are.");
    nickIn.focus();
    return;
  }
  // The device id stays with this browser: a kicked phone cannot come back under another name.
  // The client id names this join until it succeeds: if its reply is lost, trying again gets the
  // same seat back instead of "nickname taken".
  const body = { code, nickname, device_id: kept(keys.device), client_id: kept(keys.client(code)) };
  const knownGame = store.get(keys.code(code));
  const previous = knownGame && store.get(keys.player(knownGame));
  if (previous) body.previous_token = previous;

  showError("");
  busy(true, "Joining…");
  try {
    const res = await api("/api/join", { method: "POST", body });
    store.set(keys.player(res.game_id), res.player_token);
    store.set(keys.code(code), res.game_id);
    store.set(keys.nickname, res.nickname || nickname);
    store.remove(keys.client(code));
    busy(true, "Joined!");
    location.assign(samePath(res.play_url, `/play/${encodeURIComponent(res.game_id)}`));
  } catch (err) {
    busy(false);
    if (err.status === 429 || err.code === "rate_limited") {
      rateLimited(err.retryAfter);
      return;
    }
    if (err.status === 404 || err.code === "not_found") {
      showError(`There's no game with the code ${code}. Check the code on the big screen.`);
      codeIn.focus();
      codeIn.select();
    } else if (err.code === "nickname_taken" || err.status === 409) {
      showError(`Someone in this game is already called “${nickname}”. Pick another nickname.`);
      nickIn.focus();
      nickIn.select();
    } else if (err.code === "locked") {
      showError("The host has locked this game — no new players can join right now.");
    } else if (err.code === "kicked") {
      showError("The host removed you from this game, so you can't rejoin it.");
    } else if (err.status === 403) {
      showError(err.message || "You can't join this game.");
    } else if (err.status === 400 || err.code === "invalid") {
      showError(err.message ? `That didn't work: ${err.message}` : "Check the game code and your nickname.");
    } else if (err.code === "network") {
      showError(err.message);
    } else {
      showError(`Something went wrong (${err.message}). Try again.`);
    }
  }
});
