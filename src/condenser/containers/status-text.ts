import { timeAgo } from '../../lib/time-ago.js';
import type { ContainerRecord } from './record.js';

/** docker's STATUS column: "Up 5 seconds", "Exited (0) 3 seconds ago", "Created". */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Status === 'running') return `Up ${since(s.StartedAt, now)}`;
  if (s.Status === 'paused') return `Up ${since(s.StartedAt, now)} (Paused)`;
  if (s.Status === 'exited') return `Exited (${s.ExitCode}) ${timeAgo(s.FinishedAt, now)}`;
  return s.Status[0]?.toUpperCase() + s.Status.slice(1);
}

function since(iso: string, now: number): string {
  return timeAgo(iso, now).replace(/ ago$/, '');
}
