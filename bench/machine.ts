// How busy the machine was while a benchmark ran: timings from a loaded machine must not be
// read as the machine's speed. Each benchmark takes a reading when it starts and prints
// `describe()` under its table; the same object goes into its JSON line.
import { availableParallelism, cpus, loadavg } from 'node:os';

export interface MachineState {
  cores: number;
  cpu: string;
  /** 1-minute load average when the benchmark started and when it printed its result. */
  loadAtStart: number;
  loadAtEnd: number;
  /**
   * 'quiet' when the load average stayed under 0.5 above what the benchmark itself adds
   * (`ownLoad`, the cores it keeps busy): other processes then took well under one core.
   */
  verdict: 'quiet' | 'busy';
}

export class MachineWatch {
  private readonly start = loadavg()[0];

  /** @param ownLoad cores this benchmark keeps busy itself (1 for a single-threaded one). */
  constructor(private readonly ownLoad = 1) {}

  state(): MachineState {
    const end = loadavg()[0];
    // The 1-minute average lags: a benchmark that ran for a minute raises it by its own load.
    const others = Math.max(this.start, end - this.ownLoad);
    return {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown cpu',
      loadAtStart: +this.start.toFixed(2),
      loadAtEnd: +end.toFixed(2),
      verdict: others < 0.5 ? 'quiet' : 'busy',
    };
  }

  /** One line for under the table. */
  describe(): string {
    const s = this.state();
    const what = s.verdict === 'quiet'
      ? 'quiet: figures are the machine\'s'
      : 'busy: other processes competed for the cores, figures are indicative only';
    return `machine: ${s.cores} cores (${s.cpu}), load average ${s.loadAtStart} at start, ${s.loadAtEnd} at end: ${what}`;
  }
}
