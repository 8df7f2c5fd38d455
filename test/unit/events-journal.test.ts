import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type EngineEvent, EventJournal } from '../../src/condenser/events/journal.js';

const dir = mkdtempSync(join(tmpdir(), 'raind-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const settle = () => new Promise((r) => setTimeout(r, 300));

describe('event journal', () => {
  test("events are read back in docker's shape; containers' with status, id and from", async () => {
    const journal = new EventJournal(join(dir, 'a'));
    journal.record('container', 'start', 'c1', { name: 'web', image: 'busybox:latest', ünï: 'cödé' });
    journal.record('volume', 'create', 'v1');
    const seen: EngineEvent[] = [];
    const f = journal.follow((e) => seen.push(e), { pollMs: 20 });
    journal.record('network', 'destroy', 'n1', { name: 'net' });
    await settle();
    f.stop();
    assert.deepEqual(
      seen.map((e) => [e.Type, e.Action, e.Actor.ID]),
      [
        ['container', 'start', 'c1'],
        ['volume', 'create', 'v1'],
        ['network', 'destroy', 'n1'],
      ],
    );
    const [start] = seen;
    assert.equal(start?.status, 'start');
    assert.equal(start?.id, 'c1');
    assert.equal(start?.from, 'busybox:latest');
    assert.equal(start?.Actor.Attributes['ünï'], 'cödé');
    assert.equal(start?.scope, 'local');
    assert.ok(Math.abs((start?.timeNano ?? 0) / 1e6 - Date.now()) < 5000);
    assert.equal(start?.time, Math.floor((start?.timeNano ?? 0) / 1e9));
    assert.equal(seen[1]?.status, undefined);
  });

  test('past its size it is rotated; a follower misses nothing across the rotation, and two files bound it', async () => {
    const journal = new EventJournal(join(dir, 'b'));
    journal.record('volume', 'create', 'v0');
    const seen: string[] = [];
    /* it holds the file open: a rotation meanwhile is read to its end, then the new file */
    const f = journal.follow((e) => seen.push(e.Actor.ID), { pollMs: 20 });
    const big = 'x'.repeat(1000);
    /* two rotations, a poll between them */
    for (let i = 1; i < 1200; i++) journal.record('volume', 'create', `v${i}`, { big, ü: 'é' });
    await settle();
    for (let i = 1200; i < 2500; i++) journal.record('volume', 'create', `v${i}`, { big, ü: 'é' });
    await settle();
    f.stop();
    assert.ok(existsSync(`${journal.path}.1`), 'rotated');
    assert.equal(seen.length, 2500);
    assert.deepEqual(
      seen,
      Array.from({ length: 2500 }, (_, i) => `v${i}`),
    );
    /* a new follower reads the rotated file and the current one: what is kept */
    const again: string[] = [];
    const g = journal.follow((e) => again.push(e.Actor.ID), { pollMs: 20 });
    await settle();
    g.stop();
    assert.ok(again.length > 0 && again.length < 2500, `kept ${again.length}`);
    assert.equal(again.at(-1), 'v2499');
    /* from the end: only what comes next */
    const next: string[] = [];
    const h = journal.follow((e) => next.push(e.Actor.ID), { pollMs: 20, fromEnd: true });
    journal.record('volume', 'destroy', 'after');
    await settle();
    h.stop();
    assert.deepEqual(next, ['after']);
    /* from the end of a journal not yet made: all of it is new */
    const fresh = new EventJournal(join(dir, 'c'));
    const first: string[] = [];
    const k = fresh.follow((e) => first.push(e.Actor.ID), { pollMs: 20, fromEnd: true });
    await settle();
    fresh.record('volume', 'create', 'first');
    await settle();
    k.stop();
    assert.deepEqual(first, ['first']);
  });
});
