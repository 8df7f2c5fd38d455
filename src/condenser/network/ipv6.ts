import { isIPv6 } from 'node:net';
import { UserError } from '../../lib/errors.js';

/** An IPv6 prefix: its first address as a number, and its length. */
export interface Subnet6 {
  base: bigint;
  prefix: number;
}

export function parseAddress6(text: string): bigint | undefined {
  if (!isIPv6(text) || text.includes('.') || text.includes('%')) return undefined;
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) + BigInt(Number.parseInt(g, 16)), 0n);
}

/** The short form: the longest run of zero groups as "::". */
export function formatAddress6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

export const isV6Text = (text: string) => text.includes(':');

/** "fd00:1::/64"; `what` names the flag in the error. Host bits must be zero. */
export function parseSubnet6(text: string, what: string): Subnet6 {
  const [addr = '', bits = ''] = text.split('/');
  const base = parseAddress6(addr);
  const prefix = Number(bits);
  if (base === undefined || !/^\d{1,3}$/.test(bits) || prefix < 48 || prefix > 120)
    throw new UserError(`${what}: "${text}" is not an IPv6 subnet such as fd00:1::/64 (prefix 48 to 120)`, { kind: 'invalid' });
  if (base % size6({ base, prefix }) !== 0n) throw new UserError(`${what}: "${text}" has host bits set`, { kind: 'invalid' });
  return { base, prefix };
}

export function formatSubnet6(s: Subnet6): string {
  return `${formatAddress6(s.base)}/${s.prefix}`;
}

export function size6(s: Subnet6): bigint {
  return 1n << BigInt(128 - s.prefix);
}

export function contains6(s: Subnet6, address: bigint): boolean {
  return address >= s.base && address < s.base + size6(s);
}

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  return contains6(a, b.base) || contains6(b, a.base);
}
