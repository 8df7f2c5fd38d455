import { isAbsolute } from 'node:path';
import { UsageError, UserError, describeBug, isBug, reason } from '../lib/errors.js';
import { Engine } from '../condenser/engine.js';
import { authFilePath } from '../condenser/registry/auth-file.js';
import { imageInspect, imageList, imagePull, imageRemove, imageTag } from './image.js';
import { login, logout } from './login.js';
import { imagePush } from './push.js';
import { imageLoad, imageSave } from './archive.js';
import { imageHistory } from './history.js';
import { imagePrune } from './prune.js';
import { imageImport } from './import.js';
import { err, out } from './output.js';
import {
  containerCleanup,
  containerCreate,
  containerKill,
  containerPause,
  containerRemove,
  containerRestart,
  containerRun,
  containerStart,
  containerStop,
  containerUnpause,
  containerWait,
} from './container.js';
import { anyInspect, containerInspect, containerList } from './container-list.js';
import { containerLogs } from './container-logs.js';
import { containerExec } from './container-exec.js';
import { containerPort } from './container-port.js';
import { networkCreate, networkInspect, networkList, networkPrune, networkRemove } from './network.js';

const USAGE = `usage: raind [--root DIR] COMMAND [options] [args]

Runs containers from images (the engine, in-process).

image commands:
  image pull [--platform OS/ARCH[/VARIANT]] [--creds USER:PASS] [--insecure-registry HOST]
             [--max-concurrent-downloads N] [-q] REF
  image ls [-a] [--digests] [--filter dangling=true|false|reference=PATTERN]... [--format table|json] [-q]
                                              (also: images)
  image inspect REF...
  image rm [-f] REF...                        (also: rmi)
  image tag SOURCE TARGET                     (also: tag)
  image push [--creds USER:PASS] [--insecure-registry HOST] [-q] REF   (also: push)
  image save [-o FILE] [--format docker-archive|oci-archive] REF...   (also: save)
  image load [-i FILE]                        (also: load; stdin without -i)
  image history [--format table|json] [--no-trunc] [-q] REF   (also: history)
  image prune                                 untagged images, and blobs and layers no image uses
  image import [-c|--change INSTR]... FILE|- [REF]   a rootfs tar as a one-layer image (also: import)
  pull REF                                    same as image pull

network commands:
  network create [--subnet CIDR] [--gateway IP] [--internal] [--label K=V]... NAME
  network ls [-q] [--format table|json]
  network inspect NAME...
  network rm NAME...                          refused while a container is on it
  network prune                               the networks no container is on
  (run/create: --network NAME|none|host, --network-alias A, --ip ADDR, -p [IP:][HOST:]CTR[/tcp|udp],
   -P, --expose PORT, --dns ADDR, --add-host NAME:ADDR;
   port CONTAINER)

registry commands:
  login -u USER [-p PASS | --password-stdin] [--authfile FILE] [--tls-verify=false] REGISTRY
  logout [--authfile FILE] REGISTRY
  (pull takes --authfile FILE, --tls-verify=false, --cert-dir DIR too)

global options:
  --root DIR          the engine's store (default /var/lib/raind)
  --runroot DIR       the runtime state, an absolute path (default /run/raind)
  --certs-dir DIR     per-registry CAs, DIR/HOST:PORT/ca.crt (default /etc/containers/certs.d,
                      /etc/docker/certs.d; also $RAIND_CERTS_DIR)
credentials: --authfile, else $REGISTRY_AUTH_FILE, else /run/containers/UID/auth.json
  -h, --help          print this help
`;

type Command = (engine: Engine, argv: string[]) => number | Promise<number>;

const IMAGE: Record<string, Command> = {
  pull: imagePull,
  ls: imageList,
  list: imageList,
  inspect: imageInspect,
  rm: imageRemove,
  tag: imageTag,
  push: imagePush,
  save: imageSave,
  load: imageLoad,
  history: imageHistory,
  prune: imagePrune,
  import: imageImport,
};

const CONTAINER: Record<string, Command> = {
  create: containerCreate,
  start: containerStart,
  run: containerRun,
  stop: containerStop,
  restart: containerRestart,
  kill: containerKill,
  rm: containerRemove,
  remove: containerRemove,
  ls: containerList,
  list: containerList,
  ps: containerList,
  inspect: containerInspect,
  logs: containerLogs,
  exec: containerExec,
  wait: containerWait,
  pause: containerPause,
  unpause: containerUnpause,
  cleanup: containerCleanup,
  port: containerPort,
};

const NETWORK: Record<string, Command> = {
  create: networkCreate,
  ls: networkList,
  list: networkList,
  inspect: networkInspect,
  rm: networkRemove,
  remove: networkRemove,
  prune: networkPrune,
};

const TOP: Record<string, Command> = {
  create: containerCreate,
  start: containerStart,
  run: containerRun,
  stop: containerStop,
  restart: containerRestart,
  kill: containerKill,
  rm: containerRemove,
  ps: containerList,
  logs: containerLogs,
  exec: containerExec,
  wait: containerWait,
  pause: containerPause,
  unpause: containerUnpause,
  port: containerPort,
  pull: imagePull,
  images: imageList,
  rmi: imageRemove,
  tag: imageTag,
  inspect: anyInspect,
  login,
  logout,
  push: imagePush,
  save: imageSave,
  load: imageLoad,
  history: imageHistory,
  import: imageImport,
};

export async function main(argv: string[]): Promise<number> {
  try {
    let root = '/var/lib/raind';
    let runRoot = '/run/raind';
    let certsDir = process.env.RAIND_CERTS_DIR;
    let i = 0;
    for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
      const a = argv[i]!; /* i < argv.length */
      if (a === '--root') {
        root = argv[++i] ?? '';
        if (!root) throw new UsageError('option --root needs a value');
      } else if (a.startsWith('--root=')) root = a.slice(7);
      else if (a === '--runroot') {
        runRoot = argv[++i] ?? '';
        if (!runRoot) throw new UsageError('option --runroot needs a value');
      } else if (a.startsWith('--runroot=')) runRoot = a.slice(10);
      else if (a === '--certs-dir') {
        certsDir = argv[++i] ?? '';
        if (!certsDir) throw new UsageError('option --certs-dir needs a value');
      } else if (a.startsWith('--certs-dir=')) certsDir = a.slice(12);
      else if (a === '-h' || a === '--help') {
        out(USAGE);
        return 0;
      } else throw new UsageError(`unknown global option "${a}"`);
    }
    if (!isAbsolute(runRoot)) throw new UsageError(`--runroot must be an absolute path, not "${runRoot}"`);
    let name = argv[i];
    let rest = argv.slice(i + 1);
    let table = TOP;
    if (name === 'image' || name === 'container' || name === 'network') {
      table = name === 'image' ? IMAGE : name === 'network' ? NETWORK : CONTAINER;
      name = rest[0];
      rest = rest.slice(1);
    }
    if (name === undefined) throw new UsageError(`no command (raind --help lists them)`);
    const group = table === IMAGE ? 'image ' : table === CONTAINER ? 'container ' : table === NETWORK ? 'network ' : '';
    const command = Object.hasOwn(table, name) ? table[name] : undefined;
    if (command === undefined) throw new UsageError(`unknown command "${group}${name}"`);
    return await command(new Engine({ root, runRoot, authFile: authFilePath(), ...(certsDir ? { certsDirs: [certsDir] } : {}) }), rest);
  } catch (e) {
    if (isBug(e)) {
      err(`raind: ${describeBug(e)}\n`);
      return 1;
    }
    err(`raind: ${reason(e)}\n`);
    return e instanceof UserError ? e.exitCode : 1;
  }
}
