import { join } from 'node:path';

/** The N-API addon (native/addon), built by node-gyp next to droplet-init. */
export interface Native {
  /** posix_spawn(path, argv) keeping fds 3..3+preserve-1, with a socketpair end as the
   * child's fd 3+preserve (named in DROPLET_SYNC_FD): [pid, our end] */
  spawnInit(path: string, argv: string[], preserve: number): [number, number];
  /** waitpid: the exit code, or 128+signal */
  waitPid(pid: number): number;
  /** a listening unix socket at path */
  listenUnix(path: string): number;
  /** accept one peer on a listening socket and take the fd it sends (SCM_RIGHTS) */
  receiveFd(listeningFd: number): number;
  /** TIOCSWINSZ */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** flock(LOCK_EX or LOCK_SH, never waiting): false when another open file holds it */
  tryFlock(fd: number, exclusive: boolean): boolean;
  /** a hook droplet runs, killed if droplet dies, leading a process group of its own; it reads
   * stdin from a memfd and writes stderr to another: [pid, that stderr fd] */
  spawnHook(path: string, argv: string[], env: string[], stdin: string): [number, number];
  /** the hook's exit status, 256 + the signal that killed it, or -1 once timeoutMs (0: none) passed */
  waitHook(pid: number, timeoutMs: number): number;
}

let loaded: Native | undefined;

export function nativeDir(): string {
  return join(__dirname, '..', 'build', 'Release');
}

export function native(): Native {
  loaded ??= require(join(nativeDir(), 'droplet_native.node')) as Native;
  return loaded;
}
