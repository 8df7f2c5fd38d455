/* The init's one error convention: a failure is reported to droplet over the sync socket as
 * "error\t<record index>\t<errno>\t<strerror>\t<detail>\n" and the process exits 1.
 * TypeScript maps the record index back to the config field it came from. */
#ifndef DROPLET_REPORT_H
#define DROPLET_REPORT_H
#include <sys/types.h>

#define REC_NONE (-1L) /* a failure not tied to one record (reading the plan, the sync socket) */

void report_set_fd(int fd);
int report_fd(void);
void report_line(const char *line);
_Noreturn void fail(long rec, int err, const char *detail);
/* A failure that is no errno (a hook's exit status): the message stands for strerror. */
_Noreturn void fail_text(long rec, const char *text, const char *detail);

#endif
