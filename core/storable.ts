/// <reference lib="es2024.string" />
/**
 * What PostgreSQL cannot store, found the same way at the edge (the api refuses it with 400)
 * and in the embedded store (which refuses it as PostgreSQL would).
 */

/** Deeper than any request we take: a body nested past this is refused rather than walked. */
const MAX_DEPTH = 32;
/** Text PostgreSQL can hold: no NUL, and well-formed UTF-16 (no lone surrogate; `isWellFormed` is native, ES2024, in Node 20). */
function storableText(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/**
 * Where a value holds something PostgreSQL cannot store: a NUL character (text refuses it), a
 * lone UTF-16 surrogate (not valid Unicode), a number that is not finite (a form's `ttl=Infinity`
 * coerced by the schema). Null when everything is storable. A body is held to the same rule
 * (a json column would keep a NUL's escape), so every store and every field refuse alike.
 */
export function unstorable(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return storableText(value) ? null : path || 'value';
  if (typeof value === 'number') return Number.isFinite(value) ? null : path || 'value';
  // Uploaded files (multipart) are bytes, not text.
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return null;
  if (depth > MAX_DEPTH) return path;
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!storableText(key)) return path || 'value';
    const item = fields[key];
    // A field's path is written only when it is refused, or leads to an object to look into.
    if (typeof item === 'object' && item !== null) {
      const inner = unstorable(item, path ? `${path}.${key}` : key, depth + 1);
      if (inner !== null) return inner;
    } else if (unstorable(item) !== null) {
      return path ? `${path}.${key}` : key;
    }
  }
  return null;
}
