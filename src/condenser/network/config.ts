import { createHash } from 'node:crypto';

/** A network as the engine keeps it: `<root>/networks/<name>.json`. */
export interface NetworkConfig {
  name: string;
  /** 64 hex characters */
  id: string;
  driver: 'bridge';
  /** the host's bridge interface */
  bridge: string;
  subnet: string;
  gateway: string;
  /** --ip-range: the part of the subnet addresses are handed out from (--ip may be anywhere in it) */
  ipRange?: string;
  /** --ipv6: the IPv6 prefix beside the IPv4 subnet (dual stack), its gateway the prefix's ::1 */
  ipv6Subnet?: string;
  ipv6Gateway?: string;
  /** no route out of the subnet, no masquerade */
  internal: boolean;
  labels: Record<string, string>;
  created: string;
}

export const DEFAULT_NETWORK = 'raind';

/** docker's name for the default network means ours. */
export const DEFAULT_ALIASES = ['raind', 'bridge', 'default'];

/** The default network, as the seed's Raind has it: bridge raind0, 10.166.0.0/16, with
 * masquerade. It is not stored: every root has it, and it cannot be removed. */
export function defaultNetwork(): NetworkConfig {
  return {
    name: DEFAULT_NETWORK,
    id: createHash('sha256').update('raind default network').digest('hex'),
    driver: 'bridge',
    bridge: 'raind0',
    subnet: '10.166.0.0/16',
    gateway: '10.166.0.1',
    internal: false,
    labels: {},
    created: '1970-01-01T00:00:00.000Z',
  };
}

/** Network modes that are no network name. */
export const SPECIAL_MODES = ['none', 'host'];
