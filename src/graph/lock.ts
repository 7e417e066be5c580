// A per-key lock, so that concurrent pipelines never run the same stage twice and never
// publish a partial entry.
//
// The lock is a file created with O_EXCL holding {pid, host, since}. While held, its mtime is
// refreshed every few seconds (a heartbeat). It is stale, and taken over without any manual
// unlock, when its process is dead (same host: a signal-0 probe) or when its heartbeat stopped
// long ago (another host, or a reused pid). Taking over goes through a second O_EXCL file so
// two waiters cannot both break the same stale lock and then both believe they hold it.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
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
}

export interface HeldLock {
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
  const age = Date.now() - cur.mtimeMs;
  if (cur.info && cur.info.host === hostname() && typeof cur.info.pid === 'number' && !alive(cur.info.pid)) {
    return `its holder (pid ${cur.info.pid}) is gone`;
  }
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
  const content = JSON.stringify(info);
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
      opts.onWait?.(cur.info ? `pid ${cur.info.pid} on ${cur.info.host}` : 'another process');
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
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      const cur = readInfo(file);
      if (cur && cur.raw === content) rmSync(file, { force: true });
    },
  };
}
