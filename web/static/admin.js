// The admin's sign-in on /host: the secret arrives in the console link `serve` printed (after "#", so no
// server ever sees it in a URL) or is typed in; it is kept in this browser and sent as a Bearer header.

import { api, keys, setText, store } from "./ui.js";

const login = document.getElementById("admin-login");
const secretIn = document.getElementById("admin-secret");
const errEl = login.querySelector(".form-error");
const button = login.querySelector("button[type=submit]");
const area = document.getElementById("admin-area");
const signOutButton = document.getElementById("sign-out");
const CHANGED = "The admin secret has changed: sign in again.";

let resolveSignedIn;
/** Resolves once the kept secret is the right one: the page's admin parts wait for it. */
export const signedIn = new Promise((resolve) => {
  resolveSignedIn = resolve;
});

/** An API call with the admin secret; a 401 means it is wrong now (changed on the server): sign in again. */
export async function adminApi(path, options = {}) {
  const secret = store.get(keys.admin) || "";
  try {
    return await api(path, { ...options, headers: { Authorization: `Bearer ${secret}` } });
  } catch (err) {
    if (err.status === 401) signOut(CHANGED);
    throw err;
  }
}

function showError(text) {
  setText(errEl, text || "");
  errEl.hidden = !text;
}

function signOut(message = "") {
  store.remove(keys.admin);
  area.hidden = true;
  signOutButton.hidden = true;
  login.hidden = false;
  showError(message);
  secretIn.focus();
}

async function signIn(secret, wrong = "That is not the admin secret.") {
  store.set(keys.admin, secret);
  try {
    await api("/api/admin", { headers: { Authorization: `Bearer ${secret}` } });
  } catch (err) {
    if (err.status === 401) {
      signOut(wrong);
    } else {
      login.hidden = false;
      showError(err.retryAfter ? `Too many tries: wait ${err.retryAfter} s.` : err.message);
    }
    return;
  }
  secretIn.value = "";
  login.hidden = true;
  area.hidden = false;
  signOutButton.hidden = false;
  resolveSignedIn();
}

// The link `serve` printed: keep its secret, then take it out of the address bar and the history.
const fromLink = new URLSearchParams(location.hash.slice(1)).get("admin");
if (fromLink) {
  store.set(keys.admin, fromLink);
  history.replaceState(null, "", location.pathname + location.search);
}

login.addEventListener("submit", async (e) => {
  e.preventDefault();
  const secret = secretIn.value.trim();
  if (!secret) {
    showError("Type the admin secret.");
    return;
  }
  button.disabled = true;
  await signIn(secret);
  button.disabled = false;
  if (!login.hidden) secretIn.select();
});
secretIn.addEventListener("input", () => showError(""));
signOutButton.addEventListener("click", () => signOut());

const kept = store.get(keys.admin);
if (kept) signIn(kept, fromLink ? undefined : CHANGED);
else signOut();
