import type { LayerEvent } from '../condenser/engine.js';
import { humanSize } from './output.js';

/** A pull's progress as docker shows it. On a terminal: one line per layer, its short digest,
 * status and, while downloading, a bar with the bytes, redrawn in place. Elsewhere (a log, a
 * pipe): one plain line per change of a layer's status, no bars. */
export class PullProgress {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly statuses = new Map<string, string>();
  private drawn = 0;
  private lastDraw = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: boolean,
  ) {}

  readonly layer = (e: LayerEvent): void => {
    const id = e.digest.slice('sha256:'.length, 'sha256:'.length + 12);
    if (!this.lines.has(id)) this.order.push(id);
    const previous = this.lines.get(id);
    const changed = this.statuses.get(id) !== e.status;
    this.statuses.set(id, e.status);
    const line = `${id}: ${e.status}${e.status === 'Downloading' && e.total ? ` ${bar(e.current ?? 0, e.total)}` : ''}`;
    this.lines.set(id, line);
    if (!this.terminal) {
      if (e.status !== 'Downloading' && line !== previous) this.write(`${line}\n`);
      return;
    }
    /* bytes arrive in many small steps: redraw them ten times a second, a new status at once */
    const now = Date.now();
    if (!changed && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.redraw();
  };

  /** A line of its own, below the layers (a warning, the digest). */
  readonly say = (text: string): void => {
    this.write(`${text}\n`);
    /* the layer lines above are no longer the last ones: draw them again from here on */
    this.drawn = 0;
  };

  private redraw(): void {
    let text = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const id of this.order) text += `\x1b[2K${this.lines.get(id)}\n`;
    this.drawn = this.order.length;
    this.write(text);
  }
}

/** [=====>          ]  12.3MB/45.6MB, as docker's. */
export function bar(current: number, total: number, width = 50): string {
  const filled = Math.min(width, Math.floor((current / total) * width));
  const arrow = filled < width ? '>' : '';
  return `[${'='.repeat(filled)}${arrow}${' '.repeat(Math.max(0, width - filled - arrow.length))}]  ${humanSize(current)}/${humanSize(total)}`;
}
