{
  "targets": [
    {
      "target_name": "droplet-init",
      "type": "executable",
      "sources": [
        "native/init/main.c",
        "native/init/plan.c",
        "native/init/report.c",
        "native/init/fs.c",
        "native/init/ns.c",
        "native/init/process.c",
        "native/init/console.c",
        "native/init/hooks.c",
        "native/init/unixsock.c",
        "native/init/fds.c"
      ],
      "cflags": [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror=implicit-function-declaration"
      ],
      "ldflags": [
        "-static-pie"
      ]
    },
    {
      "target_name": "droplet_native",
      "sources": [
        "native/addon/droplet_native.c",
        "native/addon/cgroup_bpf.c",
        "native/addon/console.c",
        "native/addon/flock.c",
        "native/addon/fs_nodes.c",
        "native/addon/hook_spawn.c",
        "native/addon/seqpacket.c",
        "native/addon/termios.c",
        "native/addon/open_in_root.c",
        "native/addon/peer_cred.c",
        "native/addon/fd_flags.c"
      ],
      "cflags": [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra"
      ]
    }
  ]
}
