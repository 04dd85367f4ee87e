// Text the user typed, made safe to send: cut by code point, never inside a character, and with no
// half of a surrogate pair left alone. JavaScript strings count UTF-16 units, so `.slice(0, n)` can
// cut an emoji (or a rare CJK character) in two; the server refuses the lone half (invalid_unicode),
// and counts lengths in code points as `cut` does. Pure: Node's test runner checks it (tests/js).

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** At most `max` characters (code points) of `text`, whole characters only. */
export function cut(text, max) {
  if (text.length <= max) return text; // fewer UTF-16 units than max: fewer characters too
  const points = Array.from(text);
  return points.length > max ? points.slice(0, max).join("") : text;
}

/** `value` with every lone surrogate in its text replaced by U+FFFD, through arrays and objects. */
export function wellFormed(value) {
  if (typeof value === "string") return value.replace(LONE_SURROGATE, "\uFFFD");
  if (Array.isArray(value)) return value.map(wellFormed);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormed(v)]));
  }
  return value;
}
