import { UserError } from '../../lib/errors.js';

/** An IPv4 subnet: its first address as a number, and its prefix length. */
export interface Subnet {
  base: number;
  prefix: number;
}

export function parseAddress(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function formatAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "10.167.0.0/24"; `what` names the flag in the error. Host bits must be zero, as docker asks. */
export function parseSubnet(text: string, what: string): Subnet {
  const [addr = '', bits = ''] = text.split('/');
  const base = parseAddress(addr);
  const prefix = Number(bits);
  if (base === undefined || !/^\d{1,2}$/.test(bits) || prefix < 8 || prefix > 30)
    throw new UserError(`${what}: "${text}" is not an IPv4 subnet such as 10.167.0.0/24 (prefix 8 to 30)`, { kind: 'invalid' });
  if (base % size({ base, prefix }) !== 0)
    throw new UserError(
      `${what}: "${text}" has host bits set (the subnet is ${formatSubnet({ base: base - (base % size({ base, prefix })), prefix })})`,
      {
        kind: 'invalid',
      },
    );
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatAddress(s.base)}/${s.prefix}`;
}

export function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet, address: number): boolean {
  return address >= s.base && address < s.base + size(s);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return contains(a, b.base) || contains(b, a.base);
}
