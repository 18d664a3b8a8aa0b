// Where this page's HTTP API and WebSocket are: the <meta> tags base.html renders from one settings
// object (web/pages.py, Endpoints). On the appliance both are on the page's own origin; the cloud's pages
// name API Gateway's HTTP API and WebSocket API. The protocol is the same: only these URLs differ.

const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.content || "";

const API = meta("engagements:api").replace(/\/+$/, "");
const SOCKET = meta("engagements:socket") || "/ws/{game}";

/** Whether these are the cloud's pages (their API elsewhere), not an appliance's: some words differ. */
export const inCloud = API !== "";

/** The URL of an HTTP API path ("/api/join"). */
export function apiUrl(path) {
  return API + path;
}

/** A game's WebSocket URL; a path is on this page's origin, ws: or wss: as the page is http: or https:. */
export function socketUrl(gameId) {
  const url = new URL(SOCKET.replace("{game}", encodeURIComponent(gameId)), location.href);
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  return url.href;
}
