import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiServer, startApiServer } from '../helpers/api-server.js';
import { type TestEngine, importBusybox, makeTestEngine, removeTestEngine } from '../helpers/engine.js';
import { bridgeLeft } from '../helpers/bridges.js';
import { get } from '../helpers/network.js';

/** docker-compose 1.29 (a client the tests did not write) against `raind serve`: a project
 * of two services on the project's network, one publishing a port on 127.0.0.1 with a
 * named volume, the other fetching from it by its service name. */
let engine: TestEngine;
let server: ApiServer;
const project = `rc${process.pid}`;
const PORT = 21000 + (process.pid % 9000);
/* the project network's subnet, the tests' own: no other test's network can take it. (With
 * an ipam config compose 1.29 cannot `up` a second time: its check of the network's config
 * sorts with key='Subnet', a TypeError; so the test does not.) */
const SUBNET = `10.172.${(process.pid % 250) + 1}.0/24`;
let file: string;
const bridges: string[] = [];

const COMPOSE_FILE = `version: "2.4"
services:
  web:
    image: busybox:latest
    command: ["sh", "-c", "echo hello-compose > /data/index.html && exec httpd -f -p 80 -h /data"]
    ports: ["127.0.0.1:${PORT}:80"]
    volumes: ["webdata:/data"]
  client:
    image: busybox:latest
    command: ["sh", "-c", "for i in $$(seq 1 100); do wget -q -O /tmp/page http://web/ && break; sleep 0.2; done; cat /tmp/page; exec sleep 1000"]
    depends_on: [web]
volumes:
  webdata: {}
networks:
  default:
    ipam:
      config: [{ subnet: "${SUBNET}" }]
`;

const compose = (...args: string[]) => {
  const r = spawnSync('docker-compose', ['-f', file, ...args], {
    encoding: 'utf8',
    env: { ...server.env, COMPOSE_PROJECT_NAME: project },
    timeout: 180_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const composeOk = (...args: string[]) => {
  const r = compose(...args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r;
};

before(async () => {
  engine = makeTestEngine('raind-api-compose-');
  importBusybox(engine, 'busybox:latest');
  server = await startApiServer(engine);
  file = join(engine.dir, 'docker-compose.yml');
  writeFileSync(file, COMPOSE_FILE);
});

after(async () => {
  if (server && file) compose('down', '-v', '-t', '1');
  await server?.stop();
  if (engine) removeTestEngine(engine);
  for (const b of bridges) assert.equal(bridgeLeft(b, SUBNET), false, `bridge ${b} left behind`);
});

describe('docker-compose against raind serve', () => {
  test('up -d: the network, the volume, both services; the second reaches the first by name', async () => {
    composeOk('up', '-d');
    const [network] = JSON.parse(server.dockerOk(['network', 'inspect', `${project}_default`]).stdout);
    assert.equal(network.Labels['com.docker.compose.project'], project);
    assert.equal(network.IPAM.Config[0].Subnet, SUBNET);
    bridges.push(JSON.parse(engine.ok(['network', 'inspect', network.Name]).stdout)[0].Options['com.docker.network.bridge.name']);
    const [volume] = JSON.parse(server.dockerOk(['volume', 'inspect', `${project}_webdata`]).stdout);
    assert.equal(volume.Labels['com.docker.compose.project'], project);
    /* the published port, on 127.0.0.1 */
    assert.equal((await get(`http://127.0.0.1:${PORT}/`)).trim(), 'hello-compose');
    /* the client fetched from web by its service name */
    const client = `${project}_client_1`;
    let page = '';
    for (let i = 0; i < 100 && page === ''; i++) {
      const r = spawnSync('docker', ['cp', `${client}:/tmp/page`, '-'], { env: server.env });
      if (r.status === 0) page = execFileSync('tar', ['-xO'], { input: r.stdout }).toString();
      else await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(page.trim(), 'hello-compose');
  });

  test('ps lists both services, running', () => {
    const out = composeOk('ps').stdout;
    for (const service of ['web', 'client']) assert.match(out, new RegExp(`${project}_${service}_1 .* Up`));
    const ids = composeOk('ps', '-q').stdout.trim().split('\n');
    assert.equal(ids.length, 2);
  });

  test('logs shows what the services wrote', () => {
    assert.match(composeOk('logs', '--no-color', 'client').stdout, /client_1\s+\| hello-compose/);
  });

  test('down -v removes the containers, the network and the volume', () => {
    composeOk('down', '-v', '-t', '1');
    const label = `label=com.docker.compose.project=${project}`;
    assert.equal(server.dockerOk(['ps', '-aq', '--filter', label]).stdout.trim(), '');
    assert.equal(server.dockerOk(['network', 'ls', '-q', '--filter', label]).stdout.trim(), '');
    assert.equal(server.dockerOk(['volume', 'ls', '-q', '--filter', label]).stdout.trim(), '');
    for (const b of bridges) assert.equal(bridgeLeft(b, SUBNET), false, `bridge ${b} left behind`);
  });
});
