/* Sending an fd to a unix socket path with SCM_RIGHTS, as the console socket (runc's
 * protocol: the fd with its name) and the seccomp listener (the fd with the container
 * process state JSON) expect. */
#ifndef DROPLET_UNIXSOCK_H
#define DROPLET_UNIXSOCK_H

/* A connected socket (close-on-exec), or -1 with errno. */
int unix_connect(const char *socket_path);
/* 0, or -1 with errno. */
int send_fd_on(int sock, int fd, const char *payload);
/* unix_connect + send_fd_on + close. */
int send_fd(const char *socket_path, int fd, const char *payload);

#endif
