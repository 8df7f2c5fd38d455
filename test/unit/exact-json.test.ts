import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseExactJson } from '../../src/lib/exact-json.js';

describe('parseExactJson', () => {
  test("integers beyond 2^53 become exact bigints; the rest is JSON.parse's", () => {
    const v = parseExactJson(
      '{"inf": 18446744073709551615, "big": 9007199254740993, "neg": -9223372036854775808, "small": 1024, "f": 1.5e300}',
    ) as any;
    assert.equal(v.inf, 2n ** 64n - 1n);
    assert.equal(v.big, 2n ** 53n + 1n);
    assert.equal(v.neg, -(2n ** 63n));
    assert.equal(v.small, 1024);
    assert.equal(v.f, 1.5e300);
  });

  test('digits inside strings stay strings, even ones that look like its marker', () => {
    const text = '{"a": "12345678901234567890", "b": "\\u0000droplet-exact-integer:5", "c": 12345678901234567890}';
    const v = parseExactJson(text) as any;
    assert.equal(v.a, '12345678901234567890');
    assert.equal(v.b, '\u0000droplet-exact-integer:5');
    assert.equal(v.c, 12345678901234567890n);
  });

  test('a long run of digits that is not a large integer changes nothing', () => {
    /* the double those digits round to, as JSON.parse gives it */
    assert.deepEqual(parseExactJson('{"x": 0.12345678901234567}'), { x: Number('0.12345678901234567') });
    assert.deepEqual(parseExactJson('[9007199254740991]'), [9007199254740991]);
  });

  test("invalid JSON fails with JSON.parse's message, about the text as given", () => {
    let expected = '';
    try {
      JSON.parse('{"x": 12345678901234567890,');
    } catch (err) {
      expected = (err as Error).message;
    }
    assert.throws(() => parseExactJson('{"x": 12345678901234567890,'), { message: expected });
  });
});
