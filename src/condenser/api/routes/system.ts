import { existsSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import type { Router } from '../router.js';
import { RUNTIMES } from '../../runtime/oci-runtime.js';
import { sendJson } from '../http-io.js';
import { API_VERSION, MIN_API_VERSION } from '../version.js';

declare const DROPLET_VERSION: string;

/** The engine's version: the package's, as the executable was built. */
export const ENGINE_VERSION = typeof DROPLET_VERSION === 'string' ? DROPLET_VERSION : '0.0.0-dev';

/** /_ping, /version, /info: what clients ask first, to pick the API version and show `docker info`. */
export function systemRoutes(router: Router): void {
  const ping = (r: Parameters<Parameters<Router['get']>[1]>[0]) => {
    r.res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
    r.res.end(r.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  router.get('/version', (r) => {
    const details = {
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      Os: 'linux',
      Arch: process.arch === 'x64' ? 'amd64' : process.arch,
      KernelVersion: release(),
      Experimental: 'false',
      GitCommit: '',
      GoVersion: '',
      BuildTime: '',
    };
    sendJson(r.res, 200, {
      Platform: { Name: 'Raind' },
      Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: details }],
      Version: ENGINE_VERSION,
      ...details,
      Experimental: false,
    });
  });

  router.get('/info', (r) => {
    const containers = r.engine.containers.list();
    const count = (status: string) => containers.filter((c) => c.State.Status === status).length;
    const running = count('running');
    const paused = count('paused');
    sendJson(r.res, 200, {
      ID: hostname(),
      Name: hostname(),
      Containers: containers.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: containers.length - running - paused,
      Images: r.engine.listImages().length,
      Driver: 'overlay',
      DriverStatus: [],
      DockerRootDir: r.engine.opts.root,
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'k8s-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
      KernelVersion: release(),
      OperatingSystem: 'Linux',
      OSType: 'linux',
      Architecture: process.arch === 'x64' ? 'x86_64' : process.arch,
      NCPU: cpus().length,
      MemTotal: totalmem(),
      IndexServerAddress: '',
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
      Runtimes: Object.fromEntries(RUNTIMES.map((name) => [name, { path: name }])),
      DefaultRuntime: 'droplet',
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Log: ['k8s-file'] },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      ServerVersion: ENGINE_VERSION,
      Labels: [],
      ExperimentalBuild: false,
      Warnings: [],
    });
  });
}
