import { rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { UsageError } from '../lib/errors.js';
import type { Engine } from '../condenser/engine.js';
import {
  DEFAULT_SOCKET,
  type ListenAddress,
  type TlsFiles,
  apiDispatcher,
  checkAddress,
  describeAddress,
  listen,
  parseListenAddress,
} from '../condenser/api/index.js';
import { parseOptions } from './container-flags.js';
import { err } from './output.js';

const SERVE_OPTIONS = {
  host: { type: 'string', short: 'H', multiple: true },
  tlsverify: { type: 'boolean' },
  tlscacert: { type: 'string' },
  tlscert: { type: 'string' },
  tlskey: { type: 'string' },
} as const;

declare const Bun: { unsafe?: { setJITPolicy?: (policy: number) => void } } | undefined;

/** serve [-H unix:///PATH | -H tcp://ADDR:PORT | -H fd://[N]]... [--tlsverify --tlscacert CA --tlscert CERT
 * --tlskey KEY]: the Docker Engine API of this store until SIGTERM or SIGINT. */
export async function serve(engine: Engine, argv: string[]): Promise<number> {
  const values = parseOptions('serve', argv, SERVE_OPTIONS);
  const addresses: ListenAddress[] = ((values.host as string[] | undefined) ?? [`unix://${DEFAULT_SOCKET}`]).map(parseListenAddress);
  const tls = tlsFiles(values);
  if (tls === undefined && values.tlsverify) throw new UsageError('serve: --tlsverify needs --tlscacert, --tlscert and --tlskey');
  const served = values.tlsverify ? tls : undefined;
  /* every address is checked before any listens: a refused one leaves no socket behind */
  for (const address of addresses) checkAddress(address, served);
  /* the build holds the JIT back for short commands; a server lives long */
  if (typeof Bun !== 'undefined') Bun?.unsafe?.setJITPolicy?.(1);
  const dispatcher = apiDispatcher(engine);
  const servers: Server[] = [];
  const sockets: string[] = [];
  const closeAll = () => {
    for (const s of servers) s.close();
    for (const path of sockets) rmSync(path, { force: true });
  };
  try {
    for (const address of addresses) {
      servers.push(...(await listen(address, dispatcher, served)));
      if (address.kind === 'unix') sockets.push(address.path);
      err(`raind serve: listening on ${describeAddress(address)}\n`);
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  return new Promise<number>((resolve) => {
    const stop = () => {
      closeAll();
      resolve(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function tlsFiles(values: Record<string, unknown>): TlsFiles | undefined {
  const { tlscacert: ca, tlscert: cert, tlskey: key } = values as Record<string, string | undefined>;
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (!ca || !cert || !key) throw new UsageError('serve: mutual TLS needs all of --tlscacert, --tlscert and --tlskey');
  return { ca, cert, key };
}
