import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, written into its `etc/`
 * directory and bind-mounted over the image's. */
export interface EtcOptions {
  hostname: string;
  hostNetwork: boolean;
  /** the container's address on its network, and its name */
  own?: { address: string; name: string };
  /** nameservers in place of the host's: the network's DNS server, or --dns */
  nameservers?: string[];
  /** --add-host: "NAME:ADDRESS" */
  extraHosts?: string[];
}

export function writeEtcFiles(dir: string, opts: EtcOptions): EtcFiles {
  const { hostname, hostNetwork, own, nameservers } = opts;
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  const files = { hostname: join(etc, 'hostname'), hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf') };
  writeFileSync(files.hostname, `${hostname}\n`);
  const extra = (opts.extraHosts ?? []).map((h) => {
    const colon = h.indexOf(':');
    return `${h.slice(colon + 1)}\t${h.slice(0, colon)}\n`;
  });
  writeFileSync(files.hosts, (hostNetwork ? readHost('/etc/hosts') : containerHosts(hostname, own)) + extra.join(''));
  writeFileSync(files.resolvConf, containerResolvConf(readHost('/etc/resolv.conf'), hostNetwork, nameservers));
  return files;
}

/** localhost, and the container's own names on its address (on 127.0.1.1 without a
 * network, as Debian does for a host without one). */
export function containerHosts(hostname: string, own?: { address: string; name: string }): string {
  const names = own && own.name !== hostname ? `${hostname} ${own.name}` : hostname;
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${own?.address ?? '127.0.1.1'}\t${names}\n`;
}

/** The host's resolv.conf; in a network namespace of its own the container cannot reach the
 * host's loopback, so nameservers on 127.0.0.0/8 and ::1 are dropped, as docker does. */
export function containerResolvConf(host: string, hostNetwork: boolean, nameservers?: string[]): string {
  if (hostNetwork) return host;
  const kept = host.split('\n').filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line));
  if (!nameservers) return kept.join('\n');
  /* the network's own server, which forwards what it does not know to the host's */
  const rest = kept.filter((line) => !/^\s*nameserver\s/.test(line) && line.trim() !== '');
  return `${[...nameservers.map((n) => `nameserver ${n}`), ...rest].join('\n')}\n`;
}

function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
