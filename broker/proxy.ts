import { zmq } from '../core/bus/zmq.js';
import { brokerSideOptions, startZapHandler, type CurveBroker } from '../core/bus/curve.js';
import { UNLIMITED, type BusEndpoints } from '../core/bus/zeromq.js';
import type { Role } from '../core/daemon.js';
import type { Logger } from '../core/log.js';

/**
 * The bus: publishers (api, gateways' heartbeats) connect to the XSUB side, subscribers
 * (gateways, monitor) to the XPUB side. Subscriptions travel upstream, so publishers only
 * send what somebody wants, and a gateway only receives the users it holds. Under CURVE
 * (`keys`), each side admits only the keys of the roles that need it (core/bus/curve.ts);
 * without, anyone who reaches the ports is on the bus.
 */
export async function startBroker(endpoints: BusEndpoints, log: Logger, keys: CurveBroker | null): Promise<Role> {
  const zap = keys ? await startZapHandler(keys.admitted, log) : null;
  // It forwards every subscription to every publisher, and must drop none (core/bus/zeromq.ts).
  const frontend = new zmq.XSubscriber({ receiveHighWaterMark: 100_000, sendHighWaterMark: UNLIMITED, linger: 0, ...(keys && brokerSideOptions(keys, 'publish')) });
  const backend = new zmq.XPublisher({ sendHighWaterMark: 100_000, linger: 0, ...(keys && brokerSideOptions(keys, 'subscribe')) });
  await frontend.bind(endpoints.in);
  await backend.bind(endpoints.out);
  const proxy = new zmq.Proxy(frontend, backend);
  const running = proxy.run().catch((error: unknown) => log.error({ err: error }, 'broker proxy stopped'));
  log.info({ in: endpoints.in, out: endpoints.out, security: keys ? 'curve' : 'plain' }, 'broker listening');
  return {
    close: async () => {
      proxy.terminate();
      await running;
      frontend.close();
      backend.close();
      zap?.close();
    },
  };
}
