/** One challenge of a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[A-Za-z0-9_.!#$%&'*+^`|~-]+/;

/** Parses the challenges of a WWW-Authenticate header (RFC 7235): schemes, each followed by
 * comma-separated `key=value` or `key="quoted value"` parameters. */
export function parseChallenges(s: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = () => {
    while (i < s.length && ' \t,'.includes(s.charAt(i))) i++;
  };
  const token = () => {
    const m = TOKEN.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  for (;;) {
    skip();
    const scheme = token();
    if (!scheme) break;
    const c: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(c);
    for (;;) {
      skip();
      const start = i;
      const key = token();
      if (!key) break;
      let j = i;
      while (s[j] === ' ') j++;
      /* a token with no "=" after it starts the next challenge */
      if (s[j] !== '=') {
        i = start;
        break;
      }
      i = j + 1;
      while (s[i] === ' ') i++;
      let value = '';
      if (s[i] === '"') {
        for (i++; i < s.length && s[i] !== '"'; i++) value += s[i] === '\\' ? s[++i] : s[i];
        i++;
      } else {
        const m = /^[^\s,]*/.exec(s.slice(i)) as RegExpExecArray;
        value = m[0];
        i += value.length;
      }
      c.params[key.toLowerCase()] = value;
    }
  }
  return out;
}
