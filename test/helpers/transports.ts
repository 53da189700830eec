import { loadUws } from '../../gateway/transport/uws-loader.js';
import { canSharePort } from '../../gateway/transport/ws.js';

export type TransportName = 'uws' | 'ws';

/**
 * Why a system whose gateways use `transport` cannot run on this Node (a tap skip reason), or
 * false. uWS is skipped only where no build of it exists for this Node (ABI), never because
 * a build that exists fails to load: that is a broken install, and the suite fails. The
 * multi-process layout runs two gateway processes on one port, which `ws` can do only on
 * Node ≥ 22.12.
 */
export function transportSkip(transport: TransportName, layout: 'embedded' | 'multiprocess'): string | false {
  if (transport === 'uws') {
    const loaded = loadUws();
    if (loaded.uws || loaded.failures.some((failure) => !failure.missing)) return false;
    return `no uWebSockets.js build for Node ${process.version}`;
  }
  return layout === 'multiprocess' && !canSharePort ? `the ws transport shares a port between processes only on Node ≥ 22.12 (this is ${process.version})` : false;
}

export const transportEnv = (transport: TransportName): Record<string, string> => ({ PUSHWIRE_GATEWAY_TRANSPORT: transport });
