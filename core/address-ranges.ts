import ipaddr from 'ipaddr.js';

/** A set of address ranges (CIDRs or single addresses, as the configuration lists them). */
export class AddressRanges {
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];

  constructor(ranges: readonly string[]) {
    this.ranges = ranges.map((range) => (range.includes('/') ? ipaddr.parseCIDR(range) : [ipaddr.parse(range), ipaddr.parse(range).kind() === 'ipv4' ? 32 : 128]));
  }

  /** Whether `address` (IPv4-mapped IPv6 counted as its IPv4) is in one of the ranges; false for what is not an address. */
  includes(address: string | ipaddr.IPv4 | ipaddr.IPv6): boolean {
    if (typeof address === 'string' && !ipaddr.isValid(address)) return false;
    const parsed = typeof address === 'string' ? ipaddr.process(address) : address;
    return this.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }
}
