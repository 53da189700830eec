import type { Test } from 'tap';
import { loadUws } from '../../gateway/transport/uws-loader.js';
import { canSharePort } from '../../gateway/transport/ws.js';
import { readCircusIni, startEmbedded, startMultiprocess, type System } from './system.js';

export type TransportName = 'uws' | 'ws';

/**
 * Why a system whose gateways use `transport` cannot run on this Node (a tap skip reason), or
 * false. uWS is skipped only where no build of it exists for this Node (ABI), never because
 * a build that exists fails to load: that is a broken install, and the suite fails. Several
 * gateway processes on one port `ws` can run only on Node ≥ 22.12.
 */
export function transportSkip(transport: TransportName, gatewayProcesses: number): string | false {
  if (transport === 'uws') {
    const loaded = loadUws();
    if (loaded.uws || loaded.failures.some((failure) => !failure.missing)) return false;
    return `no uWebSockets.js build for Node ${process.version}`;
  }
  return gatewayProcesses > 1 && !canSharePort ? `the ws transport shares a port between processes only on Node ≥ 22.12 (this is ${process.version})` : false;
}

export const transportEnv = (transport: TransportName): Record<string, string> => ({ PUSHWIRE_GATEWAY_TRANSPORT: transport });

/** How many gateway processes circus.ini runs. */
export const circusGateways = (): number => readCircusIni().find((watcher) => watcher.name === 'gateway')!.numprocesses;

/**
 * Two gateway and two api processes where circus.ini runs one of each: these suites test what
 * a machine with cores to spare runs, sockets moving between gateway processes and a port
 * they share.
 */
const SEVERAL = { gateway: 2, api: 2 };

/**
 * This file's system: `layout` with its gateways on `transport`, started before the file's
 * tests and stopped after them, its output shown under a failing test. Null, and the file
 * skipped with the reason, where the transport cannot run on this Node.
 */
export function systemFor(t: Test, transport: TransportName, layout: 'embedded' | 'multiprocess'): (() => System) | null {
  const unavailable = transportSkip(transport, layout === 'embedded' ? 1 : SEVERAL.gateway);
  if (unavailable) {
    t.plan(0, unavailable);
    return null;
  }
  let system: System;
  t.before(async () => {
    system = layout === 'embedded' ? await startEmbedded(transportEnv(transport)) : await startMultiprocess(transportEnv(transport), SEVERAL);
  });
  t.teardown(() => system?.stop());
  t.afterEach((t) => {
    if (!t.passing()) t.comment(system.output().slice(-6000));
  });
  return () => system;
}
