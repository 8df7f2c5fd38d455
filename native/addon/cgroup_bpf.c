/* cgroup v2 device filters for the addon: the program itself is built by droplet in
 * TypeScript (src/droplet/cgroups/devices-bpf.ts); this file only loads and attaches it.
 *
 * attachDeviceFilter(cgroupDir, insns): loads insns (a Buffer of struct bpf_insn) as a
 *   BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup, replacing the device
 *   programs droplet attached there before: the new one is attached first and the old ones
 *   detached after. With BPF_F_ALLOW_MULTI an access must pass every attached program, so
 *   in between the filter is the stricter of the two, never none. The attachment keeps the
 *   program; no fd stays open.
 * deviceFilterIds(cgroupDir): the ids of the device programs attached to the cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* the kernel's BPF_CGROUP_MAX_PROGS */
#define MAX_PROGS 64

static int sys_bpf(int cmd, union bpf_attr *attr) { return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static napi_value throw_bpf(napi_env env, const char *what, const char *dir, int err, const char *log) {
  char msg[2048];
  snprintf(msg, sizeof msg, "%s %.1024s: %s%s%.512s", what, dir, strerror(err), log && *log ? ": " : "", log ? log : "");
  /* the verifier's log ends in a newline: one line of error */
  for (char *p = msg; *p; p++)
    if (*p == '\n') *p = ' ';
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_path(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, v, buf, size, &len) == napi_ok && len > 0 && len < size - 1 ? 0 : -1;
}

static int query(int dirfd, uint32_t *ids, uint32_t *count) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = dirfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = *count;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return -1;
  *count = attr.query.prog_cnt;
  return 0;
}

static int load(const void *insns, size_t len, char *log, size_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)(len / sizeof(struct bpf_insn));
  attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0 || !log) return fd;
  /* again with the verifier's log, to say why */
  int err = errno;
  log[0] = '\0';
  attr.log_level = 1;
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = (uint32_t)log_size;
  fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) errno = err;
  return fd;
}

static napi_value attach_device_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  char dir[4096];
  void *insns = NULL;
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < 2 || get_path(env, args[0], dir, sizeof dir) < 0 || napi_get_buffer_info(env, args[1], &insns, &len) != napi_ok || len == 0 ||
      len % sizeof(struct bpf_insn)) {
    napi_throw_type_error(env, NULL, "attachDeviceFilter(cgroupDir, insns)");
    return NULL;
  }
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return throw_bpf(env, "open", dir, errno, NULL);
  char log[4096];
  int prog = load(insns, len, log, sizeof log);
  if (prog < 0) {
    int err = errno;
    close(dirfd);
    return throw_bpf(env, "load the device filter for", dir, err, log);
  }
  uint32_t ids[MAX_PROGS];
  uint32_t count = MAX_PROGS;
  if (query(dirfd, ids, &count) < 0) {
    int err = errno;
    close(prog);
    close(dirfd);
    return throw_bpf(env, "query the device filters of", dir, err, NULL);
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = dirfd;
  attr.attach_bpf_fd = prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = sys_bpf(BPF_PROG_ATTACH, &attr);
  int err = errno;
  close(prog);
  if (rc < 0) {
    close(dirfd);
    return throw_bpf(env, "attach the device filter to", dir, err, NULL);
  }
  for (uint32_t i = 0; i < count; i++) {
    union bpf_attr get;
    memset(&get, 0, sizeof get);
    get.prog_id = ids[i];
    int old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &get);
    if (old < 0) continue; /* gone already */
    union bpf_attr detach;
    memset(&detach, 0, sizeof detach);
    detach.target_fd = dirfd;
    detach.attach_bpf_fd = old;
    detach.attach_type = BPF_CGROUP_DEVICE;
    rc = sys_bpf(BPF_PROG_DETACH, &detach);
    err = errno;
    close(old);
    if (rc < 0 && err != ENOENT) {
      close(dirfd);
      return throw_bpf(env, "detach an old device filter from", dir, err, NULL);
    }
  }
  close(dirfd);
  return NULL;
}

static napi_value device_filter_ids(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  char dir[4096];
  napi_get_cb_info(env, info, &argc, &arg, NULL, NULL);
  if (argc < 1 || get_path(env, arg, dir, sizeof dir) < 0) {
    napi_throw_type_error(env, NULL, "deviceFilterIds(cgroupDir)");
    return NULL;
  }
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return throw_bpf(env, "open", dir, errno, NULL);
  uint32_t ids[MAX_PROGS];
  uint32_t count = MAX_PROGS;
  int rc = query(dirfd, ids, &count);
  int err = errno;
  close(dirfd);
  if (rc < 0) return throw_bpf(env, "query the device filters of", dir, err, NULL);
  napi_value out;
  napi_create_array_with_length(env, count, &out);
  for (uint32_t i = 0; i < count; i++) {
    napi_value id;
    napi_create_uint32(env, ids[i], &id);
    napi_set_element(env, out, i, id);
  }
  return out;
}

void register_cgroup_bpf(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"attachDeviceFilter", NULL, attach_device_filter, NULL, NULL, NULL, napi_default, NULL},
      {"deviceFilterIds", NULL, device_filter_ids, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
