import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points whose path starts with prefix, from the host's mount table. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && p.startsWith(prefix));
}

/** Host cgroup directories named after the container, in any hierarchy. */
export function cgroupsOf(id: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, 'droplet', id);
    if (existsSync(d)) out.push(d);
  }
  if (existsSync(join('/sys/fs/cgroup/droplet', id))) out.push(join('/sys/fs/cgroup/droplet', id));
  return out;
}

/** Live processes whose command line mentions s (zombies excluded: they are dead). */
export function processesWith(s: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(s)) out.push(Number(e));
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** Everything a container with this id could leave behind on the host. */
export function leftovers(root: string, id: string, bundleDir: string): string[] {
  const found: string[] = [];
  if (existsSync(join(root, id))) found.push(`state directory ${join(root, id)}`);
  for (const m of mountsUnder(bundleDir)) found.push(`mount ${m}`);
  for (const c of cgroupsOf(id)) found.push(`cgroup ${c}`);
  for (const p of processesWith(` ${id} `)) found.push(`process ${p}`);
  return found;
}
