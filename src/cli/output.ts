/**
 * What the bin writes: results on stdout, notes, progress and failures on stderr. Colour only
 * when the stream is a terminal and `NO_COLOR` is not set (https://no-color.org).
 */
import type { Io } from './command.js';

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const PLAIN: Style = { bold: (t) => t, dim: (t) => t, red: (t) => t, green: (t) => t, yellow: (t) => t };
const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const ANSI: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39) };

/** True when `stream` should get colour: a terminal, and `NO_COLOR` unset or empty. */
export function wantsColor(stream: { isTTY?: boolean }, env: Io['env']): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export class Output {
  readonly styleOut: Style;
  readonly styleErr: Style;

  constructor(readonly io: Io) {
    this.styleOut = wantsColor(io.stdout, io.env) ? ANSI : PLAIN;
    this.styleErr = wantsColor(io.stderr, io.env) ? ANSI : PLAIN;
  }

  /** A result line, on stdout. */
  line(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A note about what happened (migrations applied, where the next page is), on stderr. */
  note(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  /** A JSON document on stdout. */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * Progress of a long run, on stderr: one line rewritten in place on a terminal; on anything
   * else, a plain line every `every` items, so logs stay readable and free of escape codes.
   */
  progress(label: string, total: number, every = 100): { update(done: number): void; end(): void } {
    const tty = this.io.stderr.isTTY === true;
    let lastPrinted = 0;
    let drawn = false;
    return {
      update: (done) => {
        if (tty) {
          this.io.stderr.write(`\r${label} ${done}/${total}`);
          drawn = true;
        } else if (done - lastPrinted >= every || (done === total && lastPrinted !== total)) {
          this.io.stderr.write(`${label} ${done}/${total}\n`);
          lastPrinted = done;
        }
      },
      end: () => {
        if (tty && drawn) this.io.stderr.write('\n');
      },
    };
  }

  /** Renders rows as a left-aligned table with a header, two spaces between columns. */
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const render = (cells: readonly string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd();
    this.line(this.styleOut.bold(render(headers)));
    for (const row of rows) this.line(render(row));
  }
}
