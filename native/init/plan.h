/* The launch plan: a flat list of records made by TypeScript (src/droplet/plan/encode.ts).
 * Wire format, little endian: "DPL1", then records of [u16 tag][u16 0][u32 len][payload].
 * A payload is a sequence of fields [u32 len][bytes]; strings carry their trailing NUL,
 * integers are 8-byte little-endian values, byte fields are raw. Tags must match src/droplet/plan/tags.ts. */
#ifndef DROPLET_PLAN_H
#define DROPLET_PLAN_H
#include <stddef.h>
#include <stdint.h>

enum plan_tag {
  T_MONITOR = 1,        /* (none) stay as the parent of the init and exit with its status */
  T_NS_JOIN = 2,        /* nstype, path */
  T_CLONE = 3,          /* clone flags */
  T_FIFO = 4,           /* path of exec.fifo */
  T_UNSHARE_CGROUP = 5, /* (none) new cgroup namespace, after the host placed the init */
  T_HOSTNAME = 6,       /* name */
  T_DOMAINNAME = 7,     /* name */
  T_LOOPBACK = 8,       /* (none) bring lo up in the new network namespace */
  T_ROOTFS = 9,         /* path, propagation flags */
  T_MOUNT = 10,         /* kind, source, dest, fstype, flags, data, propagation, recursive attrs */
  T_DEVICE = 11,        /* dest, type ('c','b','u','p'), major, minor, mode, uid, gid */
  T_SYMLINK = 12,       /* target, dest */
  T_MKDIR = 13,         /* dest, mode */
  T_MASK = 14,          /* dest */
  T_READONLY = 15,      /* dest */
  T_PIVOT = 16,         /* no_pivot, root propagation to apply after it (0: none) */
  T_ROOT_READONLY = 17, /* (none) */
  T_RLIMIT = 18,        /* resource, soft, hard */
  T_CAPS = 19,          /* bounding, effective, inheritable, permitted, ambient (bit masks) */
  T_USER = 20,          /* uid, gid, ngroups, groups..., umask (or -1) */
  T_NO_NEW_PRIVS = 21,  /* (none) */
  T_CWD = 22,           /* path */
  T_EXEC = 23,          /* argc, args..., envc, env... */
  T_SECCOMP = 24,       /* flags, program (bytes), listener path, listener metadata, notify, late */
  T_SYSCTL = 25,        /* /proc/sys path, value */
  T_PERSONALITY = 26,   /* persona */
  T_IOPRIO = 27,        /* ioprio value (class << 13 | level) */
  T_SCHEDULER = 28,     /* policy, flags, nice, priority, runtime, deadline, period */
  T_LSM_EXEC = 29,      /* /proc/self/attr file, label */
  T_TIME_OFFSETS = 30,  /* timens_offsets text: new time namespace for the init */
  T_USERNS_ROOT = 31,   /* (none) become uid/gid 0 of the new user namespace */
  T_KEYRING = 32,       /* name of a new session keyring */
  T_CONSOLE = 33,       /* console socket path, rows, cols, bind /dev/console (0 for exec) */
  T_HOOK = 34,          /* phase (0 createContainer, 1 startContainer), path, timeout, argc, args..., envc, env... */
  T_PRESERVE_FDS = 35,  /* count: fds 3..3+count-1 reach the container */
  T_SYNC_HOOKS = 36,    /* (none) stop until droplet has run prestart and createRuntime hooks */
  T_SECCOMP_LISTENER = 37, /* listener path: connected before pivot_root */
  T_CONSOLE_CONNECT = 38,  /* console socket path: connected by the launcher, before it joins the container */
  T_CHROOT = 39,           /* path: the new root, without a mount namespace of its own */
};

enum mount_kind { MOUNT_FS = 0, MOUNT_BIND = 1, MOUNT_REMOUNT = 2 };

struct field_reader {
  const uint8_t *p, *end;
  int bad;
};

struct record {
  uint16_t tag;
  const uint8_t *payload;
  uint32_t len;
};

struct plan {
  struct record *records;
  size_t count;
};

int plan_parse(const uint8_t *buf, size_t len, struct plan *out);
void fields_open(struct field_reader *r, const struct record *rec);
uint64_t field_u64(struct field_reader *r);
const char *field_str(struct field_reader *r);
const uint8_t *field_bytes(struct field_reader *r, uint32_t *len);

#endif
