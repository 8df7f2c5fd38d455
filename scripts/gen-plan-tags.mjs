// Writes what both sides of the launch plan need from src/droplet/plan/protocol.ts:
//   src/droplet/plan/tags.ts    the const enums droplet builds records with
//   native/init/plan-tags.h     the same for droplet-init, with each record's field order
// node-gyp compiles the C at install time, before any TypeScript is built: both files are
// committed, and a unit test runs this script with --check.
//   node scripts/gen-plan-tags.mjs           rewrite the files
//   node scripts/gen-plan-tags.mjs --check   exit 1 if a file differs from what it would write
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = 'src/droplet/plan/protocol.ts';
const WIDTH = 100;

async function loadProtocol() {
  const out = await build({
    entryPoints: [repo + SOURCE],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'warning',
  });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
}

/** Words of text in lines of at most WIDTH, the first after `first`, the rest after `rest`. */
function wrap(text, first, rest = first) {
  const lines = [];
  let line = first;
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

const snake = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2');

function fieldText(f) {
  return `${f.name} ${f.kind}${f.count ? ` x ${f.count}` : ''}${f.doc ? ` (${f.doc})` : ''}`;
}

const GENERATED = `Generated from ${SOURCE} by scripts/gen-plan-tags.mjs: edit that file, then run \`npm run gen:plan-tags\`.`;

function header({ RECORDS, ENUMS, SYNC_MESSAGES }) {
  const out = [];
  out.push(
    ...wrap(
      `The launch plan's record tags, each with its fields in order, and the messages between droplet and droplet-init. ${GENERATED}`,
      '/* ',
      ' * ',
    ),
  );
  out.push(' *');
  out.push(
    ...wrap(
      'Field kinds: u64 (8 bytes, little endian), str (UTF-8 with its NUL), bytes (as they are); "name kind x count" repeats a field as many times as the earlier field count says.',
      ' * ',
    ),
  );
  out.push(' *');
  out.push(' * Messages, in the order they pass:');
  for (const m of SYNC_MESSAGES) {
    out.push(' *');
    out.push(...wrap(`${m.from} -> ${m.to}: ${m.message}`, ' *   ', ' *       '));
    out.push(...wrap(`when: ${m.when}`, ' *     ', ' *       '));
    out.push(...wrap(`then: ${m.receiverDoes}`, ' *     ', ' *       '));
  }
  out.push(' */', '#ifndef DROPLET_PLAN_TAGS_H', '#define DROPLET_PLAN_TAGS_H', '', 'enum plan_tag {');
  for (const r of RECORDS) {
    out.push(...wrap(r.doc, '  /* ', '   * '));
    out.push(...wrap(r.fields.length ? r.fields.map(fieldText).join(', ') : '(no fields)', '   * ', '   *   '));
    out[out.length - 1] += ' */';
    out.push(`  T_${snake(r.name).toUpperCase()} = ${r.tag},`);
  }
  out.push('};');
  for (const e of ENUMS) {
    out.push('', `enum ${snake(e.name).toLowerCase()} {`);
    for (const m of e.members) out.push(`  ${e.prefix}${snake(m.name).toUpperCase()} = ${m.value}, /* ${m.doc} */`);
    out.push('};');
  }
  out.push('', '#endif', '');
  return out.join('\n');
}

function tags({ RECORDS, ENUMS }) {
  const out = [...wrap(GENERATED, '/* ', ' * ')];
  out[out.length - 1] += ' */';
  const enumOf = (name, doc, members) => {
    out.push('', `/** ${doc} */`, `export const enum ${name} {`);
    for (const m of members) out.push(`  /** ${m.doc} */`, `  ${m.name} = ${m.value},`);
    out.push('}');
  };
  enumOf(
    'Tag',
    'Record tags of the launch plan; their fields are in protocol.ts.',
    RECORDS.map((r) => ({ name: r.name, value: r.tag, doc: r.doc })),
  );
  for (const e of ENUMS) enumOf(e.name, `Values of ${e.name} fields.`, e.members);
  out.push('');
  return out.join('\n');
}

function check(protocol) {
  const tags = new Set();
  for (const r of protocol.RECORDS) {
    if (tags.has(r.tag)) throw new Error(`${SOURCE}: tag ${r.tag} is used twice`);
    tags.add(r.tag);
    const counts = new Set();
    for (const f of r.fields) {
      if (f.count && !counts.has(f.count))
        throw new Error(`${SOURCE}: ${r.name}.${f.name} counts by ${f.count}, which is no earlier u64 field`);
      if (f.kind === 'u64') counts.add(f.name);
    }
  }
}

const protocol = await loadProtocol();
check(protocol);
const files = { 'native/init/plan-tags.h': header(protocol), 'src/droplet/plan/tags.ts': tags(protocol) };
let stale = 0;
for (const [file, text] of Object.entries(files)) {
  let current = '';
  try {
    current = readFileSync(repo + file, 'utf8');
  } catch {
    /* written below */
  }
  if (current === text) continue;
  if (process.argv.includes('--check')) {
    console.error(`${file} is not what ${SOURCE} makes: run npm run gen:plan-tags`);
    stale++;
  } else writeFileSync(repo + file, text);
}
process.exit(stale ? 1 : 0);
