// Reads a hyperfine --export-json file and prints a short table plus the
// "droplet ... | runc ... | crun ..." summary line used by bench/run.sh.
// Usage: node bench/summary.mjs RESULTS.json [crun-skip-note]
import { readFileSync } from 'node:fs';

const [file, crunNote] = process.argv.slice(2);
if (!file) {
  console.error('usage: summary.mjs RESULTS.json [crun-skip-note]');
  process.exit(2);
}

const { results } = JSON.parse(readFileSync(file, 'utf8'));
const ms = (s) => (s * 1000).toFixed(1);
const byName = new Map(results.map((r) => [r.command, r]));

// Table: hyperfine reports seconds; show milliseconds.
const rows = [['runtime', 'median ms', 'mean ms', 'stddev ms', 'min ms', 'max ms', 'runs']];
for (const r of results) {
  rows.push([r.command, ms(r.median), ms(r.mean), ms(r.stddev ?? 0), ms(r.min), ms(r.max), String(r.times.length)]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
for (const row of rows) {
  console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
}

const median = (name) => byName.get(name)?.median;
const d = median('droplet');
const parts = [`droplet run /bin/true: median ${ms(d)} ms`];
for (const other of ['runc', 'crun']) {
  const m = median(other);
  parts.push(m === undefined ? `${other}: skipped${other === 'crun' && crunNote ? ` (${crunNote})` : ''}` : `${other}: ${ms(m)} ms`);
}
for (const other of ['runc', 'crun']) {
  const m = median(other);
  parts.push(`droplet/${other} = ${m === undefined ? 'n/a' : `${(d / m).toFixed(2)}x`}`);
}
console.log('');
console.log(parts.join(' | '));
