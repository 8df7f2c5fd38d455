/** JSON.parse that keeps integers beyond 2^53 exact, as bigints.
 *
 * The config's 64-bit fields (rlimits, resource limits, seccomp argument values) use the
 * whole range: RLIM_INFINITY is 18446744073709551615, which JSON.parse rounds to 2^64. A
 * lossless parser from npm would be one more dependency loaded on every create, and Node 20
 * has no JSON.parse source access; so: JSON.parse as it is for the usual config (no run of 16
 * digits anywhere: a native scan), and for the rest JSON.parse again on a text whose large
 * integer literals became tagged strings, turned back into bigints by a reviver. */

const LONG_DIGITS = /\d{16}/;
/* a string token, or a number token: strings first, so digits inside strings stay as they are */
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

export function parseExactJson(text: string): unknown {
  /* the original text first: its errors, with their positions, are the ones to report */
  const plain = JSON.parse(text);
  if (!LONG_DIGITS.test(text)) return plain;
  /* a tag no string of this text contains, so no string of the config can pass for one */
  let tag = 'droplet-exact-integer';
  while (text.includes(tag)) tag += '~';
  const marker = `\u0000${tag}:`;
  let found = false;
  const tagged = text.replace(TOKENS, (t) => {
    if (t[0] === '"' || /[.eE]/.test(t) || Number.isSafeInteger(Number(t))) return t;
    found = true;
    return `"\\u0000${tag}:${t}"`;
  });
  if (!found) return plain;
  return JSON.parse(tagged, (_key, v) => (typeof v === 'string' && v.startsWith(marker) ? BigInt(v.slice(marker.length)) : v));
}
