import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shortLinkName } from '../../src/condenser/snapshots/overlay.js';
import { writeFailure } from '../../src/condenser/store/write-failure.js';

const errno = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('writeFailure', () => {
  test('a full disk, here or among the causes, names what was written', () => {
    const direct = writeFailure(errno('ENOSPC', 'ENOSPC: no space left on device, write'), 'layer x', '/s/tmp/f');
    assert.equal(direct?.message, 'layer x: writing /s/tmp/f: no space left on device (ENOSPC)');
    const wrapped = new Error('unpack failed', { cause: errno('EDQUOT', 'EDQUOT') });
    assert.equal(writeFailure(wrapped, 'layer y', '/s/tmp/d')?.message, 'layer y: writing /s/tmp/d: disk quota exceeded (EDQUOT)');
  });

  test('any other failure is left to the caller', () => {
    assert.equal(writeFailure(errno('ECONNRESET', 'socket hang up'), 'layer x', '/p'), undefined);
    assert.equal(writeFailure(new Error('plain'), 'layer x', '/p'), undefined);
    assert.equal(writeFailure(undefined, 'layer x', '/p'), undefined);
  });
});

describe('shortLinkName', () => {
  test('26 base32 characters, the same for the same chain ID, others for others', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    assert.match(shortLinkName(a), /^[A-Z2-7]{26}$/);
    assert.equal(shortLinkName(a), shortLinkName(a));
    assert.notEqual(shortLinkName(a), shortLinkName(b));
    assert.throws(() => shortLinkName('sha256:nothex'), /chain ID/);
  });
});
