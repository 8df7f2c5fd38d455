#define _GNU_SOURCE
#include "fs.h"
#include "report.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *rootfs_path;
static int rootfd = -1;

static int openat2_in(int dirfd, const char *path, int flags) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Paths in the plan are absolute container paths; inside the root they are relative. */
static const char *rel(const char *path) {
  while (*path == '/') path++;
  return *path ? path : ".";
}

int fs_open_in_root(const char *path) { return openat2_in(rootfd, rel(path), O_PATH); }

static void fd_path(char *buf, size_t size, int fd) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

/* The path of an fd's file as seen from inside the rootfs ("" for the root itself). */
static int path_in_root(int fd, char *out, size_t size) {
  char link[64], host[PATH_MAX], root[PATH_MAX];
  fd_path(link, sizeof link, fd);
  ssize_t n = readlink(link, host, sizeof host - 1);
  fd_path(link, sizeof link, rootfd);
  ssize_t m = readlink(link, root, sizeof root - 1);
  if (n < 0 || m < 0) return -1;
  host[n] = root[m] = 0;
  if (strncmp(host, root, (size_t)m) != 0 || (host[m] != '/' && host[m] != 0)) {
    errno = EXDEV;
    return -1;
  }
  snprintf(out, size, "%s", host + m);
  return 0;
}

/* Opens path inside the rootfs, creating missing components: directories, and the last one
 * as a regular file when as_file is set. A dangling symlink on the way is followed the way
 * the container would follow it, and its target is created, inside the rootfs. */
static int ensure_depth(const char *path, int as_file, int depth) {
  if (depth > 40) {
    errno = ELOOP;
    return -1;
  }
  const char *r = rel(path);
  int fd = openat2_in(rootfd, r, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  char *copy = strdup(r);
  if (!copy) return -1;
  char *slash = strrchr(copy, '/');
  const char *base = copy;
  int parent;
  if (slash) {
    *slash = 0;
    base = slash + 1;
    parent = ensure_depth(copy, 0, depth + 1);
  } else {
    parent = dup(rootfd);
  }
  if (parent < 0) goto out;
  char target[PATH_MAX];
  ssize_t n = readlinkat(parent, base, target, sizeof target - 1);
  if (n >= 0) {
    target[n] = 0;
    char dir[PATH_MAX], next[2 * PATH_MAX + 2];
    if (target[0] == '/') {
      snprintf(next, sizeof next, "%s", target);
    } else {
      if (path_in_root(parent, dir, sizeof dir) < 0) goto out;
      snprintf(next, sizeof next, "%s/%s", dir, target);
    }
    int made = ensure_depth(next, as_file, depth + 1);
    if (made < 0) goto out;
    close(made);
  } else if (as_file) {
    int f = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0)
      close(f);
    else if (errno != EEXIST)
      goto out;
  } else if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST) {
    goto out;
  }
  fd = openat2_in(rootfd, r, O_PATH);
out:;
  int saved = errno;
  if (parent >= 0) close(parent);
  free(copy);
  errno = saved;
  return fd;
}

static int ensure_in_root(const char *path, int as_file) { return ensure_depth(path, as_file, 0); }

int fs_ensure_file_in_root(const char *path) { return ensure_depth(path, 1, 0); }

/* Copies a directory tree, keeping modes, owners and symlinks (tmpcopyup). */
static int copy_tree(int from, int to) {
  int dfd = dup(from);
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) return -1;
  int rc = 0;
  for (struct dirent *e; rc == 0 && (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(from, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      rc = -1;
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      int src = openat(from, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int dst = -1;
      if (src >= 0 && (mkdirat(to, e->d_name, st.st_mode & 07777) == 0 || errno == EEXIST))
        dst = openat(to, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      rc = src < 0 || dst < 0 ? -1 : copy_tree(src, dst);
      if (src >= 0) close(src);
      if (dst >= 0) close(dst);
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(from, e->d_name, target, sizeof target - 1);
      if (n < 0) {
        rc = -1;
        break;
      }
      target[n] = 0;
      rc = symlinkat(target, to, e->d_name);
    } else if (S_ISREG(st.st_mode)) {
      int src = openat(from, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int dst = openat(to, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
      char buf[65536];
      ssize_t n = 0;
      while (src >= 0 && dst >= 0 && (n = read(src, buf, sizeof buf)) > 0)
        if (write(dst, buf, (size_t)n) != n) {
          n = -1;
          break;
        }
      rc = src < 0 || dst < 0 || n < 0 ? -1 : 0;
      if (src >= 0) close(src);
      if (dst >= 0) close(dst);
    } else {
      rc = mknodat(to, e->d_name, st.st_mode, st.st_rdev);
    }
    if (rc == 0) rc = fchownat(to, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    if (rc == 0 && !S_ISLNK(st.st_mode)) rc = fchmodat(to, e->d_name, st.st_mode & 07777, 0);
  }
  int saved = errno;
  closedir(d);
  errno = saved;
  return rc;
}

/* The flags a bind remount must keep: the kernel refuses to clear locked ones. */
static unsigned long current_mount_flags(int fd) {
  struct statvfs sv;
  unsigned long f = 0;
  if (fstatvfs(fd, &sv) < 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* mount(2) says EINVAL for any option the filesystem refuses; the new mount API (Linux 5.2)
 * takes them one at a time and says which, with the kernel's reason in the context's log.
 * Fails the record naming that option; returns when none is refused (the flags were). */
static void fail_refused_option(long rec, const char *fstype, const char *data) {
  int fd = fsopen(fstype, FSOPEN_CLOEXEC);
  char *copy = strdup(data);
  if (fd < 0 || !copy) return;
  for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(opt, '=');
    if (eq) *eq = 0;
    int rc = eq ? fsconfig(fd, FSCONFIG_SET_STRING, opt, eq + 1, 0) : fsconfig(fd, FSCONFIG_SET_FLAG, opt, NULL, 0);
    int err = errno;
    if (eq) *eq = '=';
    if (rc == 0) continue;
    char log[256] = {0}, why[320];
    if (read(fd, log, sizeof log - 1) < 0) log[0] = 0;
    if (strstr(log, "Unknown parameter")) {
      snprintf(why, sizeof why, "unknown option \"%s\"", opt);
      fail_text(rec, why, "");
    }
    snprintf(why, sizeof why, "option \"%s\"", opt);
    fail(rec, err, why);
  }
  close(fd);
  free(copy);
}

void fs_rootfs(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  rootfs_path = field_str(&f);
  unsigned long propagation = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed rootfs record");
  /* Nothing done from here on may propagate back to the host. */
  if (mount(NULL, "/", NULL, propagation, NULL) < 0) fail(rec, errno, "/");
  if (mount(rootfs_path, rootfs_path, NULL, MS_BIND | MS_REC, NULL) < 0) fail(rec, errno, rootfs_path);
  rootfd = open(rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(rec, errno, rootfs_path);
}

void fs_mount(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  unsigned long kind = field_u64(&f);
  const char *source = field_str(&f), *dest = field_str(&f), *fstype = field_str(&f);
  unsigned long flags = field_u64(&f);
  const char *data = field_str(&f);
  unsigned long propagation = field_u64(&f);
  struct mount_attr attr = {.attr_set = field_u64(&f), .attr_clr = field_u64(&f)};
  int tmpcopyup = (int)field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed mount record");

  char src_path[64], dst_path[64];
  int srcfd = -1, as_file = 0;
  if (kind == MOUNT_BIND) {
    srcfd = open(source, O_PATH | O_CLOEXEC);
    if (srcfd < 0) fail(rec, errno, source);
    struct stat st;
    if (fstat(srcfd, &st) < 0) fail(rec, errno, source);
    as_file = !S_ISDIR(st.st_mode);
    fd_path(src_path, sizeof src_path, srcfd);
  }
  int dstfd = ensure_in_root(dest, as_file);
  if (dstfd < 0) fail(rec, errno, dest);
  fd_path(dst_path, sizeof dst_path, dstfd);

  if (kind == MOUNT_BIND) {
    if (mount(src_path, dst_path, NULL, MS_BIND | (flags & MS_REC), NULL) < 0) fail(rec, errno, dest);
    close(srcfd);
    unsigned long extra = flags & ~(MS_BIND | MS_REC);
    if (extra) {
      /* The new mount is on top of the old fd: open it again to reach it. */
      close(dstfd);
      dstfd = ensure_in_root(dest, as_file);
      if (dstfd < 0) fail(rec, errno, dest);
      fd_path(dst_path, sizeof dst_path, dstfd);
      if (mount(NULL, dst_path, NULL, MS_BIND | MS_REMOUNT | extra | current_mount_flags(dstfd), NULL) < 0) fail(rec, errno, dest);
    }
  } else if (kind == MOUNT_REMOUNT) {
    if (mount(NULL, dst_path, NULL, MS_REMOUNT | flags, *data ? data : NULL) < 0) fail(rec, errno, dest);
  } else {
    int old = -1;
    struct stat old_st;
    if (tmpcopyup) {
      /* what the image has there, read through the fd once the tmpfs hides it */
      old = openat(dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (old < 0 || fstat(old, &old_st) < 0) fail(rec, errno, dest);
    }
    if (mount(source, dst_path, fstype, flags, *data ? data : NULL) < 0) {
      if (errno == EINVAL && *data) fail_refused_option(rec, fstype, data);
      fail(rec, errno, dest);
    }
    if (tmpcopyup) {
      int fresh = ensure_in_root(dest, 0);
      int top = fresh >= 0 ? openat(fresh, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
      if (top < 0 || copy_tree(old, top) < 0) fail(rec, errno, dest);
      if (fchown(top, old_st.st_uid, old_st.st_gid) < 0 || fchmod(top, old_st.st_mode & 07777) < 0) fail(rec, errno, dest);
      close(top);
      close(fresh);
      close(old);
    }
  }
  if (attr.attr_set || attr.attr_clr) {
    /* the recursive options: the whole tree under the new mount */
    int top = ensure_in_root(dest, as_file);
    if (top < 0) fail(rec, errno, dest);
    if (syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) fail(rec, errno, dest);
    close(top);
  }
  if (propagation) {
    close(dstfd);
    dstfd = ensure_in_root(dest, as_file);
    if (dstfd < 0) fail(rec, errno, dest);
    fd_path(dst_path, sizeof dst_path, dstfd);
    if (mount(NULL, dst_path, NULL, propagation, NULL) < 0) fail(rec, errno, dest);
  }
  close(dstfd);
}

/* Opens the directory that holds dest (creating it) and returns the last component. */
static int open_parent(long rec, const char *dest, const char **base) {
  char *copy = strdup(rel(dest));
  if (!copy) fail(rec, ENOMEM, dest);
  char *slash = strrchr(copy, '/');
  int dirfd;
  if (slash) {
    *slash = 0;
    dirfd = ensure_in_root(copy, 0);
    *base = dest + (strrchr(dest, '/') - dest) + 1;
  } else {
    dirfd = dup(rootfd);
    *base = rel(dest);
  }
  if (dirfd < 0) fail(rec, errno, dest);
  free(copy);
  return dirfd;
}

/* Where mknod is not permitted (inside a user namespace) the host's node is bind-mounted. */
static void bind_host_device(long rec, const char *dest) {
  int src = open(dest, O_PATH | O_CLOEXEC);
  if (src < 0) fail(rec, errno, dest);
  int dst = fs_ensure_file_in_root(dest);
  if (dst < 0) fail(rec, errno, dest);
  char from[64], to[64];
  fd_path(from, sizeof from, src);
  fd_path(to, sizeof to, dst);
  if (mount(from, to, NULL, MS_BIND, NULL) < 0) fail(rec, errno, dest);
  close(src);
  close(dst);
}

void fs_device(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *dest = field_str(&f);
  unsigned long type = field_u64(&f), major = field_u64(&f), minor = field_u64(&f);
  unsigned long mode = field_u64(&f), uid = field_u64(&f), gid = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed device record");
  mode_t kind = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t rdev = kind == S_IFIFO ? 0 : makedev(major, minor);
  const char *base;
  int dirfd = open_parent(rec, dest, &base);
  /* What the rootfs has there is the bundle's: never removed, never followed. The same node
   * serves as it is (runc keeps it too); over a regular file the host's node is mounted,
   * which the mount namespace takes away again. */
  struct stat st;
  if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    close(dirfd);
    if ((st.st_mode & S_IFMT) == kind && st.st_rdev == rdev) return;
    const char *what = S_ISREG(st.st_mode)   ? "a regular file"
                       : S_ISDIR(st.st_mode) ? "a directory"
                       : S_ISLNK(st.st_mode) ? "a symlink"
                                             : "another device";
    struct stat host;
    char why[160];
    if (!S_ISREG(st.st_mode) || stat(dest, &host) < 0 || (host.st_mode & S_IFMT) != kind || host.st_rdev != rdev) {
      snprintf(why, sizeof why, "%s of the rootfs is in the way, and the host has no such device at that path to mount over it", what);
      fail_text(rec, why, dest);
    }
    bind_host_device(rec, dest);
    return;
  }
  if (errno != ENOENT) fail(rec, errno, dest);
  if (mknodat(dirfd, base, kind | (mode & 07777), rdev) < 0) {
    if (errno != EPERM || kind == S_IFIFO) fail(rec, errno, dest);
    close(dirfd);
    bind_host_device(rec, dest);
    return;
  }
  if (fchownat(dirfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0) fail(rec, errno, dest);
  if (fchmodat(dirfd, base, mode & 07777, 0) < 0) fail(rec, errno, dest);
  close(dirfd);
}

void fs_symlink(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *target = field_str(&f), *dest = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed symlink record");
  const char *base;
  int dirfd = open_parent(rec, dest, &base);
  if (symlinkat(target, dirfd, base) < 0 && errno != EEXIST) fail(rec, errno, dest);
  close(dirfd);
}

/* The one path of a mkdir, mask or read-only record. */
static const char *path_field(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  const char *dest = field_str(&f);
  if (f.bad) fail(rec, EINVAL, "malformed path record");
  return dest;
}

/* Opens an existing path inside the rootfs; -1 when there is none (nothing to mask or
 * protect, as in runc); any other failure is the record's. */
static int open_existing(long rec, const char *dest) {
  int fd = openat2_in(rootfd, rel(dest), O_PATH);
  if (fd < 0 && errno != ENOENT) fail(rec, errno, dest);
  return fd;
}

void fs_mkdir(long rec, const struct record *r) {
  const char *dest = path_field(rec, r);
  int fd = ensure_in_root(dest, 0);
  if (fd < 0) fail(rec, errno, dest);
  close(fd);
}

void fs_mask(long rec, const struct record *r) {
  const char *dest = path_field(rec, r);
  int fd = open_existing(rec, dest);
  if (fd < 0) return;
  struct stat st;
  if (fstat(fd, &st) < 0) fail(rec, errno, dest);
  char p[64];
  fd_path(p, sizeof p, fd);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k,mode=0755") < 0) fail(rec, errno, dest);
  } else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
    fail(rec, errno, dest);
  }
  close(fd);
}

void fs_readonly(long rec, const struct record *r) {
  const char *dest = path_field(rec, r);
  int fd = open_existing(rec, dest);
  if (fd < 0) return;
  char p[64];
  fd_path(p, sizeof p, fd);
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) fail(rec, errno, dest);
  close(fd);
  /* The bind mount is on top of the old fd: open it again to remount it. */
  fd = openat2_in(rootfd, rel(dest), O_PATH);
  if (fd < 0) fail(rec, errno, dest);
  fd_path(p, sizeof p, fd);
  if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | current_mount_flags(fd), NULL) < 0) fail(rec, errno, dest);
  close(fd);
}

void fs_pivot(long rec, const struct record *r) {
  struct field_reader f;
  fields_open(&f, r);
  unsigned long no_pivot = field_u64(&f), propagation = field_u64(&f);
  if (f.bad) fail(rec, EINVAL, "malformed pivot record");
  if (chdir(rootfs_path) < 0) fail(rec, errno, rootfs_path);
  if (no_pivot) {
    if (mount(rootfs_path, "/", NULL, MS_MOVE, NULL) < 0) fail(rec, errno, "move rootfs to /");
    if (chroot(".") < 0) fail(rec, errno, "chroot");
  } else {
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) fail(rec, errno, "/");
    if (syscall(SYS_pivot_root, ".", ".") < 0) fail(rec, errno, rootfs_path);
    /* The old root is stacked under the new one: detach it without touching the host. */
    if (fchdir(oldroot) < 0) fail(rec, errno, "old root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail(rec, errno, "old root");
    if (umount2(".", MNT_DETACH) < 0) fail(rec, errno, "old root");
    close(oldroot);
  }
  if (chdir("/") < 0) fail(rec, errno, "/");
  if (propagation && mount(NULL, "/", NULL, propagation, NULL) < 0) fail(rec, errno, "rootfsPropagation");
}

void fs_root_readonly(long rec) {
  int fd = open("/", O_PATH | O_CLOEXEC);
  unsigned long keep = fd >= 0 ? current_mount_flags(fd) : 0;
  if (fd >= 0) close(fd);
  if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0) fail(rec, errno, "/");
}

void fs_chroot(long rec, const struct record *r) {
  const char *path = path_field(rec, r);
  if (chdir(path) < 0) fail(rec, errno, path);
  if (chroot(".") < 0) fail(rec, errno, path);
  if (chdir("/") < 0) fail(rec, errno, "/");
}
