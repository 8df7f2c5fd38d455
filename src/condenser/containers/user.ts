import { constants, closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../lib/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

/** docker's `-u user[:group]` (names or numbers) against the image's /etc/passwd and
 * /etc/group; numbers need no entry. Only regular files directly under a real etc/
 * directory are read: a link in the image must not make us read a file of the host. */
export function resolveUser(rootfs: string, spec: string): ResolvedUser {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = parseColonFile(readImageFile(rootfs, 'passwd'));
  const groups = parseColonFile(readImageFile(rootfs, 'group'));
  let uid: number;
  let gid = 0;
  let home = '/';
  let name: string | undefined;
  if (userPart === '' || /^\d+$/.test(userPart)) {
    uid = userPart === '' ? 0 : Number(userPart);
    const entry = passwd.find((f) => f[2] === String(uid));
    if (entry) {
      gid = Number(entry[3] ?? 0);
      home = entry[5] || '/';
      name = entry[0];
    }
  } else {
    const entry = passwd.find((f) => f[0] === userPart);
    if (!entry)
      throw new UserError(`--user: unable to find user ${userPart}: no matching entries in the image's /etc/passwd`, {
        kind: 'invalid',
        field: 'user',
      });
    uid = Number(entry[2]);
    gid = Number(entry[3] ?? 0);
    home = entry[5] || '/';
    name = entry[0];
  }
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const entry = groups.find((f) => f[0] === groupPart);
      if (!entry)
        throw new UserError(`--user: unable to find group ${groupPart}: no matching entries in the image's /etc/group`, {
          kind: 'invalid',
          field: 'user',
        });
      gid = Number(entry[2]);
    }
  }
  if (!Number.isSafeInteger(uid) || uid > 0xfffffffe || !Number.isSafeInteger(gid) || gid > 0xfffffffe)
    throw new UserError(`--user: "${spec}" is out of range`, { kind: 'invalid', field: 'user' });
  const additionalGids =
    name === undefined || groupPart !== undefined
      ? []
      : groups.filter((f) => (f[3] ?? '').split(',').includes(name) && Number(f[2]) !== gid).map((f) => Number(f[2]));
  return { uid, gid, additionalGids, home };
}

function parseColonFile(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function readImageFile(rootfs: string, name: string): string {
  let dirFd = -1;
  let fd = -1;
  try {
    dirFd = openSync(join(rootfs, 'etc'), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    fd = openSync(join(rootfs, 'etc', name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return '';
    return readFileSync(fd, 'utf8');
  } catch {
    return '';
  } finally {
    if (fd >= 0) closeSync(fd);
    if (dirFd >= 0) closeSync(dirFd);
  }
}
