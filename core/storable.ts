/**
 * What PostgreSQL cannot store, found the same way at the edge (the api refuses it with 400)
 * and in the embedded store (which refuses it as PostgreSQL would).
 */

/** Deeper than any request we take: a body nested past this is refused rather than walked. */
const MAX_DEPTH = 32;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Where a value holds something PostgreSQL cannot store: a NUL character (text refuses it), a
 * lone UTF-16 surrogate (not valid Unicode), a number that is not finite (a form's `ttl=Infinity`
 * coerced by the schema). Null when everything is storable. A body is held to the same rule
 * (a json column would keep a NUL's escape), so every store and every field refuse alike.
 */
export function unstorable(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') || LONE_SURROGATE.test(value) ? path || 'value' : null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : path || 'value';
  // Uploaded files (multipart) are bytes, not text.
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return null;
  if (depth > MAX_DEPTH) return path;
  for (const [key, item] of Object.entries(value)) {
    const inner = unstorable(key, path, depth + 1) ?? unstorable(item, path ? `${path}.${key}` : key, depth + 1);
    if (inner !== null) return inner;
  }
  return null;
}
