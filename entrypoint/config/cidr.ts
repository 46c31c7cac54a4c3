import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefix: number;
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address (a host route); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return undefined;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return undefined;
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefixText === undefined) return { family, address, prefix: maxPrefix };
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= maxPrefix ? { family, address, prefix } : undefined;
}

/** Postfix's mynetworks syntax: IPv6 addresses go in brackets. */
export function formatCidrForPostfix(cidr: Cidr): string {
  return cidr.family === 6 ? `[${cidr.address}]/${cidr.prefix}` : `${cidr.address}/${cidr.prefix}`;
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefix}`;
}

/** 172.17.0.2/16 → 172.17.0.0/16: Postfix warns about host bits set in mynetworks. */
export function networkOf(cidr: Cidr): Cidr {
  const bits = cidr.family === 4 ? 32 : 128;
  const value = addressToBigInt(cidr);
  const mask = cidr.prefix === 0 ? 0n : ((1n << BigInt(cidr.prefix)) - 1n) << BigInt(bits - cidr.prefix);
  return { family: cidr.family, address: bigIntToAddress(value & mask, cidr.family), prefix: cidr.prefix };
}

function addressToBigInt(cidr: Cidr): bigint {
  if (cidr.family === 4) return cidr.address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
  return expandIpv6(cidr.address).reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function expandIpv6(address: string): string[] {
  // ::ffff:10.0.0.1 → the dotted tail is two 16-bit groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    address = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
}

function bigIntToAddress(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
  return compressIpv6(groups);
}

/** Shortest form: the longest run of zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < groups.length; ) {
    let end = start;
    while (end < groups.length && groups[end] === '0') end++;
    if (end - start > bestLength && end - start > 1) [bestStart, bestLength] = [start, end - start];
    start = end === start ? start + 1 : end;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
