import { createServer } from 'node:net';

/** Distinct free TCP ports on loopback, so test files can run side by side. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => (server.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export interface PortSet {
  PUSHWIRE_API_PORT: string;
  PUSHWIRE_GATEWAY_PORT: string;
  PUSHWIRE_MONITOR_PORT: string;
  PUSHWIRE_PUSHER_PORT: string;
  PUSHWIRE_BROKER_HTTP_PORT: string;
  PUSHWIRE_BROKER_IN_PORT: string;
  PUSHWIRE_BROKER_OUT_PORT: string;
}

export async function portSet(): Promise<PortSet> {
  const [api, gateway, monitor, pusher, brokerHttp, brokerIn, brokerOut] = await freePorts(7);
  return {
    PUSHWIRE_API_PORT: String(api),
    PUSHWIRE_GATEWAY_PORT: String(gateway),
    PUSHWIRE_MONITOR_PORT: String(monitor),
    PUSHWIRE_PUSHER_PORT: String(pusher),
    PUSHWIRE_BROKER_HTTP_PORT: String(brokerHttp),
    PUSHWIRE_BROKER_IN_PORT: String(brokerIn),
    PUSHWIRE_BROKER_OUT_PORT: String(brokerOut),
  };
}
