import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { type ApiServer, serveForSuite } from '../helpers/api-server.js';
import { type TestEngine, engineLeftovers } from '../helpers/engine.js';

interface Reply {
  status: number;
  body: string;
}

/** One request over the unix socket, on a connection of its own. */
function call(socket: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        agent: false,
        headers:
          body === undefined ? headers : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: no answer in 120 s`)));
    req.end(body);
  });
}

/** Raw bytes, then whatever the server answers until it closes (or `ms` pass). */
function raw(socket: string, chunks: (string | Buffer)[], ms = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(socket);
    let out = '';
    const timer = setTimeout(() => {
      c.destroy();
      resolve(out);
    }, ms);
    c.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    c.on('connect', () => {
      for (const chunk of chunks) c.write(chunk);
    });
  });
}

/** Connects, sends the bytes, and drops the connection without waiting for an answer. */
function abandon(socket: string, bytes: string): Promise<void> {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.on('error', () => resolve());
    c.on('connect', () => {
      c.write(bytes, () => {
        c.destroy();
        resolve();
      });
    });
  });
}

describe('raind serve under load and abuse', () => {
  let e: TestEngine;
  let api: ApiServer;
  const alive = async () => {
    assert.equal(api.process.exitCode, null, `the server exited: ${api.log()}`);
    assert.equal(api.process.signalCode, null, `the server was killed: ${api.log()}`);
    const ping = await call(api.socket, 'GET', '/_ping');
    assert.deepEqual([ping.status, ping.body], [200, 'OK']);
  };

  serveForSuite((engine, server) => {
    e = engine;
    api = server;
  });

  test('100 concurrent GET /containers/json: all 200', async () => {
    api.dockerOk(['create', '--pull', 'never', '--name', 'load-listed', 'busybox:latest', 'true']);
    const replies = await Promise.all(Array.from({ length: 100 }, () => call(api.socket, 'GET', '/v1.43/containers/json?all=1')));
    for (const r of replies) {
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body)[0].Names[0], '/load-listed');
    }
    api.dockerOk(['rm', 'load-listed']);
    await alive();
  });

  test('20 concurrent create, start, rm -f: no error, nothing left', async () => {
    const cycle = async (i: number) => {
      const created = await call(
        api.socket,
        'POST',
        `/v1.43/containers/create?name=load-c${i}`,
        JSON.stringify({ Image: 'busybox:latest', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'none' } }),
      );
      assert.equal(created.status, 201, created.body);
      const id = JSON.parse(created.body).Id as string;
      const started = await call(api.socket, 'POST', `/v1.43/containers/${id}/start`);
      assert.equal(started.status, 204, started.body);
      const removed = await call(api.socket, 'DELETE', `/v1.43/containers/${id}?force=1`);
      assert.equal(removed.status, 204, removed.body);
      return id;
    };
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => cycle(i)));
    const list = await call(api.socket, 'GET', '/v1.43/containers/json?all=1');
    assert.deepEqual(JSON.parse(list.body), []);
    /* the server itself names the root; nothing else may, once the monitors of the killed
     * containers have run their exit command (rm -f does not wait for them) */
    const left = () => engineLeftovers(e, ids).filter((l) => !l.startsWith(`process ${api.process.pid} `));
    for (let i = 0; i < 100 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(left(), []);
    await alive();
  });

  test('requests on one container at once wait for each other, as two commands would: start, pause, rm -f', async () => {
    for (let i = 0; i < 5; i++) {
      const created = await call(
        api.socket,
        'POST',
        `/v1.43/containers/create?name=overlap-${i}`,
        JSON.stringify({ Image: 'busybox:latest', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'none' } }),
      );
      assert.equal(created.status, 201, created.body);
      const id = JSON.parse(created.body).Id as string;
      const [started, paused, removed] = await Promise.all([
        call(api.socket, 'POST', `/v1.43/containers/${id}/start`),
        call(api.socket, 'POST', `/v1.43/containers/${id}/pause`),
        call(api.socket, 'DELETE', `/v1.43/containers/${id}?force=1`),
      ]);
      /* whichever order the lock gave them: a start before the rm runs, a pause finds a
       * running container or a created one (409, not running), never a busy lock */
      assert.ok([204, 404].includes(started.status), `start: ${started.status} ${started.body}`);
      assert.ok([204, 404, 409].includes(paused.status), `pause: ${paused.status} ${paused.body}`);
      assert.doesNotMatch(paused.body, /busy/);
      assert.equal(removed.status, 204, removed.body);
    }
    assert.deepEqual(JSON.parse((await call(api.socket, 'GET', '/v1.43/containers/json?all=1')).body), []);
    await alive();
  });

  test('clients that hang up mid-headers, mid-body, or before reading the answer leave it serving', async () => {
    await abandon(api.socket, 'GET /v1.43/containers/json HTTP/1.1\r\nHost: x\r\nX-Half');
    await abandon(
      api.socket,
      'POST /v1.43/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Image": "busy',
    );
    await abandon(api.socket, 'POST /v1.43/containers/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"Ima');
    /* whole requests, the answers never read */
    for (let i = 0; i < 20; i++) await abandon(api.socket, 'GET /v1.43/containers/json?all=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    await abandon(api.socket, 'POST /v1.43/containers/nothing-here/wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    await alive();
  });

  test('bad requests get docker-shaped errors: malformed JSON 400, over the limit 400, unknown path 404, wrong method 405, too new 400', async () => {
    const malformed = await call(api.socket, 'POST', '/v1.43/containers/create', '{"Image": "busybox:latest",');
    assert.equal(malformed.status, 400);
    assert.match(JSON.parse(malformed.body).message, /malformed JSON/);
    const notObject = await call(api.socket, 'POST', '/v1.43/containers/create', '[1, 2]');
    assert.equal(notObject.status, 400);

    /* declared over the limit: refused before the body is read */
    const declared = await raw(
      api.socket,
      [
        'POST /v1.43/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n{"Image":',
      ],
      10_000,
    );
    assert.match(declared, /^HTTP\/1\.1 400 /);
    assert.match(declared, /over the limit/);
    /* chunked, no length: refused once it passes the limit */
    const big = Buffer.alloc(1100 * 1024, 'a');
    const chunked = await raw(
      api.socket,
      [
        'POST /v1.43/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
        `${big.length.toString(16)}\r\n`,
        big,
        '\r\n0\r\n\r\n',
      ],
      10_000,
    );
    assert.match(chunked, /^HTTP\/1\.1 400 /);

    const unknown = await call(api.socket, 'GET', '/v1.43/no/such/thing');
    assert.equal(unknown.status, 404);
    assert.ok(JSON.parse(unknown.body).message);
    const method = await call(api.socket, 'PUT', '/v1.43/containers/json');
    assert.equal(method.status, 405);
    assert.ok(JSON.parse(method.body).message);
    const tooNew = await call(api.socket, 'GET', '/v1.99/version');
    assert.equal(tooNew.status, 400);
    assert.match(JSON.parse(tooNew.body).message, /too new/);
    const garbage = await raw(api.socket, ['NOT HTTP AT ALL\r\n\r\n'], 5_000);
    assert.match(garbage, /^HTTP\/1\.1 400/);
    await alive();
  });
});
