/* The launch plan: a flat list of records made by TypeScript (src/droplet/plan/encode.ts).
 * Wire format, little endian: "DPL1", then records of [u16 tag][u16 0][u32 len][payload].
 * A payload is a sequence of fields [u32 len][bytes]; strings carry their trailing NUL,
 * integers are 8-byte little-endian values. Tags must match src/droplet/plan/tags.ts. */
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
  T_PIVOT = 16,         /* no_pivot */
  T_ROOT_READONLY = 17, /* (none) */
  T_RLIMIT = 18,        /* resource, soft, hard */
  T_CAPS = 19,          /* bounding, effective, inheritable, permitted, ambient (bit masks) */
  T_USER = 20,          /* uid, gid, ngroups, groups..., umask (or -1) */
  T_NO_NEW_PRIVS = 21,  /* (none) */
  T_CWD = 22,           /* path */
  T_EXEC = 23,          /* argc, args..., envc, env... */
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

#endif
