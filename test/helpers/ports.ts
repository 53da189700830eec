import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The first port the kernel hands out to outgoing connections (and to listen(0)). Ports are
 * picked below it: a port picked from the ephemeral range and released before the daemon binds
 * it can be taken meanwhile by any client socket on the machine (a test's PostgreSQL or Redis
 * connection), and the daemon then cannot listen.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

const LOWEST = 10_000;

/** Listens on `port` if it is free; the server, or null. */
function tryListen(port: number): Promise<import('node:net').Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Whether `port` is free on loopback now (a port just closed may stay taken a moment). */
export async function portIsFree(port: number): Promise<boolean> {
  const server = await tryListen(port);
  if (server) await new Promise((resolve) => server.close(resolve));
  return server !== null;
}

/** Distinct free TCP ports on loopback, outside the ephemeral range, so test files can run side by side. */
export async function freePorts(count: number): Promise<number[]> {
  const highest = ephemeralStart() - 1;
  const servers: import('node:net').Server[] = [];
  while (servers.length < count) {
    const server = await tryListen(LOWEST + Math.floor(Math.random() * (highest - LOWEST)));
    if (server) servers.push(server);
  }
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
