import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';
import { AddressRanges } from '../core/address-ranges.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import { PushwireError } from '../core/errors.js';
import { metrics } from '../core/metrics.js';
import { WindowCounts, type SharedCounters } from '../core/window-counts.js';
import type { HttpAnswer } from './transport/transport.js';

/** A client address as counted, and whether it is exempt from the limits. */
interface Client {
  address: string;
  exempt: boolean;
}

/** Parsed addresses kept; past this many the memory starts again. */
const PARSED_ADDRESSES = 10_000;

/**
 * Which websocket upgrades a gateway process accepts, per client address: at most
 * PUSHWIRE_MAX_CONNECTIONS_PER_ADDRESS open at once, PUSHWIRE_RATE_CONNECTS_PER_MINUTE new
 * ones a minute, and none for the rest of the minute once an address has failed to authenticate
 * PUSHWIRE_RATE_AUTH_FAILURES_PER_MINUTE times (guessing tokens costs a connection each). A
 * refused upgrade gets an HTTP answer in the documented shape, with Retry-After when waiting
 * helps. Connects and failures are counted per minute and shared between gateway processes through
 * Redis when it is configured (WindowCounts); open sockets are this process's own (each holds its
 * own file descriptors), so a deployment's cap is this times its gateway processes. Addresses in
 * PUSHWIRE_RATE_LIMIT_EXEMPT pass. Behind a proxy in PUSHWIRE_TRUST_PROXY, the client is the
 * address its X-Forwarded-For names, as for the api's limits.
 */
export class Admission {
  private readonly open = new Map<string, number>();
  private readonly connects: WindowCounts;
  private readonly authFailures: WindowCounts;
  private readonly exempt: AddressRanges;
  private readonly trusted: ((address: string, hop: number) => boolean) | null;
  private readonly parsed = new Map<string, Client>();

  constructor(
    private readonly config: Pick<Config, 'rateLimitExempt' | 'trustProxy' | 'maxConnectionsPerAddress' | 'rateConnectsPerMinute' | 'rateAuthFailuresPerMinute'>,
    counters: SharedCounters | null,
    log: Logger,
  ) {
    this.exempt = new AddressRanges(config.rateLimitExempt);
    // The same setting, read the way Fastify reads it for the api.
    this.trusted = config.trustProxy === '' ? null
      : config.trustProxy === 'true' ? () => true : proxyaddr.compile(config.trustProxy.split(',').map((entry) => entry.trim()));
    this.connects = new WindowCounts('connects', counters, log);
    this.authFailures = new WindowCounts('auth-failures', counters, log);
  }

  /**
   * The address as one string per client (IPv4-mapped IPv6 as IPv4), and whether it is exempt.
   * Each socket asks three times (admit, opened, closed), and parsing cost ~1.5 µs each time:
   * the answers of recent addresses are kept.
   */
  private parse(raw: string): Client {
    let client = this.parsed.get(raw);
    if (client === undefined) {
      if (this.parsed.size >= PARSED_ADDRESSES) this.parsed.clear();
      this.parsed.set(raw, (client = this.parseNew(raw)));
    }
    return client;
  }

  private parseNew(raw: string): Client {
    if (!ipaddr.isValid(raw)) return { address: raw, exempt: false };
    const parsed = ipaddr.process(raw);
    return { address: parsed.toString(), exempt: this.exempt.includes(parsed) };
  }

  /** The client of an upgrade from `peer`: the peer itself, or from a trusted proxy, the address its X-Forwarded-For names. */
  clientAddress(peer: string, forwardedFor: string | undefined): string {
    if (!this.trusted || !forwardedFor) return peer;
    return proxyaddr({ headers: { 'x-forwarded-for': forwardedFor }, socket: { remoteAddress: peer } } as never, this.trusted);
  }

  /** Null when the upgrade may go ahead (the caller then calls `opened`), else the answer that refuses it. */
  admit(raw: string): HttpAnswer | null {
    const { address, exempt } = this.parse(raw);
    if (exempt) return null;
    if (this.authFailures.get(address) >= this.config.rateAuthFailuresPerMinute) {
      return this.refuse('auth_failures', new PushwireError('rate_limited', `Too many failed authentications from this address; retry in ${this.authFailures.secondsLeft} s.`), this.authFailures.secondsLeft);
    }
    if ((this.open.get(address) ?? 0) >= this.config.maxConnectionsPerAddress) {
      return this.refuse('connections', new PushwireError('too_many_connections'));
    }
    if (this.connects.add(address) > this.config.rateConnectsPerMinute) {
      return this.refuse('connects', new PushwireError('rate_limited', `Too many new connections from this address; retry in ${this.connects.secondsLeft} s.`), this.connects.secondsLeft);
    }
    return null;
  }

  private refuse(reason: string, error: PushwireError, retryAfterSeconds?: number): HttpAnswer {
    metrics.upgradesRefused.inc({ reason });
    return {
      status: error.status, contentType: 'application/json', body: JSON.stringify(error.toJSON()),
      ...(retryAfterSeconds ? { headers: { 'retry-after': String(retryAfterSeconds) } } : {}),
    };
  }

  opened(raw: string): void {
    const { address } = this.parse(raw);
    this.open.set(address, (this.open.get(address) ?? 0) + 1);
  }

  closed(raw: string): void {
    const { address } = this.parse(raw);
    const left = (this.open.get(address) ?? 1) - 1;
    if (left > 0) this.open.set(address, left);
    else this.open.delete(address);
  }

  authFailed(raw: string): void {
    const { address, exempt } = this.parse(raw);
    if (!exempt) this.authFailures.add(address);
  }

  close(): void {
    this.connects.close();
    this.authFailures.close();
  }
}
