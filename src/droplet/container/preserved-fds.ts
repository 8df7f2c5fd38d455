import { readlinkSync } from 'node:fs';
import { UserError } from '../../lib/errors.js';

/** --preserve-fds hands fds 3..3+n-1 to the container, so they must be ones droplet's caller
 * passed down, never Node's own. Node opens its event loop's epoll fd first thing, at the
 * lowest free number: every fd below the first eventpoll fd was inherited. */
export function checkPreservedFds(count: number): void {
  if (count === 0) return;
  let firstNodeFd = Infinity;
  for (let fd = 3; fd < 3 + count + 64 && fd < firstNodeFd; fd++) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventpoll]') firstNodeFd = fd;
    } catch {
      /* not open */
    }
  }
  for (let fd = 3; fd < 3 + count; fd++) {
    let open = true;
    try {
      readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      open = false;
    }
    if (!open || fd >= firstNodeFd) throw new UserError(`--preserve-fds ${count}: fd ${fd} was not passed to droplet`);
  }
}
