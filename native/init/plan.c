/* Decoding of the launch plan; see plan.h for the format. */
#include "plan.h"
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int plan_parse(const uint8_t *buf, size_t len, struct plan *out) {
  if (len < 4 || memcmp(buf, "DPL1", 4) != 0) return -1;
  size_t cap = 64, n = 0;
  struct record *recs = malloc(cap * sizeof *recs);
  if (!recs) return -1;
  const uint8_t *p = buf + 4, *end = buf + len;
  while (p < end) {
    if (end - p < 8) goto bad;
    uint32_t rlen = le32(p + 4);
    if ((size_t)(end - p - 8) < rlen) goto bad;
    if (n == cap) {
      cap *= 2;
      struct record *grown = realloc(recs, cap * sizeof *recs);
      if (!grown) goto bad;
      recs = grown;
    }
    recs[n].tag = (uint16_t)(p[0] | p[1] << 8);
    recs[n].payload = p + 8;
    recs[n].len = rlen;
    n++;
    p += 8 + rlen;
  }
  out->records = recs;
  out->count = n;
  return 0;
bad:
  free(recs);
  return -1;
}

void fields_open(struct field_reader *r, const struct record *rec) {
  r->p = rec->payload;
  r->end = rec->payload + rec->len;
  r->bad = 0;
}

static const uint8_t *next_field(struct field_reader *r, uint32_t *len) {
  if (r->bad || r->end - r->p < 4) {
    r->bad = 1;
    return NULL;
  }
  *len = le32(r->p);
  if ((size_t)(r->end - r->p - 4) < *len) {
    r->bad = 1;
    return NULL;
  }
  const uint8_t *f = r->p + 4;
  r->p += 4 + *len;
  return f;
}

uint64_t field_u64(struct field_reader *r) {
  uint32_t len;
  const uint8_t *f = next_field(r, &len);
  if (!f || len != 8) {
    r->bad = 1;
    return 0;
  }
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | f[i];
  return v;
}

const char *field_str(struct field_reader *r) {
  uint32_t len;
  const uint8_t *f = next_field(r, &len);
  if (!f || len == 0 || f[len - 1] != 0) {
    r->bad = 1;
    return "";
  }
  return (const char *)f;
}

const uint8_t *field_bytes(struct field_reader *r, uint32_t *len) {
  const uint8_t *f = next_field(r, len);
  if (!f) *len = 0;
  return f;
}
