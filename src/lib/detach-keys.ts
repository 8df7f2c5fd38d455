import { UsageError } from '../lib/errors.js';

/** docker's default: ctrl-p then ctrl-q. */
export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** docker's --detach-keys: keys separated by commas, each one character or `ctrl-X` with X
 * a letter or one of @ [ \ ] ^ _. The empty string turns detaching off (podman's rule). */
export function parseDetachKeys(text: string, flag: string): Buffer {
  if (text === '') return Buffer.alloc(0);
  const bytes = text.split(',').map((key) => {
    const lower = key.toLowerCase();
    if (key.length === 1) return key.charCodeAt(0);
    const ctrl = /^ctrl-(.)$/.exec(lower)?.[1];
    if (ctrl !== undefined) {
      if (ctrl >= 'a' && ctrl <= 'z') return ctrl.charCodeAt(0) - 'a'.charCodeAt(0) + 1;
      const other = '@[\\]^_'.indexOf(ctrl);
      if (other >= 0) return other === 0 ? 0 : 27 + other - 1;
    }
    throw new UsageError(`${flag}: "${key}" is not a key: use one character or ctrl-<letter> (such as ctrl-p,ctrl-q)`);
  });
  if (bytes.some((b) => b > 127)) throw new UsageError(`${flag}: only ASCII keys can detach`);
  return Buffer.from(bytes);
}

/** Watches input for the detach sequence. Keys that begin the sequence are held back until
 * it is clear whether they complete it; if not, they go on with what follows, as docker does. */
export class DetachKeyFilter {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** The input to pass on, and whether the sequence is complete (then nothing after it is). */
  feed(chunk: Buffer): { pass: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { pass: chunk, detach: false };
    const pass: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) return { pass: Buffer.from(pass), detach: true };
        continue;
      }
      /* the held keys were input after all */
      pass.push(...this.keys.subarray(0, this.matched));
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else pass.push(byte);
    }
    return { pass: Buffer.from(pass), detach: false };
  }
}
