import { UserError, reason } from '../../common/errors.js';
import type { Logger } from '../../common/log.js';
import type { Hook, HookKind } from '../../oci/spec.js';
import type { Status } from './status.js';
import type { StoredState } from './store.js';

/** The state document a hook reads on stdin (runtime-spec state). */
export function hookState(state: StoredState, status: Status): string {
  return JSON.stringify({
    ociVersion: state.ociVersion, id: state.id, status, pid: state.pid, bundle: state.bundle, annotations: state.annotations,
  });
}

/** What a seccomp notify listener receives with the listener fd (runtime-spec
 * ContainerProcessState). */
export function seccompListenerPayload(state: StoredState, metadata: string | undefined): string {
  return JSON.stringify({
    ociVersion: state.ociVersion, fds: ['seccompFd'], pid: state.pid, metadata: metadata ?? '',
    state: JSON.parse(hookState(state, 'creating')),
  });
}

/** Runs the hooks the runtime itself runs (prestart, createRuntime, poststart, poststop), in
 * droplet's namespaces, one after another. A failure of the first two fails the command; a
 * failing poststart or poststop hook is a warning and the lifecycle goes on (runtime.md). */
export function runHooks(kind: HookKind, hooks: Hook[], stdin: string, log: Logger): void {
  if (hooks.length === 0) return;
  /* Loaded here: hooks are rare and child_process costs milliseconds to load. */
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const fatal = kind === 'prestart' || kind === 'createRuntime';
  hooks.forEach((h, i) => {
    const r = spawnSync(h.path, h.args.slice(1), {
      argv0: h.args[0] ?? h.path,
      env: Object.fromEntries(h.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      input: stdin,
      stdio: ['pipe', 'inherit', 'pipe'],
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: 'SIGKILL',
    });
    let why: string | undefined;
    /* a hook that exits without reading its stdin is judged by its status, not the EPIPE */
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'EPIPE') delete r.error;
    /* the cause alone: Bun's message also names posix_spawn and the path */
    if (r.error) why = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `timed out after ${h.timeout}s` : reason(r.error);
    else if (r.signal) why = `killed by ${r.signal}`;
    else if (r.status !== 0) why = `exit status ${r.status}`;
    if (!why) return;
    const detail = r.stderr?.toString().trim().split('\n')[0];
    const msg = `${kind} hook ${h.path}: ${why}${detail ? `: ${detail}` : ''} (hooks.${kind}[${i}])`;
    if (fatal) throw new UserError(msg);
    log.warn(msg);
  });
}
