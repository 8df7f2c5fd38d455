import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidFieldError, NotFoundError, UsageError, UserError, describeBug, isBug, reason } from '../../src/lib/errors.js';
import { invalid } from '../../src/lib/json-reader.js';

describe('typed errors', () => {
  test('a config field error keeps its parts, and names another source on request', () => {
    const err = invalid('mounts[0].destination', 'must be absolute');
    assert.ok(err instanceof InvalidFieldError);
    assert.equal(err.message, 'config.json: mounts[0].destination: must be absolute');
    assert.equal(err.kind, 'invalid');
    assert.equal(err.field, 'mounts[0].destination');
    assert.equal(err.from('resources file r.json').message, 'resources file r.json: mounts[0].destination: must be absolute');
  });

  test('kinds: what callers decide by', () => {
    assert.equal(new NotFoundError('container c1 does not exist').kind, 'not-found');
    assert.equal(new UsageError('kill: unknown signal "X"').kind, 'invalid');
    assert.equal(new UserError('mount: permission denied').kind, 'host');
    assert.equal(new UserError('cannot start', { kind: 'conflict', exitCode: 3 }).exitCode, 3);
  });

  test('a bug is told apart from a user error and from an uncaught system error', () => {
    assert.equal(isBug(new UserError('x')), false);
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
    assert.equal(isBug(enoent), false);
    assert.equal(reason(enoent), 'no such file or directory');
    let typeError: unknown;
    try {
      (undefined as unknown as { x: number }).x;
    } catch (err) {
      typeError = err;
    }
    assert.equal(isBug(typeError), true);
    assert.match(describeBug(typeError), /^internal error \(a bug, please report it\): TypeError: .* \(at .*errors\.test/);
  });
});
