import type { Config } from '../../core/config.js';
import { loadUws } from './uws-loader.js';
import { UwsTransport } from './uws.js';
import type { Transport } from './transport.js';

/**
 * The gateway's transport, chosen once at start: uWS where a build of it loads in this Node
 * (`auto` or `uws`), `ws` otherwise (`auto` or `ws`). `uws` without a loadable build is an error,
 * not a silent fallback. `fallbackReason` says why `auto` did not get uWS. The `ws` package is
 * loaded only when chosen: 2.5 MiB of heap that a uWS gateway would carry for nothing.
 */
export async function selectTransport(choice: Config['gatewayTransport']): Promise<{ transport: Transport; fallbackReason: string | null }> {
  const ws = async () => new (await import('./ws.js')).WsTransport();
  if (choice === 'ws') return { transport: await ws(), fallbackReason: null };
  const loaded = loadUws();
  if (loaded.uws) return { transport: new UwsTransport(loaded.uws, loaded.name), fallbackReason: null };
  const why = loaded.failures.map(({ name, reason }) => `${name}: ${reason}`).join('; ') || 'no uWebSockets.js package is installed';
  const reason = `no uWebSockets.js build loads in Node ${process.version}: ${why}`;
  if (choice === 'uws') throw new Error(`PUSHWIRE_GATEWAY_TRANSPORT=uws, but ${reason}`);
  return { transport: await ws(), fallbackReason: reason };
}
