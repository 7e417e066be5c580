// Live progress of a training run: a one-line bar rewritten in place on a terminal, plain
// log lines otherwise (CI logs, the orchestrator's stage-prefixed output, a file).
//
// The bar shows what a user waiting on a run wants: epoch, step within the epoch,
// images/s, ETA for the whole run, the running loss and the current LR.
import { createLogUpdate } from 'log-update';

export interface ProgressState {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  imagesPerSec: number;
  /** Seconds left for the whole run (remaining steps at the current rate). */
  eta: number;
  loss: number;
  lr: number;
}

export interface Progress {
  update(s: ProgressState): void;
  /** A line that must stay (epoch summary, notice); on a TTY it is printed above the bar. */
  log(line: string): void;
  done(): void;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (x: number) => String(x).padStart(2, '0');
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

export function formatProgress(s: ProgressState, width = 24): string {
  const frac = s.steps ? s.step / s.steps : 0;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  return `epoch ${s.epoch + 1}/${s.epochs} [${bar}] step ${s.step}/${s.steps}  ${s.imagesPerSec.toFixed(1)} img/s  ETA ${formatDuration(s.eta)}  loss ${s.loss.toFixed(4)}  lr ${s.lr.toExponential(2)}`;
}

/**
 * A progress reporter for the given stream. On a TTY the bar is redrawn at most every 100 ms;
 * otherwise a plain line is written at most every `plainEverySec` seconds (and always for the
 * last step of an epoch), so logs stay readable. RSB_PROGRESS_EVERY=0 prints every step (tests use it).
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, plainEverySec = Number(process.env.RSB_PROGRESS_EVERY ?? 10)): Progress {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  if (tty) {
    const draw = createLogUpdate(stream);
    let last = 0;
    return {
      update(s) {
        const now = Date.now();
        if (now - last < 100 && s.step < s.steps) return;
        last = now;
        draw(formatProgress(s));
      },
      log(line) {
        draw.clear();
        stream.write(line + '\n');
      },
      done() {
        draw.done();
      },
    };
  }
  let last = 0;
  return {
    update(s) {
      const now = Date.now();
      if (s.step < s.steps && now - last < plainEverySec * 1000) return;
      last = now;
      stream.write(formatProgress(s, 0).replace(' [] ', ' ') + '\n');
    },
    log(line) {
      stream.write(line + '\n');
    },
    done() {},
  };
}
