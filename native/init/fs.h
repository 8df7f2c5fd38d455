/* Building the container's filesystem: rootfs, mounts, devices, masked and read-only paths,
 * pivot_root. Every path from the bundle is resolved inside the rootfs (openat2 with
 * RESOLVE_IN_ROOT), so no symlink or ".." in the rootfs leads a mount or a write outside it. */
#ifndef DROPLET_FS_H
#define DROPLET_FS_H
#include "plan.h"

void fs_rootfs(long rec, const struct record *r);
void fs_mount(long rec, const struct record *r);
void fs_device(long rec, const struct record *r);
void fs_symlink(long rec, const struct record *r);
void fs_mkdir(long rec, const struct record *r);
void fs_mask(long rec, const struct record *r);
void fs_readonly(long rec, const struct record *r);
void fs_pivot(long rec, const struct record *r);
void fs_root_readonly(long rec);
/* Opens a path inside the rootfs (O_PATH), or -1 with errno. */
int fs_open_in_root(const char *path);
/* The same, creating it (and its parents) as an empty file where it is missing. */
int fs_ensure_file_in_root(const char *path);

/* chroot(2) into the record's path: a container in the host's mount namespace */
void fs_chroot(long rec, const struct record *r);

#endif
