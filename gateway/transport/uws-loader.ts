import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The uWebSockets.js module's shape (the same API in every build we load). */
export type Uws = typeof import('@trufflesuite/uws-js-unofficial');
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket as ListenSocket, WebSocket } from '@trufflesuite/uws-js-unofficial';

const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

/**
 * The builds of uWebSockets.js we look for, fastest-maintained first. Each is a native addon
 * compiled for some Node ABIs (and, on Linux, some glibc): the official package (installed
 * from GitHub), `@btc-vision/uwebsockets.js` (Node 20-25, glibc ≥ 2.38) and the fork we ship,
 * `@trufflesuite/uws-js-unofficial` (Node 16/18/20). Their native binary is required directly:
 * the fork's own entry falls back to a JS emulation that cannot run our upgrade handler.
 */
const CANDIDATES: { name: string; binaryOf(main: string): string }[] = [
  { name: 'uWebSockets.js', binaryOf: (main) => join(dirname(main), binary) },
  { name: '@btc-vision/uwebsockets.js', binaryOf: (main) => join(dirname(main), binary) },
  { name: '@trufflesuite/uws-js-unofficial', binaryOf: (main) => join(dirname(main), '..', 'binaries', binary) },
];

/** Why a build did not load: `missing` when it has no binary for this Node at all. */
export interface UwsFailure {
  name: string;
  missing: boolean;
  reason: string;
}

export type UwsLoad = { uws: Uws; name: string } | { uws: null; failures: UwsFailure[] };

let loaded: UwsLoad | undefined;

/** The first uWebSockets.js build whose native binary loads in this process, or why none does. Looked up once. */
export function loadUws(): UwsLoad {
  loaded ??= findUws(import.meta.url);
  return loaded;
}

/** The same, resolving packages as a module at `from` (a file URL or path) would. */
export function findUws(from: string): UwsLoad {
  const require = createRequire(from);
  const failures: UwsFailure[] = [];
  for (const candidate of CANDIDATES) {
    let main: string;
    try {
      main = require.resolve(candidate.name);
    } catch {
      continue;
    }
    const path = candidate.binaryOf(main);
    if (!existsSync(path)) {
      failures.push({ name: candidate.name, missing: true, reason: `no build for Node ${process.version} (ABI ${process.versions.modules})` });
      continue;
    }
    try {
      return { uws: require(path) as Uws, name: candidate.name };
    } catch (error) {
      failures.push({ name: candidate.name, missing: false, reason: firstLine(error) });
    }
  }
  return { uws: null, failures };
}

const firstLine = (error: unknown): string => String((error as Error).message ?? error).split('\n')[0];
