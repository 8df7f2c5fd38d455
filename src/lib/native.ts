import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The N-API addon (native/addon). */
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
  /** receiveFd without waiting for a peer: -1 when none has connected yet */
  tryReceiveFd(listeningFd: number): number;
  /** a blocking SOCK_SEQPACKET unix socket connected to path (shorter than 108 bytes): one
   * packet a read (conmon's attach socket) */
  connectSeqpacket(path: string): number;
  /** shutdown(2): how is 0 (read), 1 (write: the peer reads end-of-file) or 2 (both, which
   * also wakes a read blocked on it) */
  shutdownSocket(fd: number, how: 0 | 1 | 2): void;
  /** O_NONBLOCK on an fd: its reads fail with EAGAIN instead of waiting */
  setNonBlocking(fd: number): void;
  /** cfmakeraw on a terminal (output processing off too, unlike setRawMode): its settings before */
  makeRaw(fd: number): Buffer;
  /** gives a terminal back the settings makeRaw returned */
  restoreTermios(fd: number, saved: Buffer): void;
  /** TIOCSWINSZ */
  setWinsize(fd: number, rows: number, cols: number): void;
  /** flock(LOCK_EX or LOCK_SH, never waiting): false when another open file holds it */
  tryFlock(fd: number, exclusive: boolean): boolean;
  /** mknod(2); mode holds the file type (S_IFCHR, S_IFBLK, S_IFIFO) */
  mknod(path: string, mode: number, major: number, minor: number): void;
  /** lsetxattr(2): never follows a symlink */
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** a hook droplet runs, killed if droplet dies, leading a process group of its own; it reads
   * stdin from a memfd and writes stderr to another: [pid, that stderr fd] */
  spawnHook(path: string, argv: string[], env: string[], stdin: string): [number, number];
  /** the hook's exit status, 256 + the signal that killed it, or -1 once timeoutMs (0: none) passed */
  waitHook(pid: number, timeoutMs: number): number;
  /** attach a BPF_PROG_TYPE_CGROUP_DEVICE program, replacing the one attached before */
  attachDeviceFilter(cgroupDir: string, insns: Buffer): void;
  /** the ids of the device programs attached to a cgroup */
  deviceFilterIds(cgroupDir: string): number[];
  /** openat2(rootFd, path, flags, mode) resolving in the root (RESOLVE_IN_ROOT): a new fd;
   * throws an Error whose code is the errno's name */
  openInRoot(rootFd: number, path: string, flags: number, mode: number): number;
  /** SO_PEERCRED of a connected unix socket: [pid, uid, gid] */
  peerCred(fd: number): [number, number, number];
  /** sets FD_CLOEXEC: an inherited fd (socket activation) goes to no child */
  setCloexec(fd: number): void;
}

/** Set by the build of the executables; absent when Node runs the modules (tests). */
declare const RAIND_EXECUTABLE: boolean | undefined;

/** Where an installed executable keeps its helpers: <prefix>/bin/droplet next to
 * <prefix>/libexec/raind/, so a whole prefix can be copied elsewhere and still work. */
const LIBEXEC_FROM_BIN = join('..', 'libexec', 'raind');

let dir: string | undefined;
let loaded: Native | undefined;

/** The directory holding droplet-init and the addon. The executable finds it from its own
 * real path (a symlink in PATH is followed), never from where it was built. Modules run
 * from the checkout (the tests) use node-gyp's output above them. */
export function nativeDir(): string {
  if (dir === undefined) {
    if (typeof RAIND_EXECUTABLE !== 'undefined') dir = join(dirname(realpathSync(process.execPath)), LIBEXEC_FROM_BIN);
    else dir = checkoutBuild(__dirname);
  }
  return dir;
}

function checkoutBuild(from: string): string {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    const release = join(d, 'build', 'Release');
    if (existsSync(join(release, 'droplet_native.node'))) return release;
  }
  throw new Error(`no build/Release/droplet_native.node above ${from} (npm run build)`);
}

/** A file beside the addon, such as droplet-init. */
export function nativeFile(name: string): string {
  return join(nativeDir(), name);
}

export function native(): Native {
  loaded ??= require(nativeFile('droplet_native.node')) as Native;
  return loaded;
}
