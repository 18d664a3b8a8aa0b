// What every engagement type's round module needs to draw its phases (engagements/types/*/static/
// round.js import it, as they import ui.js): its stylesheet once, and a phase's DOM built once per key
// so that live counters update in place instead of rebuilding the page four times a second.

import { h } from "./ui.js";

const mounts = new WeakMap();

/** Add the type's round.css (beside its module, `moduleUrl` = its import.meta.url) to the page, once. */
export function roundCss(slug, moduleUrl) {
  if (document.querySelector(`link[data-round-css="${slug}"]`)) return;
  const href = new URL("./round.css", moduleUrl).href;
  document.head.append(h("link", { rel: "stylesheet", href, dataset: { roundCss: slug } }));
}

/**
 * Build the phase's DOM once per key; returns the refs the update code needs. `build` may set
 * `refs.cleanup` (timers) and `refs.mounted` (runs once the DOM is in the page).
 */
export function mount(root, key, build) {
  let m = mounts.get(root);
  if (!m || m.key !== key || !root.contains(m.el)) {
    if (m && m.refs.cleanup) m.refs.cleanup();
    const refs = {};
    const el = build(refs);
    root.replaceChildren(el);
    m = { key, el, refs };
    mounts.set(root, m);
    if (refs.mounted) refs.mounted();
  }
  return m.refs;
}

/** Forget what `root` showed (its timers stop). */
export function unmount(root) {
  const m = mounts.get(root);
  if (m && m.refs.cleanup) m.refs.cleanup();
  mounts.delete(root);
  root.replaceChildren();
}
