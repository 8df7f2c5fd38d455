import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyChange } from '../../src/condenser/images/changes.js';
import type { ImageRunConfig } from '../../src/oci/image/types.js';

const apply = (...changes: string[]) => {
  const c: ImageRunConfig = {};
  for (const ch of changes) applyChange(c, ch);
  return c;
};

describe('--change instructions', () => {
  test('CMD and ENTRYPOINT: JSON form as given, shell form through /bin/sh -c', () => {
    assert.deepEqual(apply('CMD ["a", "b c"]').Cmd, ['a', 'b c']);
    assert.deepEqual(apply('cmd echo $HOME').Cmd, ['/bin/sh', '-c', 'echo $HOME']);
    assert.deepEqual(apply('ENTRYPOINT ["/init"]').Entrypoint, ['/init']);
  });

  test('ENV: several pairs, quotes, the older KEY VALUE form, a later value replaces an earlier', () => {
    assert.deepEqual(apply('ENV A=1 B="two words" C=', 'ENV A=3').Env, ['B=two words', 'C=', 'A=3']);
    assert.deepEqual(apply('ENV PATH /usr/bin:/bin').Env, ['PATH=/usr/bin:/bin']);
  });

  test('WORKDIR, USER, LABEL, EXPOSE, STOPSIGNAL', () => {
    assert.deepEqual(apply('WORKDIR /srv', 'USER 1000:1000', 'LABEL a=b c="d e"', 'EXPOSE 80 53/udp', 'STOPSIGNAL SIGINT'), {
      WorkingDir: '/srv',
      User: '1000:1000',
      Labels: { a: 'b', c: 'd e' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      StopSignal: 'SIGINT',
    });
  });

  test("VOLUME: the JSON form and the space-separated one add to the image's volumes", () => {
    assert.deepEqual(apply('VOLUME ["/data", "/logs"]', 'VOLUME /cache /tmp/x').Volumes, {
      '/data': {},
      '/logs': {},
      '/cache': {},
      '/tmp/x': {},
    });
    assert.throws(() => apply('VOLUME data'), /VOLUME "data" must be an absolute path/);
  });

  test('what cannot be applied is refused, naming the change', () => {
    assert.throws(() => apply('RUN make'), /change "RUN make": RUN is not one of/);
    assert.throws(() => apply('WORKDIR srv'), /absolute path/);
    assert.throws(() => apply('CMD [1]'), /not a JSON list of strings/);
    assert.throws(() => apply('EXPOSE http'), /"http" is no port/);
    assert.throws(() => apply('ENV A="unterminated'), /cannot read/);
    assert.throws(() => apply('CMD'), /expected an instruction/);
  });
});
