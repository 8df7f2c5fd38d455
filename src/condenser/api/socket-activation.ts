/** The listening sockets a service manager passed (systemd's sd_listen_fds): fd 3 onward,
 * LISTEN_FDS of them, when LISTEN_PID is this process. Read once: the variables are then
 * removed so no child takes them for its own. */
let fds: number[] | undefined;

export function activatedFds(): number[] {
  if (fds === undefined) {
    const pid = Number(process.env.LISTEN_PID);
    const count = Number(process.env.LISTEN_FDS);
    fds = pid === process.pid && Number.isInteger(count) && count > 0 ? Array.from({ length: count }, (_, i) => 3 + i) : [];
    delete process.env.LISTEN_PID;
    delete process.env.LISTEN_FDS;
    delete process.env.LISTEN_FDNAMES;
  }
  return fds;
}
