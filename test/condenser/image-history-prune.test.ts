import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { raindOk } from '../helpers/raind.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'raind-history-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const LONG = `/bin/sh -c set -eux; make -C /src all && make -C /src install && rm -rf /src ${'x'.repeat(40)}`;

/** A docker-archive made by hand: two layers (files of 100 and 2000 bytes) and a history
 * with a step that made no layer. */
function archive(name: string, tag: string, created: string): { file: string; id: string } {
  const work = mkdtempSync(join(dir, 'a-'));
  const layer = (file: string, size: number) => {
    const src = mkdtempSync(join(dir, 'l-'));
    writeFileSync(join(src, file), Buffer.alloc(size, 1));
    const out = join(work, `${file}.tar`);
    execFileSync('tar', ['-cf', out, '-C', src, file]);
    return sha(readFileSync(out));
  };
  const diffIds = [layer('a', 100), layer('b', 2000)];
  const config = Buffer.from(
    JSON.stringify({
      created,
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/a'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:a in / ' },
        { created: '2024-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  ENV X=1', empty_layer: true },
        { created, created_by: LONG, comment: 'buildkit.dockerfile.v0' },
      ],
    }),
  );
  const id = sha(config);
  writeFileSync(join(work, 'config.json'), config);
  writeFileSync(
    join(work, 'manifest.json'),
    JSON.stringify([{ Config: 'config.json', RepoTags: [`${name}:${tag}`], Layers: ['a.tar', 'b.tar'] }]),
  );
  const file = `${work}.tar`;
  execFileSync('tar', ['-cf', file, '-C', work, 'config.json', 'a.tar', 'b.tar', 'manifest.json']);
  return { file, id };
}

describe('raind image history and prune', () => {
  test('history: newest step first, the id on the top row only, layer sizes, docker truncation, json', () => {
    const root = join(dir, 'root-h');
    const { file, id } = archive('app', '1', '2024-02-02T00:00:00Z');
    raindOk(root, ['load', '-i', file]);
    const lines = raindOk(root, ['history', 'app:1']).stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0] ?? '', /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^${id.slice(7, 19)}\\s+\\d+ \\w+ ago\\s+${LONG.slice(0, 44).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}…\\s+2.00kB\\s+buildkit.dockerfile.v0$`,
      ),
    );
    assert.match(lines[2] ?? '', /^<missing>\s+\d+ \w+ ago\s+\/bin\/sh -c #\(nop\) ENV X=1\s+0B\s*$/);
    assert.match(lines[3] ?? '', /^<missing>\s+\d+ \w+ ago\s+\/bin\/sh -c #\(nop\) ADD file:a in \/\s+100B\s*$/);

    const json = JSON.parse(raindOk(root, ['image', 'history', '--format', 'json', 'app:1']).stdout);
    assert.deepEqual(
      json.map((s: { Id: string; Size: number; CreatedBy: string }) => [s.Id, s.Size, s.CreatedBy]),
      [
        [id, 2000, LONG],
        ['<missing>', 0, '/bin/sh -c #(nop)  ENV X=1'],
        ['<missing>', 100, '/bin/sh -c #(nop) ADD file:a in / '],
      ],
    );
    assert.deepEqual(json[0].Tags, ['docker.io/library/app:1']);
    assert.match(raindOk(root, ['history', '--no-trunc', 'app:1']).stdout, new RegExp(`${id}\\s.*x{40}`));
  });

  test('prune: an image that lost its tag goes with what only it used; what the named image uses stays', () => {
    const root = join(dir, 'root-p');
    const old = archive('app', '1', '2024-03-03T00:00:00Z');
    const next = archive('app', '1', '2024-04-04T00:00:00Z');
    raindOk(root, ['load', '-i', old.file]);
    /* the tag moves to the newer image: the old one is dangling */
    raindOk(root, ['load', '-i', next.file]);
    const rows = JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout);
    assert.deepEqual(
      rows.map((r: { Id: string; Tag: string }) => [r.Id, r.Tag]).sort(),
      [
        [old.id, '<none>'],
        [next.id, '1'],
      ].sort(),
    );
    const stray = join(root, 'blobs/sha256', 'f'.repeat(64));
    writeFileSync(stray, 'nothing uses this');
    const blobsBefore = readdirSync(join(root, 'blobs/sha256')).length;
    const oldRecord = JSON.parse(readFileSync(join(root, 'images.json'), 'utf8')).images.find((i: { id: string }) => i.id === old.id);
    const bytes = [stray, join(root, 'blobs/sha256', old.id.slice(7)), join(root, 'blobs/sha256', oldRecord.manifestDigest.slice(7))]
      .map((p) => statSync(p).size)
      .reduce((a, b) => a + b);
    assert.ok(bytes > 1000 && bytes < 10000, String(bytes));

    const out = raindOk(root, ['image', 'prune', '-f']).stdout;
    /* the two images share both layers: only the old config, its manifest and the stray go */
    assert.match(
      out,
      new RegExp(
        `^Deleted Images:\\ndeleted: ${old.id}\\n\\nRemoved 3 blobs and 0 layers\\nTotal reclaimed space: ${(bytes / 1000).toPrecision(3)}kB\\n$`,
      ),
    );
    assert.ok(!existsSync(stray));
    assert.equal(readdirSync(join(root, 'blobs/sha256')).length, blobsBefore - 3);
    assert.deepEqual(
      JSON.parse(raindOk(root, ['images', '--format', 'json']).stdout).map((r: { Id: string }) => r.Id),
      [next.id],
    );
    assert.equal(readdirSync(join(root, 'layers')).length, 2, 'the named image keeps its layers');
    assert.equal(raindOk(root, ['image', 'prune']).stdout, 'Total reclaimed space: 0B\n', 'nothing left to prune');
  });
});
