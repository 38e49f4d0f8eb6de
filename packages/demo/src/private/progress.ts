// Progress bars for the demo's long steps. On a terminal one line is redrawn in place; when the output
// is a file or a CI log (not a TTY) a plain line is written at each 10% and at most every 15 s, so
// the log stays readable.

export interface Progress {
  /** Sets the done count (and optionally the total and a short status text). */
  update(done: number, info?: { total?: number; status?: string }): void;
  /** Marks the step done and prints its final line with the elapsed time. */
  finish(status?: string): void;
  /** Prints the step as failed. */
  fail(message: string): void;
}

export interface ProgressWriter {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

const WIDTH = 24;

function bar(fraction: number): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * WIDTH);
  return `[${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}]`;
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A progress bar for one step; `total` 0 means unknown (a spinner-less elapsed-time line). */
export function progress(label: string, total: number, out: ProgressWriter = process.stdout): Progress {
  const t0 = performance.now();
  const tty = Boolean(out.isTTY);
  let done = 0;
  let status = '';
  let lastDecile = -1;
  let lastPrint = 0;
  let closed = false;
  const elapsed = () => (performance.now() - t0) / 1000;
  const line = () => {
    const frac = total > 0 ? done / total : 0;
    const count =
      total > 0
        ? `${done}/${total} ${String(Math.round(frac * 100)).padStart(3)}%`
        : done > 0
          ? `${done}`
          : '';
    const eta =
      total > 0 && done > 0 && done < total ? ` eta ${clock((elapsed() * (total - done)) / done)}` : '';
    return `${label.padEnd(22)} ${total > 0 ? `${bar(frac)} ` : ''}${count} ${clock(elapsed())}${eta}${status ? `  ${status}` : ''}`;
  };
  const draw = () => {
    if (tty) {
      const cols = out.columns ?? 120;
      out.write(
        `\r${line()
          .slice(0, cols - 1)
          .padEnd(Math.min(cols - 1, 100))}`,
      );
      return;
    }
    const decile = total > 0 ? Math.floor((10 * done) / total) : -1;
    const now = elapsed();
    if (decile !== lastDecile || now - lastPrint >= 15) {
      lastDecile = decile;
      lastPrint = now;
      out.write(`${line()}\n`);
    }
  };
  draw();
  // Redraws the elapsed time while nothing reports (e.g. a build that gives no counts).
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    update(d, info) {
      if (closed) return;
      done = d;
      if (info?.total !== undefined) total = info.total;
      if (info?.status !== undefined) status = info.status;
      draw();
    },
    finish(s) {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      if (total > 0) done = total;
      if (s !== undefined) status = s;
      out.write(`${tty ? '\r' : ''}${line()}  done\n`);
    },
    fail(message) {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      out.write(`${tty ? '\r' : ''}${line()}  FAILED: ${message}\n`);
    },
  };
}
