import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { AddressRanges } from '../core/address-ranges.js';

/**
 * Where a Web Push endpoint may point: a push service on the public internet. A subscription's
 * endpoint is whatever a client registered, so without this one publish makes the push worker
 * open connections inside our network (loopback, private, link-local, the cloud metadata service
 * at 169.254.169.254). Public unicast addresses pass; others only when the operator allows their
 * range (a push service of their own; the tests' local one). Checked where the connection is
 * made, after DNS (`lookup`), so a name that resolves inward is refused however it was
 * registered; literal addresses are also refused at registration.
 */
export class PushServiceAddresses {
  private readonly allowed: AddressRanges;

  /** `allowedRanges`: CIDRs (or single addresses) allowed although not public. */
  constructor(allowedRanges: readonly string[]) {
    this.allowed = new AddressRanges(allowedRanges);
  }

  /** Why `address` may not be dialled, or null when it may. */
  refusal(address: string): string | null {
    const parsed = ipaddr.process(address);
    if (this.allowed.includes(parsed)) return null;
    const range = parsed.range();
    return range === 'unicast' ? null : `${address} is not a public address (${range})`;
  }

  /** Why an endpoint URL may not be used as it is written (an address literal), or null; names are checked when dialled. */
  endpointRefusal(endpoint: string): string | null {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    return net.isIP(host) ? this.refusal(host) : null;
  }

  /**
   * A `lookup` for sockets (an https.Agent's): resolves as dns.lookup does and fails the
   * connection when any address of the name is refused, so a name with one public and one inner
   * address cannot be raced to the inner one.
   */
  readonly lookup = (hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const refused = addresses.map((entry) => this.refusal(entry.address)).find((reason) => reason !== null);
      if (refused) return callback(new RefusedAddressError(`${hostname}: ${refused}`), '');
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** A push endpoint that leads inward: not a push service, so its subscription is dead, not retried. */
export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
  constructor(message: string) {
    super(`${message}; PUSHWIRE_WEBPUSH_PRIVATE_ADDRESSES allows a push service of your own`);
    this.name = 'RefusedAddressError';
  }
}
