/** SECCOMP_RET_* from <linux/seccomp.h>: what a filter returns; the low 16 bits carry data. */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const SECCOMP_RET_DATA = 0xffff;
const EPERM = 1;

/** The runtime-spec action names. SCMP_ACT_KILL is libseccomp's old name for KILL_THREAD. */
const ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET.USER_NOTIF,
};

export const NOTIFY = 'SCMP_ACT_NOTIFY';

export const ACTION_NAMES: readonly string[] = Object.keys(ACTIONS);

export function isAction(name: string): boolean {
  return Object.hasOwn(ACTIONS, name);
}

/** Only these two carry a value: the errno to fail with, or the data a tracer sees. */
export function takesErrnoRet(name: string): boolean {
  return name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE';
}

/** The filter's return value for a known action name; errnoRet defaults to EPERM, as in runc. */
export function actionValue(name: string, errnoRet: number | undefined): number {
  const base = ACTIONS[name];
  if (base === undefined) throw new Error(`unknown seccomp action "${name}"`); // callers check isAction() first
  if (!takesErrnoRet(name)) return base;
  return (base | ((errnoRet ?? EPERM) & SECCOMP_RET_DATA)) >>> 0;
}

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags a config may ask for. NEW_LISTENER is not among
 * them: the loader adds it when the filter uses SCMP_ACT_NOTIFY. */
export const FILTER_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
