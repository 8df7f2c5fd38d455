// Prints bench/run.sh's results as two markdown tables (the README shows them as they are):
// the median time of each command per runtime with droplet's ratios, and peak RSS.
// Usage: node bench/summary.mjs HYPERFINE.json RSS.json [crun-skip-note]
import { readFileSync } from 'node:fs';

const [timesFile, rssFile, crunNote] = process.argv.slice(2);
if (!timesFile || !rssFile) {
  console.error('usage: summary.mjs HYPERFINE.json RSS.json [crun-skip-note]');
  process.exit(2);
}

const { results } = JSON.parse(readFileSync(timesFile, 'utf8'));
const rss = JSON.parse(readFileSync(rssFile, 'utf8'));
const RUNTIMES = ['droplet', 'runc', 'crun'];
const COMMANDS = [
  ['run', 'run /bin/true'],
  ['create', 'create'],
  ['start', 'start'],
  ['delete', 'delete'],
  ['state', 'state'],
];
/* hyperfine names each command "<runtime> <command>" */
const median = new Map(results.map((r) => [r.command, r.median * 1000]));
const has = (rt) => median.has(`${rt} run`);

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(rows[0]));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows.slice(1)) console.log(line(r));
}

const others = RUNTIMES.slice(1).filter(has);
const times = [['median ms', ...RUNTIMES.filter(has), ...others.map((o) => `droplet/${o}`)]];
for (const [key, label] of COMMANDS) {
  const d = median.get(`droplet ${key}`);
  times.push([
    label,
    ...RUNTIMES.filter(has).map((rt) => median.get(`${rt} ${key}`).toFixed(1)),
    ...others.map((o) => `${(d / median.get(`${o} ${key}`)).toFixed(2)}x`),
  ]);
}
table(times);
if (!has('crun')) console.log(`\ncrun: skipped${crunNote ? ` (${crunNote})` : ''}`);

const mb = (kb) => (kb / 1024).toFixed(1);
console.log('');
const present = RUNTIMES.filter((rt) => rss[rt]);
const mem = [['peak RSS MB', ...present]];
for (const [key, label] of COMMANDS) mem.push([label, ...present.map((rt) => mb(rss[rt][key]))]);
mem.push(['init waiting on exec.fifo', ...present.map((rt) => mb(rss[rt].init))]);
table(mem);

const { anon, file } = rss.dropletRun;
console.log(
  `\ndroplet during a foreground run: ${mb(anon)} MB its own (anonymous), ${mb(file)} MB the executable's pages (file-backed, shared through the page cache)`,
);
console.log(`install (bin/droplet + libexec/raind): ${mb(rss.installKB)} MB`);
