import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseArgs } from 'node:util';
import { parseCommand } from '../../src/droplet/cli/args.js';

describe('command arguments', () => {
  const options = { force: { type: 'boolean', short: 'f' }, bundle: { type: 'string', short: 'b' } } as const;

  test('without options parseCommand answers as parseArgs does, without loading it', () => {
    for (const argv of [[], ['c1'], ['c1', 'KILL'], ['a', 'b', 'c']]) {
      const ours = parseCommand('x', argv, options);
      const node = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
      assert.deepEqual({ ...ours.values }, { ...node.values });
      assert.deepEqual(ours.positionals, node.positionals);
    }
  });

  test('options, "--" and negative numbers go through parseArgs', () => {
    assert.deepEqual(parseCommand('x', ['-f', 'c1'], options).values.force, true);
    assert.deepEqual(parseCommand('x', ['--', '-c1'], options).positionals, ['-c1']);
    assert.throws(() => parseCommand('delete', ['-1'], options), /^Error: delete: Unknown option '-1'/);
  });
});
