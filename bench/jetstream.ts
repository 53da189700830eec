/**
 * NATS JetStream as the durable peer of `npm run bench`: a nats-server of its own (the
 * machine's binary) with JetStream on file storage and a websocket listener, so it can be
 * pinned and measured like our servers and its clients connect over websockets like ours.
 * One stream holds every client's subject; publishes await their ack (stored); each client
 * reads through its own ordered consumer over a websocket.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePorts } from '../test/helpers/ports.js';

const BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((path) => existsSync(path));

export interface JetStream {
  pid: number;
  url: string;
  wsUrl: string;
  close(): void;
}

/** Why JetStream cannot run here, or null. */
export const jetStreamSkip = (): string | null => (BINARY ? null : 'no nats-server binary on this machine');

export async function startJetStream(): Promise<JetStream> {
  if (!BINARY) throw new Error(jetStreamSkip()!);
  const [port, wsPort] = await freePorts(2);
  const dir = mkdtempSync(join(tmpdir(), 'pushwire-nats-'));
  writeFileSync(join(dir, 'nats.conf'), [
    `listen: 127.0.0.1:${port}`,
    `jetstream { store_dir: "${join(dir, 'store')}" }`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`,
    'max_payload: 1MB',
  ].join('\n'));
  const child = spawn(BINARY, ['-c', join(dir, 'nats.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${output}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server is ready')) resolve();
    });
  });
  return {
    pid: child.pid!, url: `127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${wsPort}`,
    close: () => {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The NATS client libraries, loaded once; their websocket transport gets `ws` on Node 20, which has no WebSocket global. */
export async function natsClients() {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  const [core, node, jetstream] = await Promise.all([import('@nats-io/nats-core'), import('@nats-io/transport-node'), import('@nats-io/jetstream')]);
  return { wsconnect: core.wsconnect, connect: node.connect, jetstream: jetstream.jetstream, jetstreamManager: jetstream.jetstreamManager };
}
