import type { NamespaceType, Process, Spec } from '../../oci/spec.js';
import type { CompiledSeccomp } from '../seccomp/compile.js';
import { addProcess, CLONE_FLAGS } from './build.js';
import type { PlanRecord } from './encode.js';
import { Tag } from './tags.js';

/** /proc/<pid>/ns/<name> for each namespace type. */
const NS_FILE: Record<NamespaceType, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

export interface ExecPlanInput {
  /** the container's config: which namespaces it has, its seccomp filter */
  spec: Spec;
  process: Process;
  /** the container's init, whose namespaces the process joins */
  initPid: number;
  monitor: boolean;
  consoleSocket?: string;
  preserveFds: number;
  seccomp?: CompiledSeccomp;
}

/** The plan of `exec`: join every namespace the container has (the user namespace first, the
 * mount namespace last), then become the process the spec describes. No FIFO: it runs as soon
 * as it is ready. */
export function buildExecPlan(input: ExecPlanInput): PlanRecord[] {
  const out: PlanRecord[] = [];
  const add = (tag: Tag, fields: PlanRecord['fields'], what: string, field?: string) => out.push({ tag, fields, what, field });
  if (input.monitor) add(Tag.Monitor, [], 'monitor the process');
  /* the console socket is a host path: reach it before joining the container's mounts */
  if (input.process.terminal && input.consoleSocket)
    add(Tag.ConsoleConnect, [input.consoleSocket], `connect to the console socket ${input.consoleSocket}`, '--console-socket');
  const order = (t: NamespaceType) => (t === 'user' ? 0 : t === 'mount' ? 2 : 1);
  const types = input.spec.linux.namespaces.map((n) => n.type).sort((a, b) => order(a) - order(b));
  for (const t of types) {
    const path = `/proc/${input.initPid}/ns/${NS_FILE[t]}`;
    add(Tag.NsJoin, [CLONE_FLAGS[t], path], `join the container's ${t} namespace ${path}`);
  }
  if (input.preserveFds) add(Tag.PreserveFds, [input.preserveFds], `preserve ${input.preserveFds} fds`, '--preserve-fds');
  add(Tag.Clone, [0], 'start the process in the container');
  if (types.includes('user')) add(Tag.UserNsRoot, [], 'become root in the user namespace');
  if (input.process.terminal) {
    const size = input.process.consoleSize;
    add(Tag.Console, [input.consoleSocket ?? '', size?.height ?? 0, size?.width ?? 0, 0], `set up the console through ${input.consoleSocket}`, '--tty');
  }
  addProcess(add, input.process, input.seccomp);
  return out;
}
