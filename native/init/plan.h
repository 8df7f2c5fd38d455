/* The launch plan: a flat list of records made by TypeScript (src/droplet/plan/encode.ts).
 * Wire format, little endian: "DPL1", then records of [u16 tag][u16 0][u32 len][payload].
 * A payload is a sequence of fields [u32 len][bytes]; strings carry their trailing NUL,
 * integers are 8-byte little-endian values, byte fields are raw. The tags and each record's
 * fields are defined in src/droplet/plan/protocol.ts, and generated into plan-tags.h. */
#ifndef DROPLET_PLAN_H
#define DROPLET_PLAN_H
#include "plan-tags.h"
#include <stddef.h>
#include <stdint.h>

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
