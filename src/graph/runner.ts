// Runs one stage script in a child process and streams its output.
//
// Output lines go to the reporter (prefixed by the view with `[stage]`) and, unprefixed, into
// log.txt of the temporary entry, so a published entry keeps the log of the run that made it.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import process from 'node:process';

export interface RunChildOptions {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Lines written to the log before the child starts (command, devices). */
  header: string[];
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called with the stage process id once it is started. */
  onSpawn?: (pid: number) => void;
  signal: AbortSignal;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: string;
}

/** Splits a byte stream into lines, keeping a partial last line until it completes. */
function lineSplitter(emit: (line: string) => void) {
  let rest = '';
  return {
    push(chunk: string) {
      rest += chunk;
      let i;
      while ((i = rest.indexOf('\n')) >= 0) {
        emit(rest.slice(0, i).replace(/\r$/, ''));
        rest = rest.slice(i + 1);
      }
    },
    end() {
      if (rest) emit(rest);
      rest = '';
    },
  };
}

export function runChild(o: RunChildOptions): Promise<ChildResult> {
  return new Promise((resolve) => {
    const log = createWriteStream(o.logFile);
    for (const h of o.header) log.write(`${h}\n`);
    const child = spawn(o.argv[0], o.argv.slice(1), { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) o.onSpawn?.(child.pid);
    const splitters = {
      stdout: lineSplitter((l) => o.onLine(l, 'stdout')),
      stderr: lineSplitter((l) => o.onLine(l, 'stderr')),
    };
    for (const name of ['stdout', 'stderr'] as const) {
      child[name].setEncoding('utf8');
      child[name].on('data', (chunk: string) => {
        log.write(chunk);
        splitters[name].push(chunk);
      });
    }
    const onAbort = () => {
      child.kill('SIGTERM');
      // A stage that ignores SIGTERM is killed for good after a grace period.
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    let spawnError: string | undefined;
    child.on('error', (e) => {
      spawnError = `${o.argv[0]}: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      o.signal.removeEventListener('abort', onAbort);
      splitters.stdout.end();
      splitters.stderr.end();
      const tail = spawnError ?? (code === 0 ? 'exit 0' : signal ? `killed by ${signal}` : `exit ${code}`);
      log.end(`[pipeline] ${tail}\n`, () => resolve({ code, signal, error: spawnError }));
    });
  });
}

/** The environment for a stage child: ours, plus the device ids it was handed. */
export function childEnv(stage: string, devices: readonly string[], kind: 'gpu' | 'cpu'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RSB_STAGE: stage, RSB_DEVICES: devices.join(',') };
  if (kind === 'gpu') env.CUDA_VISIBLE_DEVICES = devices.join(',');
  return env;
}
