// A per-key lock, so that concurrent pipelines never run the same stage twice and never
// publish a partial entry.
//
// The lock is a file created with O_EXCL holding {pid, host, since} and, once the stage is
// started, the pid of the stage process. While held, its mtime is refreshed every few seconds
// (a heartbeat). It is stale, and taken over without any manual unlock:
//  - on the same host, when neither the pipeline nor its stage process is alive (signal-0
//    probes). A stage orphaned by a pipeline killed alone keeps the lock until it exits, so a
//    rerun never runs the same key next to it and both never write one scratch folder;
//  - from another host (pids cannot be probed), when the heartbeat stopped long ago.
// Taking over goes through a second O_EXCL file so two waiters cannot both break the same
// stale lock and then both believe they hold it.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

const HEARTBEAT_MS = 2000;
/** A heartbeat older than this means the holder is gone even if its pid seems alive. */
const STALE_MS = 30_000;

export interface LockInfo {
  pid: number;
  host: string;
  since: string;
  stage: string;
  /** The stage process, once started. */
  child?: number;
}

export interface HeldLock {
  /** Records the stage process in the lock (see the header). */
  setChild(pid: number): void;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readInfo(file: string): { info?: LockInfo; mtimeMs: number; raw: string } | undefined {
  try {
    const raw = readFileSync(file, 'utf8');
    const st = statSync(file);
    let info: LockInfo | undefined;
    try {
      info = JSON.parse(raw);
    } catch {
      info = undefined; // half-written by a killed process: judged by age alone
    }
    return { info, mtimeMs: st.mtimeMs, raw };
  } catch {
    return undefined;
  }
}

/** Why the current holder no longer counts, or undefined while it does. */
function staleReason(cur: NonNullable<ReturnType<typeof readInfo>>): string | undefined {
  const info = cur.info;
  if (info && info.host === hostname() && typeof info.pid === 'number') {
    if (alive(info.pid)) return undefined;
    if (typeof info.child === 'number' && alive(info.child)) return undefined; // an orphaned stage still runs
    return `its holder (pid ${info.pid}) is gone`;
  }
  const age = Date.now() - cur.mtimeMs;
  if (age > STALE_MS) return `no heartbeat for ${Math.round(age / 1000)} s`;
  return undefined;
}

function tryCreate(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a stale lock, guarded so that only one waiter does it. */
function breakStale(file: string, seen: string): void {
  const guard = `${file}.break`;
  try {
    if (Date.now() - statSync(guard).mtimeMs > 10_000) rmSync(guard, { force: true });
  } catch {
    /* no guard: fine */
  }
  if (!tryCreate(guard, String(process.pid))) return;
  try {
    const now = readInfo(file);
    if (now && now.raw === seen) rmSync(file, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

export interface AcquireOptions {
  stage: string;
  /** Called once when we start waiting for another holder (for the live view). */
  onWait?: (holder: string) => void;
  /** Called when a stale lock is taken over. */
  onStale?: (why: string) => void;
  /** Aborts the wait (pipeline interrupted). */
  signal?: AbortSignal;
}

/** Waits until the lock on `file` is ours. */
export async function acquireLock(file: string, opts: AcquireOptions): Promise<HeldLock> {
  mkdirSync(dirname(file), { recursive: true });
  const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), stage: opts.stage };
  let content = JSON.stringify(info);
  let waited = false;
  let delay = 25;
  for (;;) {
    if (opts.signal?.aborted) throw new Error('interrupted while waiting for a lock');
    if (tryCreate(file, content)) break;
    const cur = readInfo(file);
    if (!cur) continue; // released between our attempt and the read: try again at once
    const why = staleReason(cur);
    if (why) {
      opts.onStale?.(why);
      breakStale(file, cur.raw);
      continue;
    }
    if (!waited) {
      waited = true;
      const i = cur.info;
      opts.onWait?.(
        !i ? 'another process' : i.host === hostname() && !alive(i.pid) ? `stage pid ${i.child}, left running by a killed pipeline` : `pid ${i.pid} on ${i.host}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
  const beat = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(file, t, t);
    } catch {
      /* the lock vanished (gc by hand?): nothing useful to do here */
    }
  }, HEARTBEAT_MS);
  beat.unref?.();
  let released = false;
  return {
    setChild(pid: number) {
      // tmp + rename: the lock file never disappears or reads half-written meanwhile.
      const next = JSON.stringify({ ...info, child: pid });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, next);
      renameSync(tmp, file);
      content = next;
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const cur = readInfo(file);
      if (cur && cur.raw === content) rmSync(file, { force: true });
    },
  };
}
