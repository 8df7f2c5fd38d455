import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffMs, retryAfterMs, TransientError } from '../../src/condenser/registry/retry.js';
import { PullProgress, bar } from '../../src/raind/progress.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

describe('pull progress', () => {
  test('the bar: filled in proportion, an arrow while not done, the bytes', () => {
    assert.equal(bar(0, 100, 10), '[>         ]  0B/100B');
    assert.equal(bar(500_000, 1_000_000, 10), '[=====>    ]  500kB/1.00MB');
    assert.equal(bar(1_000_000, 1_000_000, 10), '[==========]  1.00MB/1.00MB');
  });

  test('not on a terminal: a line per change of status, none for bytes', () => {
    let text = '';
    const p = new PullProgress((t) => (text += t), false);
    p.layer({ digest: A, status: 'Pulling fs layer' });
    p.layer({ digest: B, status: 'Already exists' });
    p.layer({ digest: A, status: 'Downloading', current: 10, total: 100 });
    p.layer({ digest: A, status: 'Downloading', current: 50, total: 100 });
    p.layer({ digest: A, status: 'Download complete' });
    p.layer({ digest: A, status: 'Pull complete' });
    p.say('digest: x');
    assert.equal(
      text,
      'aaaaaaaaaaaa: Pulling fs layer\nbbbbbbbbbbbb: Already exists\naaaaaaaaaaaa: Download complete\naaaaaaaaaaaa: Pull complete\ndigest: x\n',
    );
  });

  test('on a terminal: all the layer lines redrawn in place', () => {
    let text = '';
    const p = new PullProgress((t) => (text += t), true);
    p.layer({ digest: A, status: 'Pulling fs layer' });
    p.layer({ digest: B, status: 'Pulling fs layer' });
    text = '';
    p.layer({ digest: A, status: 'Pull complete' });
    assert.equal(text, '\x1b[2A\x1b[2Kaaaaaaaaaaaa: Pull complete\n\x1b[2Kbbbbbbbbbbbb: Pulling fs layer\n');
  });

  test('retry: backoff doubles, a short Retry-After is honoured, a long one is not', () => {
    assert.ok(backoffMs(0) >= 200 && backoffMs(0) <= 300);
    assert.ok(backoffMs(2) >= 800 && backoffMs(2) <= 1200);
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs(null), undefined);
    assert.equal(backoffMs(0, new TransientError('busy', 1500)), 1500);
    assert.ok(backoffMs(0, new TransientError('busy', 60_000)) <= 300);
  });
});
