import type { NamespaceType, Process, Spec } from '../../oci/spec.js';
import type { CompiledSeccomp } from '../seccomp/compile.js';
import { addProcess, CLONE_FLAGS } from './build.js';
import type { PlanRecord } from './encode.js';
import { Tag } from './tags.js';

/** /proc/<pid>/ns/<name> for each namespace type. */
const NS_FILE: Record<NamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** The order exec joins the container's namespaces in, decided at create. The user namespace
 * gives the rights to join the namespaces it owns, so those come after it; a namespace the
 * container joined by path while making its own user namespace belongs to another owner (the
 * host's), and setns(2) into it would need rights over that owner which the container's user
 * namespace lacks, so it comes before (runc does the same, trying each before and after).
 * The mount namespace is last: joining it changes the root of later paths. */
export function execJoinOrder(spec: Spec): NamespaceType[] {
  const ns = spec.linux.namespaces;
  const newUser = ns.some((n) => n.type === 'user' && !n.path);
  const rank = (t: NamespaceType, path?: string) => (newUser && path && t !== 'user' ? 0 : t === 'user' ? 1 : t === 'mount' ? 3 : 2);
  return ns
    .map((n, i) => ({ t: n.type, r: rank(n.type, n.path), i }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.t);
}

export interface ExecPlanInput {
  /** the container's namespaces, in the order to join them (execJoinOrder) */
  namespaces: NamespaceType[];
  process: Process;
  /** the container's init, whose namespaces the process joins */
  initPid: number;
  monitor: boolean;
  consoleSocket?: string;
  preserveFds: number;
  seccomp?: CompiledSeccomp;
}

/** The plan of `exec`: join every namespace the container has, in the order create chose,
 * then become the process the spec describes. No FIFO: it runs as soon as it is ready. */
export function buildExecPlan(input: ExecPlanInput): PlanRecord[] {
  const out: PlanRecord[] = [];
  const add = (tag: Tag, fields: PlanRecord['fields'], what: string, field?: string) => out.push({ tag, fields, what, field });
  if (input.monitor) add(Tag.Monitor, [], 'monitor the process');
  /* the console socket is a host path: reach it before joining the container's mounts */
  if (input.process.terminal && input.consoleSocket)
    add(Tag.ConsoleConnect, [input.consoleSocket], `connect to the console socket ${input.consoleSocket}`, '--console-socket');
  const types = input.namespaces;
  for (const t of types) {
    const path = `/proc/${input.initPid}/ns/${NS_FILE[t]}`;
    add(Tag.NsJoin, [CLONE_FLAGS[t], path], `join the container's ${t} namespace ${path}`);
  }
  if (input.preserveFds) add(Tag.PreserveFds, [input.preserveFds], `preserve ${input.preserveFds} fds`, '--preserve-fds');
  add(Tag.Clone, [0], 'start the process in the container');
  /* a container in the host's mount namespace has only its root: the init's */
  if (!types.includes('mount')) add(Tag.Chroot, [`/proc/${input.initPid}/root`], "chroot to the container's root");
  if (types.includes('user')) add(Tag.UserNsRoot, [], 'become root in the user namespace');
  if (input.process.terminal) {
    const size = input.process.consoleSize;
    add(
      Tag.Console,
      [input.consoleSocket ?? '', size?.height ?? 0, size?.width ?? 0, 0],
      `set up the console through ${input.consoleSocket}`,
      '--tty',
    );
  }
  addProcess(add, input.process, input.seccomp);
  return out;
}
