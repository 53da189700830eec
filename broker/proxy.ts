import * as zmq from 'zeromq';
import type { BusEndpoints } from '../core/bus/zeromq.js';
import type { Role } from '../core/daemon.js';
import type { Logger } from '../core/log.js';

/**
 * The bus: publishers (api, gateways' heartbeats) connect to the XSUB side, subscribers
 * (gateways, monitor) to the XPUB side. Subscriptions travel upstream, so publishers only
 * send what somebody wants, and a gateway only receives the users it holds.
 */
export async function startBroker(endpoints: BusEndpoints, log: Logger): Promise<Role> {
  const frontend = new zmq.XSubscriber({ receiveHighWaterMark: 100_000, linger: 0 });
  const backend = new zmq.XPublisher({ sendHighWaterMark: 100_000, linger: 0 });
  await frontend.bind(endpoints.in);
  await backend.bind(endpoints.out);
  const proxy = new zmq.Proxy(frontend, backend);
  const running = proxy.run().catch((error: unknown) => log.error({ err: error }, 'broker proxy stopped'));
  log.info({ in: endpoints.in, out: endpoints.out }, 'broker listening');
  return {
    close: async () => {
      proxy.terminate();
      await running;
      frontend.close();
      backend.close();
    },
  };
}
