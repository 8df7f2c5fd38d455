// Builds the shipped tree in dist/, laid out as an install prefix:
//   dist/bin/droplet               one executable compiled by Bun from src/main.ts
//   dist/libexec/raind/            droplet-init and the addon (node-gyp's build/Release)
// The executable finds libexec/raind from its own path, so dist/ runs as it is and
// scripts/install.sh copies it to a prefix unchanged.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(repo, 'dist');
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

/** The programs of the multi-call executable (src/main.ts): the first is the file, the
 * others are links to it. */
const PROGRAMS = ['droplet', 'raind'];

/** Bun from its npm package for this machine (the binary is in the package, nothing is
 * downloaded); it also serves as the base of the executable it compiles. */
function bun() {
  const arch = { x64: 'x64', arm64: 'aarch64' }[process.arch] ?? process.arch;
  const pkg = `@oven/bun-${process.platform}-${arch}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', 'bun');
  } catch {
    throw new Error(`${pkg} is not installed (npm ci installs the one package.json names)`);
  }
}

const bin = join(dist, 'bin');
const libexec = join(dist, 'libexec', 'raind');
mkdirSync(bin, { recursive: true });
mkdirSync(libexec, { recursive: true });
/* what earlier layouts left in dist/ */
for (const e of readdirSync(dist)) if (e !== 'bin' && e !== 'libexec') rmSync(join(dist, e), { recursive: true, force: true });

/* Every file is written aside and renamed into place: a droplet that is running keeps its
 * old executable, and a new start never sees half a file. */
const release = join(repo, 'build', 'Release');
for (const f of ['droplet-init', 'droplet_native.node']) {
  const from = join(release, f);
  if (!existsSync(from)) throw new Error(`${from} is missing: build it with npm run build:native`);
  copyFileSync(from, join(libexec, `.${f}.new`));
  renameSync(join(libexec, `.${f}.new`), join(libexec, f));
}

const bunBin = bun();
const main = PROGRAMS[0];
const tmp = join(bin, `.${main}.new`);
execFileSync(
  bunBin,
  [
    'build',
    join(repo, 'src', 'main.ts'),
    '--compile',
    '--bytecode',
    '--minify',
    `--compile-executable-path=${bunBin}`,
    /* a runtime started by podman or containerd in some directory must not read its .env */
    '--no-compile-autoload-dotenv',
    '--no-compile-autoload-bunfig',
    /* A command lives for milliseconds: JIT-compiling its hot loops (the config reader, the
     * seccomp compiler) cost more than it saved, 2-5 ms of a run and 3 MB. The interpreter
     * runs the bytecode; a long-lived program sets the policy back to 1 (Bun.unsafe.setJITPolicy). */
    '--compile-jit-policy=1000',
    '--define',
    `DROPLET_VERSION=${JSON.stringify(version)}`,
    '--define',
    'RAIND_EXECUTABLE=true',
    '--outfile',
    tmp,
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
renameSync(tmp, join(bin, main));
for (const link of PROGRAMS.slice(1)) {
  rmSync(join(bin, link), { force: true });
  symlinkSync(main, join(bin, link));
}
