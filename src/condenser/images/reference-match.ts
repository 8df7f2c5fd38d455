import { UsageError } from '../../lib/errors.js';

/**
 * Go's path.Match: `*` any run of characters but `/`, `?` one character but `/`,
 * `[...]` a class (ranges, `^` or `!` negates), `\` escapes. A malformed pattern is an error.
 */
export function globMatch(pattern: string, name: string): boolean {
  checkPattern(pattern);
  return matchFrom(pattern, 0, name, 0);
}

export function checkPattern(pattern: string): void {
  for (let p = 0; p < pattern.length; p++) {
    const c = pattern[p];
    if (c === '\\') {
      if (p + 1 >= pattern.length) throw new UsageError(`bad pattern "${pattern}": it ends with a backslash`);
      p++;
    } else if (c === '[') {
      const end = classEnd(pattern, p);
      if (end < 0) throw new UsageError(`bad pattern "${pattern}": a "[" is not closed`);
      p = end;
    }
  }
}

/** The index of the `]` closing the class opened at `open`, or -1. */
function classEnd(pattern: string, open: number): number {
  let p = open + 1;
  if (pattern[p] === '^' || pattern[p] === '!') p++;
  let first = true;
  for (; p < pattern.length; p++) {
    const c = pattern[p];
    if (c === ']' && !first) return p;
    if (c === '\\') p++;
    first = false;
  }
  return -1;
}

function classMatch(pattern: string, open: number, end: number, ch: string): boolean {
  let p = open + 1;
  let negated = false;
  if (pattern[p] === '^' || pattern[p] === '!') {
    negated = true;
    p++;
  }
  let hit = false;
  while (p < end) {
    let lo = pattern[p] ?? '';
    if (lo === '\\') lo = pattern[++p] ?? '';
    p++;
    let hi = lo;
    if (pattern[p] === '-' && p + 1 < end) {
      hi = pattern[p + 1] ?? '';
      p += 2;
      if (hi === '\\') hi = pattern[p++] ?? '';
    }
    if (lo <= ch && ch <= hi) hit = true;
  }
  return hit !== negated;
}

function matchFrom(pattern: string, p: number, name: string, n: number): boolean {
  while (p < pattern.length) {
    const c = pattern[p];
    if (c === '*') {
      while (pattern[p] === '*') p++;
      for (let k = n; k <= name.length; k++) {
        if (matchFrom(pattern, p, name, k)) return true;
        if (name[k] === '/') return false;
      }
      return false;
    }
    const ch = name[n];
    if (ch === undefined) return false;
    if (c === '?') {
      if (ch === '/') return false;
    } else if (c === '[') {
      const end = classEnd(pattern, p);
      if (ch === '/' || !classMatch(pattern, p, end, ch)) return false;
      p = end;
    } else if (c === '\\') {
      p++;
      if (pattern[p] !== ch) return false;
    } else if (c !== ch) return false;
    p++;
    n++;
  }
  return n === name.length;
}

/** docker's reference filter: the pattern against the familiar `name:tag`, else the familiar name alone. */
export function referenceMatch(pattern: string, familiarTagged: string): boolean {
  if (globMatch(pattern, familiarTagged)) return true;
  const slash = familiarTagged.lastIndexOf('/');
  const colon = familiarTagged.lastIndexOf(':');
  return colon > slash && globMatch(pattern, familiarTagged.slice(0, colon));
}
