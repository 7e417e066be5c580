// How busy the machine was while a benchmark ran: timings from a loaded machine must not be
// read as the machine's speed. Each benchmark starts a MachineWatch before it measures and
// prints `describe()` under its table; the same object goes into its JSON line.
//
// The measure is the CPU time that OTHER processes used during the benchmark: all cores' busy
// time (os.cpus()) minus this process's own and its waited-for children's (/proc/self/stat on
// Linux), divided by the wall time. The load average, the obvious alternative, lags by a
// minute: right after another benchmark it still reads ~2 on an idle machine.
import { availableParallelism, cpus, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';

export interface MachineState {
  cores: number;
  cpu: string;
  /** Cores' worth of CPU that other processes used while the benchmark ran (null where unknown). */
  otherCores: number | null;
  /** 1-minute load average at start and end, for reference. */
  loadAtStart: number;
  loadAtEnd: number;
  /** 'quiet' when other processes used under a quarter of a core on average. */
  verdict: 'quiet' | 'busy' | 'unknown';
}

function busyMs(): number {
  let t = 0;
  for (const c of cpus()) t += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return t;
}

/** This process's and its waited-for children's CPU time in ms (Linux), else null. */
function ownMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime are fields 14-17 of the whole line: 12-15 after the name.
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

export class MachineWatch {
  private readonly load0 = loadavg()[0];
  private readonly busy0 = busyMs();
  private readonly own0 = ownMs();
  private readonly t0 = performance.now();

  state(): MachineState {
    const wall = performance.now() - this.t0;
    const own1 = ownMs();
    const otherCores = this.own0 === null || own1 === null || wall <= 0
      ? null
      : Math.max(0, (busyMs() - this.busy0 - (own1 - this.own0)) / wall);
    return {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? 'unknown cpu',
      otherCores: otherCores === null ? null : +otherCores.toFixed(2),
      loadAtStart: +this.load0.toFixed(2),
      loadAtEnd: +loadavg()[0].toFixed(2),
      verdict: otherCores === null ? 'unknown' : otherCores < 0.25 ? 'quiet' : 'busy',
    };
  }

  /** One line for under the table. */
  describe(): string {
    const s = this.state();
    const others = s.otherCores === null ? 'unknown' : `${s.otherCores} cores`;
    const what = s.verdict === 'quiet'
      ? "quiet: the figures are the machine's"
      : s.verdict === 'busy'
        ? 'busy: other processes competed for the cores, figures are indicative only'
        : 'other processes not measurable here, figures are indicative only';
    return `machine: ${s.cores} cores (${s.cpu}); other processes used ${others} on average (load average ${s.loadAtStart} -> ${s.loadAtEnd}): ${what}`;
  }
}
