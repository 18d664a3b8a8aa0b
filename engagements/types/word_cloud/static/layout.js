// Where each word of a word cloud goes: computed here, with no library and nothing fetched, so the
// same words, counts and box always give the same cloud.
//
// Words arrive most sent first. A word's font size grows with the square root of its count, from
// `min` (the least sent) to the largest size the box allows (the most sent), and no word is wider
// than the box. Each word in turn walks out from the box's centre along a spiral stretched to the
// box's shape, until its rectangle (with a margin) overlaps no word placed before it and lies
// inside the box. When a word finds no place, every size shrinks and the layout starts again, a
// bounded number of times; a word that still finds none is left out (`left` counts them). So no two
// words overlap and none leaves the box, whatever their number and length, and the most sent are
// the biggest and nearest the centre.

export const LINE = 1.15; // a word's box height over its font size: the CSS line-height of .wc-word
const FILL = 0.55; // the share of the box the words' rectangles aim to cover before a first try
const SHRINK = 0.82; // the sizes' factor after a try in which a word found no place
const TRIES = 9;
const STEPS = 6000; // spiral positions a word may try: bounds the work whatever the box
const GAP_X = 0.14; // the margin around a word, in ems: words never touch
const GAP_Y = 0.04;

/**
 * @param {Array<[string, number]>} words most sent first
 * @param {{width: number, height: number}} box
 * @param {(text: string) => number} unit the width of `text` at a font size of 1px
 * @param {{min?: number, max?: number}} sizes font sizes in px (`max` defaults to a quarter of the height)
 * @returns {{placed: Array<{text: string, count: number, size: number, x: number, y: number}>, left: number}}
 *   x and y: the word's top left corner (its margin excluded) in the box
 */
export function layout(words, box, unit, sizes = {}) {
  const { width, height } = box;
  if (!words.length || width < 20 || height < 20) return { placed: [], left: words.length };
  const min = Math.min(sizes.min ?? 14, height / LINE);
  const units = words.map(([text]) => unit(text));
  const counts = words.map(([, count]) => count);
  const low = Math.min(...counts);
  const high = Math.max(...counts);
  const weight = counts.map((c) => (high > low ? Math.sqrt((c - low) / (high - low)) : 1));
  // The widest a word may be: the box less its margins.
  const fits = units.map((u) => Math.min((width * 0.98) / (u + 2 * GAP_X), height / (LINE + 2 * GAP_Y)));
  const sizeAt = (top) =>
    weight.map((w, i) => Math.min(fits[i], Math.max(min, min + (Math.max(top, min) - min) * w)));

  let top = Math.min(sizes.max ?? height / 4, height / LINE);
  for (let i = 0; i < 2; i++) {
    // A first guess from the area the words would cover.
    const area = sizeAt(top).reduce((sum, s, j) => sum + s * s * (units[j] + 2 * GAP_X) * (LINE + 2 * GAP_Y), 0);
    if (area > FILL * width * height) top = Math.max(min, top * Math.sqrt((FILL * width * height) / area));
  }
  let best = null;
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const tried = place(words, sizeAt(top), units, width, height);
    if (!best || tried.placed.length > best.placed.length) best = tried;
    if (tried.left === 0 || top <= min) break;
    top = Math.max(min, top * SHRINK);
  }
  return best;
}

/** One try: each word at its size, placed along the spiral or left out. */
function place(words, sizes, units, width, height) {
  const rects = []; // [x, y, right, bottom], margins included
  const placed = [];
  let left = 0;
  const cx = width / 2;
  const cy = height / 2;
  const stretch = width / height; // the spiral's x over its y: it fills the box's shape
  const reach = (height / 2) * 1.5; // past the corners: nowhere left to look
  words.forEach(([text, count], i) => {
    const size = sizes[i];
    const w = size * (units[i] + 2 * GAP_X);
    const h = size * (LINE + 2 * GAP_Y);
    const spacing = Math.max(3, h / 3); // between two turns of the spiral, in px of y
    const step = Math.max(2, h / 4); // along the spiral
    let t = i * 2.399963; // each word starts at its own angle (the golden angle apart)
    const start = t;
    let hit = 0; // the rectangle in the way last time: usually in the way again
    for (let n = 0; n < STEPS; n++) {
      const r = (spacing * (t - start)) / (2 * Math.PI);
      if (r > reach) break;
      const x = cx + r * Math.cos(t) * stretch - w / 2;
      const y = cy + r * Math.sin(t) - h / 2;
      if (x >= 0 && y >= 0 && x + w <= width && y + h <= height) {
        let free = true;
        if (rects.length && overlaps(rects[hit], x, y, w, h)) free = false;
        else {
          for (let k = 0; k < rects.length; k++) {
            if (overlaps(rects[k], x, y, w, h)) {
              hit = k;
              free = false;
              break;
            }
          }
        }
        if (free) {
          rects.push([x, y, x + w, y + h]);
          placed.push({ text, count, size, x: x + size * GAP_X, y: y + size * GAP_Y });
          return;
        }
      }
      t += step / Math.max(r, step);
    }
    left += 1;
  });
  return { placed, left };
}

function overlaps(rect, x, y, w, h) {
  return x < rect[2] && rect[0] < x + w && y < rect[3] && rect[1] < y + h;
}
