/**
 * The README's configuration table, made from the option definitions (`npm run docs` writes it
 * between the README's markers; test/config.test.ts holds the README to it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { options, profiles, type OptionName } from './config.js';

export const TABLE_START = '<!-- configuration table: made by `npm run docs` from core/config.ts -->';
export const TABLE_END = '<!-- end of the configuration table -->';

/** A default as the table shows it: a profile's port with the test profile's beside it, "—" for none. */
function shownDefault(name: OptionName): string {
  if (name in profiles.dev) {
    const port = name as keyof typeof profiles.dev;
    return `${profiles.dev[port]} (test ${profiles.test[port]})`;
  }
  const value: unknown = options[name].default;
  if (value === undefined || value === '') return '—';
  if (typeof value === 'object') return Object.keys(value as object).length === 0 ? 'none' : `\`${JSON.stringify(value)}\``;
  return String(value);
}

export function configTable(): string {
  const rows = (Object.keys(options) as OptionName[]).map((name) => `| \`${options[name].env}\` | \`${name}\` | ${shownDefault(name)} | ${options[name].doc} |`);
  return ['| variable | file key | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** `readme` with its table between the markers replaced by the one made now. */
export function withTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${TABLE_START} … ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${configTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = new URL('../../README.md', import.meta.url);
  writeFileSync(path, withTable(readFileSync(path, 'utf8')));
}
