import ipaddr from 'ipaddr.js';

/** A set of address ranges (CIDRs or single addresses, as the configuration lists them). */
export class AddressRanges {
  private readonly ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** Answers for addresses as strings: parsing one costs ~3 µs, and the publish path asks per message. */
  private readonly answers = new Map<string, boolean>();

  constructor(ranges: readonly string[]) {
    this.ranges = ranges.map((range) => (range.includes('/') ? ipaddr.parseCIDR(range) : [ipaddr.parse(range), ipaddr.parse(range).kind() === 'ipv4' ? 32 : 128]));
  }

  /** Whether `address` (IPv4-mapped IPv6 counted as its IPv4) is in one of the ranges; false for what is not an address. */
  includes(address: string | ipaddr.IPv4 | ipaddr.IPv6): boolean {
    if (typeof address !== 'string') return this.match(address);
    let answer = this.answers.get(address);
    if (answer === undefined) {
      answer = ipaddr.isValid(address) && this.match(ipaddr.process(address));
      // Bounded: many distinct clients only cost the parsing again.
      if (this.answers.size >= 10_000) this.answers.clear();
      this.answers.set(address, answer);
    }
    return answer;
  }

  private match(parsed: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    return this.ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
  }
}
