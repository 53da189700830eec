import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zmq } from './zmq.js';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';

/**
 * The bus's security: ZeroMQ's CURVE (CurveZMQ, RFC 26) encrypts every connection to the broker
 * and authenticates both ends. The broker holds a server key pair; each role that uses the bus
 * holds a client key pair, and the broker admits a client's key only on the side its role needs
 * (ZAP, RFC 27): the api and gateways publish (messages, heartbeats), gateways and the monitor
 * subscribe. Nobody else reads a message, and nobody else can inject one, list a fake gateway or
 * say a real one's farewell.
 *
 * Keys are Z85 text, as ZeroMQ writes them, in files `npm run bus-keys` creates:
 * `NAME.key` (public) and `NAME.secret` (secret, mode 0600) for the broker and each role.
 */
export const BUS_ROLES = ['api', 'gateway', 'monitor'] as const;
export type BusRole = (typeof BUS_ROLES)[number];

/** What each side of the broker admits. */
const RIGHTS = { publish: ['api', 'gateway'], subscribe: ['gateway', 'monitor'] } as const satisfies Record<string, readonly BusRole[]>;
export type BusSide = keyof typeof RIGHTS;

export interface KeyPair {
  publicKey: string;
  secretKey: string;
}

/** A role's side of CURVE: the broker's public key and its own pair. */
export interface CurveClient extends KeyPair {
  serverKey: string;
}

/** The broker's side: its pair and the client keys each side admits. */
export interface CurveBroker extends KeyPair {
  admitted: Record<BusSide, string[]>;
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

function readKey(dir: string, file: string): string {
  const path = join(dir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw new ConfigError([`${path} is missing: create the bus keys with \`npm run bus-keys -- ${dir}\` (see README, Security), or set PUSHWIRE_BUS_SECURITY=plain for a bus on loopback only`]);
  }
  if (!Z85_KEY.test(text)) throw new ConfigError([`${path}: not a CURVE key (40 characters of Z85)`]);
  return text;
}

export function readClientKeys(dir: string, role: BusRole): CurveClient {
  return { serverKey: readKey(dir, 'broker.key'), publicKey: readKey(dir, `${role}.key`), secretKey: readKey(dir, `${role}.secret`) };
}

export function readBrokerKeys(dir: string): CurveBroker {
  const keyOf = (role: BusRole) => readKey(dir, `${role}.key`);
  return {
    publicKey: readKey(dir, 'broker.key'),
    secretKey: readKey(dir, 'broker.secret'),
    admitted: { publish: RIGHTS.publish.map(keyOf), subscribe: RIGHTS.subscribe.map(keyOf) },
  };
}

/** Writes a key pair for the broker and for every role; refuses to replace keys that exist (daemons running with them would be locked out). */
export function writeBusKeys(dir: string, { replace = false } = {}): string[] {
  const names = ['broker', ...BUS_ROLES];
  const existing = names.filter((name) => existsSync(join(dir, `${name}.secret`)));
  if (existing.length && !replace) throw new Error(`${dir} already holds bus keys (${existing.join(', ')}); --replace makes new ones`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const written: string[] = [];
  for (const name of names) {
    const pair = zmq.curveKeyPair();
    const secret = join(dir, `${name}.secret`);
    writeFileSync(secret, `${pair.secretKey}\n`, { mode: 0o600 });
    chmodSync(secret, 0o600);
    writeFileSync(join(dir, `${name}.key`), `${pair.publicKey}\n`);
    written.push(name);
  }
  return written;
}

/** Keys for every role in one process (`PUSHWIRE_BUS=zeromq npm start`): made at start, never written. */
export function oneProcessKeys(): { broker: CurveBroker; client: CurveClient } {
  const server = zmq.curveKeyPair();
  const client = zmq.curveKeyPair();
  return {
    broker: { ...server, admitted: { publish: [client.publicKey], subscribe: [client.publicKey] } },
    client: { ...client, serverKey: server.publicKey },
  };
}

const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Z85 (RFC 32) of bytes whose length is a multiple of 4: how ZAP's binary client key compares with the keys in files. */
export function z85(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let text = '';
  for (let offset = 0; offset < bytes.length; offset += 4) {
    let value = view.getUint32(offset);
    const chunk = new Array<string>(5);
    for (let k = 4; k >= 0; k--) {
      chunk[k] = Z85_ALPHABET[value % 85];
      value = Math.floor(value / 85);
    }
    text += chunk.join('');
  }
  return text;
}

/** The ZAP endpoint libzmq asks, in this process's context, before it admits a CURVE client. */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * Answers libzmq's ZAP requests: a CURVE client is admitted to a side (the socket's ZAP domain)
 * only with a key that side admits. Refusals are logged with the address and key, once a minute
 * at most per address, so a scan does not flood the log.
 */
export async function startZapHandler(admitted: Record<BusSide, string[]>, log: Logger): Promise<{ close(): void }> {
  const socket = new zmq.Reply({ linger: 0 });
  await socket.bind(ZAP_ENDPOINT);
  const lastWarned = new Map<string, number>();
  void (async () => {
    try {
      for await (const [version, requestId, domain, address, , mechanism, key] of socket) {
        const side = domain.toString() as BusSide;
        const clientKey = mechanism.toString() === 'CURVE' && key?.length === 32 ? z85(key) : null;
        const ok = clientKey !== null && (admitted[side] ?? []).includes(clientKey);
        if (!ok && Date.now() - (lastWarned.get(address.toString()) ?? 0) > 60_000) {
          lastWarned.set(address.toString(), Date.now());
          log.warn({ address: address.toString(), side, mechanism: mechanism.toString(), key: clientKey }, 'bus connection refused: its key is not admitted on this side');
        }
        await socket.send([version, requestId, ok ? '200' : '400', ok ? 'OK' : 'key not admitted', ok ? clientKey : '', '']);
      }
    } catch (error) {
      if (!socket.closed) log.error({ err: error }, 'bus authentication stopped');
    }
  })();
  return { close: () => socket.close() };
}

/** Socket options of a broker side under CURVE: fail closed (no ZAP answer, no entry). */
export const brokerSideOptions = (keys: CurveBroker, side: BusSide) => ({
  curveServer: true, curveSecretKey: keys.secretKey, curvePublicKey: keys.publicKey, zapDomain: side, zapEnforceDomain: true,
});

/** Socket options of a role connecting to the broker under CURVE. */
export const clientOptions = (keys: CurveClient) => ({ curveServerKey: keys.serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey });
