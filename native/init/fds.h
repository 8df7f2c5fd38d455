/* Closing inherited fds, with or without close_range(2). */
#ifndef DROPLET_FDS_H
#define DROPLET_FDS_H

/* Closes every fd from lo up except keep (-1: none). */
void fds_close_from(int lo, int keep);

#endif
