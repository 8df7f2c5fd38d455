import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

/** The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, written into its `etc/`
 * directory and bind-mounted over the image's. */
export function writeEtcFiles(dir: string, hostname: string, hostNetwork: boolean): EtcFiles {
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  const files = { hostname: join(etc, 'hostname'), hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf') };
  writeFileSync(files.hostname, `${hostname}\n`);
  writeFileSync(
    files.hosts,
    hostNetwork ? readHost('/etc/hosts') : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
  );
  writeFileSync(files.resolvConf, containerResolvConf(readHost('/etc/resolv.conf'), hostNetwork));
  return files;
}

/** The host's resolv.conf; in a network namespace of its own the container cannot reach the
 * host's loopback, so nameservers on 127.0.0.0/8 and ::1 are dropped, as docker does. */
export function containerResolvConf(host: string, hostNetwork: boolean): string {
  if (hostNetwork) return host;
  return host
    .split('\n')
    .filter((line) => !/^\s*nameserver\s+(127\.|::1\b)/.test(line))
    .join('\n');
}

function readHost(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
