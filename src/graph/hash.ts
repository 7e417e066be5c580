// Content hashing of files and folders, with a local memo so unchanged files are not reread.
//
// The memo maps an absolute path to (size, mtime in whole milliseconds, sha256). It lives in
// the clone's artifacts/ folder and NEVER enters a cache key: keys are built from the content
// hashes alone, so a store restored into another clone (new paths, new mtimes) still hits;
// there the memo simply misses once and the files are rehashed. Whole milliseconds because
// Deno reports file times at that precision and Node finer: a memo written by one runtime must
// hit in the other.
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readFileSync, renameSync, mkdirSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const MemoEntry = Type.Object({ size: Type.Number(), mtime: Type.Number(), sha256: Type.String() });
const MemoFile = Type.Object({ version: Type.Literal(1), files: Type.Record(Type.String(), MemoEntry) });
type MemoFile = Static<typeof MemoFile>;
/** Compiled: the memo holds an entry per file of every store entry, and every command loads it (the interpreted check cost ms). */
const MemoCheck = TypeCompiler.Compile(MemoFile);

const CHUNK = 4 << 20;

/**
 * sha256 of a file, streaming. Two buffers alternate so the next read is in flight while the
 * current chunk is hashed: on a warm page cache this runs at the speed of sha256 itself.
 */
export async function sha256File(path: string): Promise<string> {
  const fh = await fsp.open(path, 'r');
  try {
    const hash = createHash('sha256');
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let which = 0;
    let pending = fh.read(bufs[0], 0, CHUNK, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const cur = bufs[which];
      which ^= 1;
      pending = fh.read(bufs[which], 0, CHUNK, null);
      hash.update(bytesRead === CHUNK ? cur : cur.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

export class HashMemo {
  private files: MemoFile['files'] = {};
  private dirty = false;
  /** Files actually read and hashed during this process (for the benchmark and tests). */
  hashedBytes = 0;
  hashedFiles = 0;

  /** @param file where the memo is kept (artifacts/hash-memo.json); undefined: in memory only. */
  constructor(readonly file?: string) {
    if (!file) return;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      return; // absent or unreadable: start empty, it is only a speed-up
    }
    if (MemoCheck.Check(raw)) this.files = raw.files;
  }

  /** The content hash of a file, from the memo when size and mtime (whole ms) still match. */
  async hashFile(path: string, st?: Stats): Promise<{ sha256: string; size: number }> {
    st ??= await fsp.stat(path);
    const mtime = Math.floor(st.mtimeMs);
    const m = this.files[path];
    if (m && m.size === st.size && m.mtime === mtime) return { sha256: m.sha256, size: st.size };
    const sha256 = await sha256File(path);
    this.hashedBytes += st.size;
    this.hashedFiles++;
    this.files[path] = { size: st.size, mtime, sha256 };
    this.dirty = true;
    return { sha256, size: st.size };
  }

  /** Records a hash already known (e.g. a file just published into the store). */
  remember(path: string, st: Stats, sha256: string): void {
    this.files[path] = { size: st.size, mtime: Math.floor(st.mtimeMs), sha256 };
    this.dirty = true;
  }

  /** Forgets files that no longer exist (gc); returns how many entries were dropped. */
  prune(): number {
    let n = 0;
    for (const p of Object.keys(this.files)) {
      if (!existsSync(p)) {
        delete this.files[p];
        n++;
      }
    }
    if (n) this.dirty = true;
    return n;
  }

  /** Writes the memo atomically (tmp + rename: readers never see half a file; a concurrent writer may win, which only costs a rehash). */
  save(): void {
    if (!this.file || !this.dirty) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const data = JSON.stringify({ version: 1, files: this.files });
    writeFileSync(tmp, data);
    renameSync(tmp, this.file);
    this.dirty = false;
  }
}

/** One file of a hashed folder, path relative to the folder with forward slashes. */
export interface HashedFile {
  path: string;
  size: number;
  sha256: string;
}

/** Every regular file under a folder, sorted by relative path (symlinks are followed). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await fsp.readdir(d, { withFileTypes: true });
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        const st = await fsp.stat(p);
        if (st.isDirectory()) await walk(p);
        else if (st.isFile()) out.push(p);
      }
    }
  };
  await walk(dir);
  return out.map((p) => relative(dir, p).split(sep).join('/')).sort();
}

/** Hashes every file under a folder (through the memo). */
export async function hashFolder(dir: string, memo: HashMemo): Promise<HashedFile[]> {
  const rels = await listFiles(dir);
  const out: HashedFile[] = [];
  for (const rel of rels) {
    const { sha256, size } = await memo.hashFile(join(dir, rel));
    out.push({ path: rel, size, sha256 });
  }
  return out;
}

/** One hash for a list of files: their paths, sizes and hashes, in path order. */
export function combineFiles(files: readonly HashedFile[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${f.path}\0${f.size}\0${f.sha256}\n`);
  return h.digest('hex');
}
