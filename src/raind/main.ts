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
import { volumeCreate, volumeInspect, volumeList, volumePrune, volumeRemove } from './volume.js';
import { containerAttach } from './container-attach.js';
import { containerCopy, containerExport } from './container-copy.js';
import { containerStats, containerTop } from './container-stats.js';
import { containerPrune, containerRename } from './container-manage.js';
import { systemReset } from './system.js';
import { serve } from './serve.js';
import { ApiClient } from './remote/client.js';
import { remoteCommand } from './remote/commands.js';
import { containerPort } from './container-port.js';
import { networkConnect, networkCreate, networkDisconnect, networkInspect, networkList, networkPrune, networkRemove } from './network.js';

const USAGE = `usage: raind [--root DIR] [--runroot DIR] [--host URL] COMMAND [options] [args]

Runs containers from images (the engine, in-process; conmon watches each container).

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

container commands (also as: container VERB):
  create [OPTIONS] IMAGE [COMMAND...]         the init waits on exec.fifo until start
  run [-d] [-i] [-t] [--rm] [OPTIONS] IMAGE [COMMAND...]
      OPTIONS: --name N, -e K=V, --env-file F, -w DIR, -u USER[:GROUP], --entrypoint CMD,
      -v SRC:DST[:ro], --mount type=...,source=...,target=..., --tmpfs DST[:OPTS], -m SIZE,
      --memory-swap SIZE, --cpus N, --cpu-shares N, --pids-limit N, --cap-add C, --cap-drop C,
      --privileged, --read-only, --security-opt OPT, -h HOST, --restart POLICY, -l K=V,
      --stop-signal SIG, --stop-timeout S, --ulimit NAME=SOFT[:HARD], --init,
      --network NAME|none|host, --runtime droplet|runc|crun, --pull missing|never
  start [-a] [-i] | stop [-t S] | restart [-t S] | kill [-s SIG] | pause | unpause | wait  CONTAINER...
  rm [-f] [-v] CONTAINER...
  ps [-a] [-q] [-l] [--filter KEY=VALUE]... [--format table|json] [--no-trunc]
  inspect CONTAINER|IMAGE...
  logs [-f] [--since T] [--until T] [--tail N] [-t] CONTAINER
  exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] [--privileged] CONTAINER COMMAND...

volume commands:
  volume create [--label K=V]... [NAME]       a 64-hex name without NAME
  volume ls [-q] [--format table|json] [--filter name=|label=|dangling=|driver=]...
  volume inspect NAME...
  volume rm [-f] NAME...                      refused while a container uses the volume
  volume prune [-a]                           unused anonymous volumes; -a: unused named ones too

container files, processes and housekeeping (also under container):
  cp [-a] [-L] CONTAINER:SRC DEST|-  /  cp [-a] [-L] SRC|- CONTAINER:DEST
  export [-o FILE] CONTAINER                  the root filesystem as a tar
  top CONTAINER [ps options]                  its processes (default ps -f)
  stats [-a] [--no-stream] [--format table|json] [CONTAINER...]
  rename CONTAINER NEW_NAME
  port CONTAINER
  container prune [-f]                        removes every container that is not running
  system reset [-f]                           removes every container, image and volume

network commands:
  network create [--subnet CIDR]... [--gateway IP] [--ip-range CIDR] [--ipv6] [--internal] [--label K=V]... NAME
  network ls [-q] [--format table|json]
  network inspect NAME...
  network rm NAME...                          refused while a container is on it
  network prune                               the networks no container is on
  network connect [--alias A]... [--ip IP] NETWORK CONTAINER
  network disconnect [-f] NETWORK CONTAINER
  (run/create: --network NAME|none|host, --network-alias A, --ip ADDR, -p [IP:][HOST:]CTR[/tcp|udp],
   -P, --expose PORT, --dns ADDR, --add-host NAME:ADDR;
   port CONTAINER)

API server:
  serve [-H unix:///PATH | -H tcp://ADDR:PORT | -H fd://[N]]... [--tlsverify --tlscacert CA --tlscert CERT --tlskey KEY]
                                              the Docker Engine API (default unix:///run/raind/raind.sock,
                                              0660, group raind); TCP only with mutual TLS
                                              (also: system service)

registry commands:
  login -u USER [-p PASS | --password-stdin] [--authfile FILE] [--tls-verify=false] REGISTRY
  logout [--authfile FILE] REGISTRY
  (pull takes --authfile FILE, --tls-verify=false, --cert-dir DIR too)

global options:
  --root DIR          the engine's store (default /var/lib/raind)
  --runroot DIR       the runtime state, an absolute path (default /run/raind)
  -H, --host URL      a served engine instead (raind serve): unix:///PATH, or tcp://ADDR:PORT
                      with the client certificate in DOCKER_CERT_PATH; also RAIND_HOST.
                      version, ps, images, inspect, create, run (no -i, -t), start, stop, rm, logs, pull
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
  attach: containerAttach,
  wait: containerWait,
  pause: containerPause,
  unpause: containerUnpause,
  cleanup: containerCleanup,
  cp: containerCopy,
  export: containerExport,
  top: containerTop,
  stats: containerStats,
  rename: containerRename,
  port: containerPort,
  prune: containerPrune,
};

const NETWORK: Record<string, Command> = {
  create: networkCreate,
  ls: networkList,
  list: networkList,
  inspect: networkInspect,
  rm: networkRemove,
  remove: networkRemove,
  prune: networkPrune,
  connect: networkConnect,
  disconnect: networkDisconnect,
};

const SYSTEM: Record<string, Command> = {
  reset: systemReset,
  service: serve,
};

const VOLUME: Record<string, Command> = {
  create: volumeCreate,
  ls: volumeList,
  list: volumeList,
  inspect: volumeInspect,
  rm: volumeRemove,
  remove: volumeRemove,
  prune: volumePrune,
};

const GROUPS: Record<string, Record<string, Command>> = {
  image: IMAGE,
  container: CONTAINER,
  volume: VOLUME,
  system: SYSTEM,
  network: NETWORK,
};

const pick = (table: Record<string, Command>, names: string[]): Record<string, Command> =>
  Object.fromEntries(names.map((n) => [n, table[n] as Command]));

/** docker's short forms (`raind run` is `raind container run`), and the commands of no group */
const TOP: Record<string, Command> = {
  ...pick(CONTAINER, [
    'create',
    'start',
    'run',
    'stop',
    'restart',
    'kill',
    'rm',
    'ps',
    'logs',
    'exec',
    'attach',
    'wait',
    'pause',
    'unpause',
    'port',
    'cp',
    'export',
    'top',
    'stats',
    'rename',
  ]),
  ...pick(IMAGE, ['pull', 'tag', 'push', 'save', 'load', 'history', 'import']),
  images: imageList,
  rmi: imageRemove,
  /* a container's, else an image's, as docker's */
  inspect: anyInspect,
  login,
  logout,
  serve,
};

export async function main(argv: string[]): Promise<number> {
  try {
    let root = '/var/lib/raind';
    let runRoot = '/run/raind';
    let certsDir = process.env.RAIND_CERTS_DIR;
    let host = process.env.RAIND_HOST || undefined;
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
      else if (a === '--host' || a === '-H') {
        host = argv[++i] ?? '';
        if (!host) throw new UsageError(`option ${a} needs a value`);
      } else if (a.startsWith('--host=')) host = a.slice(7);
      else if (a === '-h' || a === '--help') {
        out(USAGE);
        return 0;
      } else throw new UsageError(`unknown global option "${a}"`);
    }
    if (!isAbsolute(runRoot)) throw new UsageError(`--runroot must be an absolute path, not "${runRoot}"`);
    let name = argv[i];
    let rest = argv.slice(i + 1);
    let table = TOP;
    let group = '';
    if (name !== undefined && Object.hasOwn(GROUPS, name)) {
      table = GROUPS[name] ?? TOP;
      group = `${name} `;
      name = rest[0];
      rest = rest.slice(1);
    }
    if (name === undefined) throw new UsageError(`no command (raind --help lists them)`);
    if (host !== undefined) return await remoteCommand(new ApiClient(host), `${group}${name}`, rest);
    const command = Object.hasOwn(table, name) ? table[name] : undefined;
    if (command === undefined) throw new UsageError(`unknown command "${group}${name}"`);
    if (rest[0] === '--help') {
      out(usageOf(name));
      return 0;
    }
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

/** The lines of the help that show the command (and the lines that continue them), or the
 * whole help when none do. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const words = line.trim().split(/\s+/);
    if (!line.startsWith('  ') || line.startsWith('   ') || !(words[0] === command || (words[0] === 'image' && words[1] === command)))
      continue;
    picked.push(line);
    while ((lines[i + 1] ?? '').startsWith('      ')) picked.push(lines[++i] ?? '');
  }
  return picked.length > 0 ? `usage: raind ${picked.map((l) => l.slice(2)).join('\n')}\n` : USAGE;
}
