import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ini from 'ini';
import { eventually } from './client.js';
import { Daemon } from './process.js';
import { portSet, type PortSet } from './ports.js';
import { writeBusKeys } from '../../core/bus/curve.js';
import { createDatabase, redisPrefix, TEST_REDIS_URL } from './services.js';

/** The repository root (tests run from dist/test). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

/** The pid in a gateway's id (`host-pid-suffix`, as a gateway names itself). */
export const pidOfGateway = (id: string): number => Number(/-(\d+)-[0-9a-f]+$/.exec(id)![1]);

/** Pids of the gateway processes the monitor lists. */
export async function gatewayPids(monitorUrl: string): Promise<number[]> {
  const status = (await (await fetch(`${monitorUrl}/status`)).json()) as { gateways: { id: string }[] };
  return status.gateways.map((gateway) => pidOfGateway(gateway.id));
}

export type RoleName = 'broker' | 'monitor' | 'gateway' | 'api' | 'pusher';

/** A running Pushwire, embedded or multi-process, driven only through its public interfaces. */
export interface System {
  readonly kind: 'embedded' | 'multiprocess';
  readonly apiUrl: string;
  readonly wsUrl: string;
  readonly monitorUrl: string;
  /** Where the multi-process system keeps presence (none when embedded: it lives in the process). */
  readonly redis?: { url: string; prefix: string };
  /** The PostgreSQL database it stores in (none on SQLite: the database lives in the process). */
  readonly databaseUrl?: string;
  /** How many gateway processes serve wsUrl. */
  readonly gatewayProcesses: number;
  /** Stops a role (or the whole embedded process) with `signal`, then starts it again. */
  restart(role: RoleName, signal?: NodeJS.Signals): Promise<void>;
  stopRole(role: RoleName, signal?: NodeJS.Signals): Promise<void>;
  startRole(role: RoleName): Promise<void>;
  /** Stops the one process of `role` with this pid (multi-process only); its exit code, null if a signal ended it. */
  stopProcess(role: RoleName, pid: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** Base URLs of each role's /health, /ready and /metrics (multi-process: one per watcher, first process). */
  readonly operationalUrls: Partial<Record<RoleName, string>>;
  /** Stops every role gracefully, then starts them all again. */
  restartAll(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
  /** Pids of the system's running processes (benchmarks read their CPU time and pin them). */
  pids(): number[];
}

/** Options every test system shares: quiet logs, fast checks. */
const TEST_ENV = {
  PUSHWIRE_PROFILE: 'test',
  PUSHWIRE_LOG_LEVEL: 'warn',
  PUSHWIRE_HOST: '127.0.0.1',
  PUSHWIRE_AUTH_TIMEOUT_MS: '1000',
  PUSHWIRE_GATEWAY_DRAIN_MS: '1000',
  PUSHWIRE_RESYNC_MS: '2000',
} as const;

const urls = (ports: PortSet) => ({
  apiUrl: `http://127.0.0.1:${ports.PUSHWIRE_API_PORT}`,
  wsUrl: `ws://127.0.0.1:${ports.PUSHWIRE_GATEWAY_PORT}/`,
  monitorUrl: `http://127.0.0.1:${ports.PUSHWIRE_MONITOR_PORT}`,
});

async function waitForNodes(apiUrl: string, timeoutMs = 15_000): Promise<void> {
  await eventually(async () => {
    const body = (await fetch(`${apiUrl}/nodes/`).then((r) => r.json()).catch(() => ({ nodes: [] }))) as { nodes: string[] };
    return body.nodes.length > 0;
  }, timeoutMs).catch(() => {
    throw new Error('no gateway appeared in /nodes/');
  });
}

/**
 * A listening socket for processes to share, as circus binds `[socket:NAME]`. We never serve
 * on it: a connection that reaches us before the children take over is reset. Closed once the
 * children have it.
 */
async function bindShared(port: number): Promise<{ fd: number; close(): void }> {
  const server = createNetServer({ pauseOnConnect: true }, (socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  // The descriptor of a listening server, to pass to children (not part of Node's public API).
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { fd, close: () => server.close() };
}

/** Until the monitor hears `count` gateways heartbeat (a first heartbeat can be lost while the bus connects). */
async function waitForGateways(monitorUrl: string, count: number, timeoutMs = 15_000): Promise<void> {
  await eventually(async () => {
    const body = (await fetch(`${monitorUrl}/status`).then((r) => r.json()).catch(() => ({ gateways: [] }))) as { gateways: { state: string }[] };
    return body.gateways.filter((gateway) => gateway.state === 'up').length >= count;
  }, timeoutMs).catch(() => {
    throw new Error(`fewer than ${count} gateways heartbeat`);
  });
}

/**
 * `npm start`: every role in one process, SQLite in a temporary data folder; or, with
 * `store: 'postgres'`, every role in one process on a fresh PostgreSQL database and Redis.
 */
export async function startEmbedded(extraEnv: Record<string, string> = {}, options: { store?: 'sqlite' | 'postgres' } = {}): Promise<System> {
  const ports = await portSet();
  const dataDir = mkdtempSync(join(tmpdir(), 'pushwire-data-'));
  const database = options.store === 'postgres' ? await createDatabase() : null;
  const redis = database ? { url: TEST_REDIS_URL, prefix: redisPrefix() } : undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, ...TEST_ENV, ...ports, PUSHWIRE_DATA_DIR: dataDir, ...extraEnv };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  if (database && redis) Object.assign(env, { DATABASE_URL: database.url, REDIS_URL: redis.url, PUSHWIRE_REDIS_PREFIX: redis.prefix });
  let daemon = new Daemon('embedded', process.execPath, ['dist/cli/main.js', 'serve'], env, ROOT);
  const start = async () => {
    daemon = new Daemon('embedded', process.execPath, ['dist/cli/main.js', 'serve'], env, ROOT).start();
    await daemon.waitForOutput('Pushwire is running.', 30_000);
    await waitForNodes(urls(ports).apiUrl);
  };
  await start();
  return {
    kind: 'embedded',
    ...urls(ports),
    redis,
    databaseUrl: database?.url,
    gatewayProcesses: 1,
    restart: async (_role, signal = 'SIGTERM') => {
      await daemon.stop(signal);
      await start();
    },
    stopRole: async (_role, signal = 'SIGTERM') => void (await daemon.stop(signal)),
    startRole: start,
    restartAll: async () => {
      await daemon.stop('SIGTERM');
      await start();
    },
    stopProcess: async () => {
      throw new Error('one process: use stopRole');
    },
    operationalUrls: { api: urls(ports).apiUrl },
    stop: async () => {
      await daemon.stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
    output: () => daemon.output.join(''),
    pids: () => (daemon.running ? [daemon.pid!] : []),
  };
}

interface Watcher {
  name: RoleName;
  cmd: string;
  args: string[];
  numprocesses: number;
  priority: number;
  /** ms a graceful stop may take before circus kills the process (graceful_timeout, in seconds there; 30 unless set). */
  gracefulTimeoutMs: number;
  env: Record<string, string>;
}

/** The watchers of circus.ini, in the order circus starts them (highest priority first). */
export function readCircusIni(path = join(ROOT, 'circus.ini')): Watcher[] {
  const parsed = ini.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
  return Object.keys(parsed)
    .filter((section) => section.startsWith('watcher:'))
    .map((section) => {
      const name = section.slice('watcher:'.length) as RoleName;
      const watcher = parsed[section];
      return {
        name,
        cmd: watcher.cmd,
        args: String(watcher.args ?? '').split(/\s+/).filter(Boolean),
        numprocesses: Number(watcher.numprocesses ?? 1),
        priority: Number(watcher.priority ?? 0),
        gracefulTimeoutMs: Number(watcher.graceful_timeout ?? 30) * 1000,
        env: parsed[`env:${name}`] ?? {},
      };
    })
    .sort((a, b) => b.priority - a.priority);
}

const READY: Record<RoleName, string> = {
  broker: '"msg":"broker listening"',
  monitor: '"msg":"monitor listening"',
  gateway: '"msg":"gateway listening"',
  api: '"msg":"api listening"',
  pusher: '"msg":"pusher listening"',
};

/**
 * Every watcher of circus.ini as circus would run it: its cmd, args, env and numprocesses.
 * On top of the file's env go only what isolates this test (its own database, Redis prefix
 * and ports) and `extraEnv` (e.g. where the local push services are). `processes` overrides a
 * watcher's numprocesses: the tests of several processes behind one port ask for two.
 */
export async function startMultiprocess(extraEnv: Record<string, string> = {}, processes: Partial<Record<RoleName, number>> = {}): Promise<System> {
  const ports = await portSet();
  const database = await createDatabase();
  const prefix = redisPrefix();
  // The bus's CURVE keys, made by the code `npm run bus-keys` runs, in a directory of this system's own.
  const busKeysDir = mkdtempSync(join(tmpdir(), 'pushwire-bus-keys-'));
  writeBusKeys(busKeysDir, { replace: true });
  const isolation = { ...TEST_ENV, ...ports, PUSHWIRE_LOG_LEVEL: 'info', DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, PUSHWIRE_REDIS_PREFIX: prefix, PUSHWIRE_BUS_KEYS_DIR: busKeysDir, ...extraEnv };
  const watchers = readCircusIni().map((watcher) => ({ ...watcher, numprocesses: processes[watcher.name] ?? watcher.numprocesses }));
  const daemons = new Map<RoleName, Daemon[]>();
  /** Brings a watcher up to its numprocesses, as circus would, keeping processes still running. */
  const startWatcher = async (watcher: Watcher) => {
    const cmd = watcher.cmd === 'node' ? process.execPath : watcher.cmd;
    const env = { ...process.env, ...watcher.env, ...isolation };
    const running = (daemons.get(watcher.name) ?? []).filter((daemon) => daemon.running);
    // use_sockets: like circus, bind `$(circus.sockets.NAME)` once and hand it to every process as fd 3.
    const socketName = /\$\(circus\.sockets\.(\w+)\)/.exec(watcher.args.join(' '))?.[1];
    if (socketName && running.length) throw new Error(`${watcher.name}: restart the whole watcher; its socket is shared`);
    const socket = socketName ? await bindShared(Number(isolation[`PUSHWIRE_${socketName.toUpperCase()}_PORT` as keyof typeof isolation])) : null;
    const args = watcher.args.map((arg) => arg.replace(/\$\(circus\.sockets\.\w+\)/, '3'));
    const started = Array.from({ length: watcher.numprocesses - running.length }, (_, index) =>
      new Daemon(`${watcher.name}.${running.length + index}`, cmd, args, env, ROOT, socket?.fd, watcher.gracefulTimeoutMs).start());
    daemons.set(watcher.name, [...running, ...started]);
    try {
      await Promise.all(started.map((daemon) => daemon.waitForOutput(READY[watcher.name], 30_000)));
    } finally {
      socket?.close();
    }
  };
  for (const watcher of watchers) await startWatcher(watcher);
  await waitForNodes(urls(ports).apiUrl);
  await waitForGateways(urls(ports).monitorUrl, watchers.find((watcher) => watcher.name === 'gateway')!.numprocesses);
  const watcherOf = (role: RoleName) => watchers.find((watcher) => watcher.name === role)!;
  const stopRole = async (role: RoleName, signal: NodeJS.Signals = 'SIGTERM') => {
    await Promise.all((daemons.get(role) ?? []).map((daemon) => daemon.stop(signal)));
  };
  return {
    kind: 'multiprocess',
    ...urls(ports),
    redis: { url: TEST_REDIS_URL, prefix },
    databaseUrl: database.url,
    gatewayProcesses: watchers.find((watcher) => watcher.name === 'gateway')!.numprocesses,
    stopRole,
    startRole: async (role) => {
      await startWatcher(watcherOf(role));
      if (role === 'gateway') await waitForGateways(urls(ports).monitorUrl, watcherOf(role).numprocesses);
    },
    restart: async (role, signal = 'SIGTERM') => {
      await stopRole(role, signal);
      await startWatcher(watcherOf(role));
    },
    stopProcess: async (role, pid, signal = 'SIGTERM') => {
      const daemon = (daemons.get(role) ?? []).find((candidate) => candidate.pid === pid);
      if (!daemon) throw new Error(`no ${role} process ${pid}`);
      return daemon.stop(signal);
    },
    operationalUrls: {
      api: urls(ports).apiUrl,
      gateway: `http://127.0.0.1:${ports.PUSHWIRE_GATEWAY_PORT}`,
      monitor: urls(ports).monitorUrl,
      pusher: `http://127.0.0.1:${ports.PUSHWIRE_PUSHER_PORT}`,
      broker: `http://127.0.0.1:${ports.PUSHWIRE_BROKER_HTTP_PORT}`,
    },
    restartAll: async () => {
      for (const watcher of [...watchers].reverse()) await stopRole(watcher.name);
      for (const watcher of watchers) await startWatcher(watcher);
      await waitForNodes(urls(ports).apiUrl);
    },
    stop: async () => {
      for (const watcher of [...watchers].reverse()) await stopRole(watcher.name);
      rmSync(busKeysDir, { recursive: true, force: true });
      await database.drop();
    },
    output: () => [...daemons.values()].flat().map((daemon) => `--- ${daemon.name}\n${daemon.output.join('')}`).join('\n'),
    pids: () => [...daemons.values()].flat().filter((daemon) => daemon.running).map((daemon) => daemon.pid!),
  };
}
