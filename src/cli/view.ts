// How a running pipeline looks: a live table on a terminal, plain lines otherwise.
//
// Both show every line a stage prints, prefixed with `[stage]`. On a terminal a live block
// below the output lists the stages that are not finished (waiting, locked, queued, running
// with elapsed time) plus totals; log-update redraws it in place. When stdout is not a TTY
// (CI, a pipe, a test) each state change is one plain line instead, so logs stay greppable.
import process from 'node:process';
import type { Reporter, StageState } from '../graph/report.ts';

interface Row {
  state: StageState;
  detail?: string;
  since: number;
  ended?: number;
}

const FINISHED: ReadonlySet<StageState> = new Set(['cached', 'done', 'failed', 'blocked']);

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** Shared bookkeeping of both views. */
abstract class BaseView implements Reporter {
  protected rows = new Map<string, Row>();
  protected order: readonly string[] = [];

  constructor(protected readonly out: NodeJS.WritableStream) {}

  start(ids: readonly string[]): void {
    this.order = ids;
    const now = performance.now();
    for (const id of ids) this.rows.set(id, { state: 'waiting', since: now });
  }

  state(id: string, state: StageState, detail?: string): void {
    const now = performance.now();
    const row = this.rows.get(id) ?? { state, since: now };
    // Elapsed time counts from when the stage started running, not from when it was queued.
    if (state === 'running' || row.state === 'waiting') row.since = now;
    row.state = state;
    row.detail = detail;
    if (FINISHED.has(state)) row.ended = now;
    this.rows.set(id, row);
    this.changed(id, row);
  }

  protected summary(): string {
    const counts = new Map<StageState, number>();
    for (const r of this.rows.values()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
    return [...counts].map(([s, n]) => `${s} ${n}`).join(' · ');
  }

  protected abstract changed(id: string, row: Row): void;
  abstract line(id: string, text: string, stream: 'stdout' | 'stderr'): void;
  abstract note(text: string): void;
  abstract finish(): void;
}

/** One line per event: for pipes, CI logs and tests. */
export class PlainView extends BaseView {
  private corked = false;

  /**
   * Lines written in one burst (a no-op run reports hundreds of cached stages at once) leave in
   * one write: the stream is corked until the current tick ends. Nothing waits longer than that.
   */
  private write(text: string): void {
    const out = this.out as NodeJS.WritableStream & { cork?(): void };
    if (!this.corked && out.cork) {
      this.corked = true;
      out.cork();
      process.nextTick(() => this.flush());
    }
    out.write(text);
  }

  private flush(): void {
    if (!this.corked) return;
    this.corked = false;
    (this.out as NodeJS.WritableStream & { uncork(): void }).uncork();
  }

  protected changed(id: string, row: Row): void {
    if (row.state === 'waiting') return;
    const took = row.ended !== undefined && row.state === 'done' ? ` in ${seconds(row.ended - row.since)}` : '';
    this.write(`== ${id}: ${row.state}${took}${row.detail ? ` (${row.detail})` : ''}\n`);
  }

  line(id: string, text: string): void {
    this.write(`[${id}] ${text}\n`);
  }

  note(text: string): void {
    this.write(`-- ${text}\n`);
  }

  finish(): void {
    if (this.rows.size) this.write(`== ${this.summary()}\n`);
    this.flush(); // the command's last words leave now, before main() resolves
  }
}

const SYMBOL: Record<StageState, string> = {
  waiting: '·',
  locked: '⧗',
  queued: '…',
  running: '▶',
  cached: '=',
  done: '✓',
  failed: '✗',
  blocked: '-',
};

type LogUpdate = ((...text: string[]) => void) & { clear(): void; done(): void };

/** A live block redrawn in place (log-update), with stage output scrolling above it. */
export class LiveView extends BaseView {
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(out: NodeJS.WritableStream, private readonly draw: LogUpdate) {
    super(out);
  }

  /** log-update is loaded only when a terminal will use it, to keep start-up light. */
  static async create(out: NodeJS.WritableStream): Promise<LiveView> {
    const { createLogUpdate } = await import('log-update');
    return new LiveView(out, createLogUpdate(out as NodeJS.WriteStream) as LogUpdate);
  }

  override start(ids: readonly string[]): void {
    super.start(ids);
    this.timer = setInterval(() => this.render(), 200);
    this.timer.unref?.();
    this.render();
  }

  private render(): void {
    const now = performance.now();
    const visible = this.order.filter((id) => {
      const r = this.rows.get(id)!;
      return r.state === 'running' || r.state === 'locked' || r.state === 'queued' || r.state === 'failed';
    });
    const lines = visible.slice(0, 20).map((id) => {
      const r = this.rows.get(id)!;
      const t = seconds((r.ended ?? now) - r.since);
      return ` ${SYMBOL[r.state]} ${id.padEnd(24)} ${r.state.padEnd(8)} ${t.padStart(6)}${r.detail ? `  ${r.detail}` : ''}`;
    });
    if (visible.length > 20) lines.push(`   ... and ${visible.length - 20} more`);
    lines.push(` ${this.summary()}`);
    this.draw(lines.join('\n'));
  }

  protected changed(id: string, row: Row): void {
    // Finished stages leave a permanent line; the block shows only what is still moving.
    if (row.state === 'done' || row.state === 'failed' || row.state === 'blocked') {
      const took = row.ended !== undefined && row.state === 'done' ? ` in ${seconds(row.ended - row.since)}` : '';
      this.above(`${SYMBOL[row.state]} ${id} ${row.state}${took}${row.detail ? ` (${row.detail})` : ''}`);
    } else this.render();
  }

  private above(text: string): void {
    this.draw.clear();
    this.out.write(`${text}\n`);
    this.render();
  }

  line(id: string, text: string): void {
    this.above(`[${id}] ${text}`);
  }

  note(text: string): void {
    this.above(`-- ${text}`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.render();
    this.draw.done();
  }
}
