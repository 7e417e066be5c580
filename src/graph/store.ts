// The content-addressed artifact store: <cacheDir>/<key>/{manifest.json, out/, log.txt}.
//
// An entry is immutable once published. It is built in <cacheDir>/.tmp/<key>.<pid>.<n>/ and
// moved into place with one rename, so a reader sees either no entry or a whole one, and a
// killed run leaves only a temporary folder (removed by the next run or `gc`). The manifest
// lists every output file with its size and sha256; an entry whose files no longer match it
// (edited, truncated, extra or missing files) is a miss and gets recomputed, never reused.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combineFiles, hashFolder, HashMemo, type HashedFile } from './hash.ts';

export const Manifest = Type.Object({
  version: Type.Literal(1),
  key: Type.String(),
  stage: Type.String(),
  /** Output files (relative to out/), sorted by path. */
  files: Type.Array(Type.Object({ path: Type.String(), size: Type.Number(), sha256: Type.String() })),
  /** combineFiles(files): what downstream keys are built from. */
  outputHash: Type.String(),
  createdAt: Type.String(),
  durationMs: Type.Number(),
});
export type Manifest = Static<typeof Manifest>;

/** Compiled once: a no-op run checks every manifest of the graph. */
const ManifestCheck = TypeCompiler.Compile(Manifest);

/**
 * Files under an entry's out/ folder, relative and sorted. Synchronous, because entries are
 * small and this is the hot path of a no-op run; a flat folder (the usual case) costs one
 * readdir without file types.
 */
function listEntryFiles(dir: string, flat: boolean): string[] {
  if (flat) return readdirSync(dir).sort();
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

export type Verdict = { ok: true; manifest: Manifest } | { ok: false; problem: string; absent?: boolean };

export class Store {
  readonly tmpDir: string;
  readonly lockDir: string;
  private seq = 0;

  constructor(readonly dir: string) {
    this.tmpDir = join(dir, '.tmp');
    this.lockDir = join(dir, '.locks');
  }

  entryDir(key: string): string {
    return join(this.dir, key);
  }

  outDir(key: string): string {
    return join(this.dir, key, 'out');
  }

  lockFile(key: string): string {
    return join(this.lockDir, `${key}.lock`);
  }

  /** Reads an entry's manifest; `undefined` when the entry does not exist. */
  readManifest(key: string): Manifest | { problem: string } | undefined {
    const file = join(this.entryDir(key), 'manifest.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { problem: `${file}: ${(e as Error).message}` };
    }
    try {
      const raw = JSON.parse(text);
      if (ManifestCheck.Check(raw) && raw.key === key) return raw;
      return { problem: `${file} is not a valid manifest for this key` };
    } catch (e) {
      return { problem: `${file}: ${(e as Error).message}` };
    }
  }

  /**
   * Checks an entry against its manifest. Sizes and the set of files are checked directly;
   * contents through the hash memo, so an untouched entry is not reread (an edit changes the
   * mtime, which makes the memo miss and the file be rehashed).
   */
  async verify(key: string, memo: HashMemo): Promise<Verdict> {
    const m = this.readManifest(key);
    if (m === undefined) return { ok: false, problem: 'no cache entry', absent: true };
    if ('problem' in m) return { ok: false, problem: m.problem };
    const out = this.outDir(key);
    let present: string[];
    try {
      // A subfolder name in a flat listing shows up as an unlisted "file": still a mismatch.
      present = listEntryFiles(out, m.files.every((f) => !f.path.includes('/')));
    } catch {
      return { ok: false, problem: `its output folder ${out} is missing` };
    }
    const listed = new Set(m.files.map((f) => f.path));
    const extra = present.find((p) => !listed.has(p));
    if (extra) return { ok: false, problem: `out/${extra} is not in its manifest` };
    for (const f of m.files) {
      const p = join(out, f.path);
      let st;
      try {
        st = statSync(p);
      } catch {
        return { ok: false, problem: `out/${f.path} is missing` };
      }
      if (st.size !== f.size) return { ok: false, problem: `out/${f.path} has ${st.size} bytes, its manifest says ${f.size}` };
      const { sha256 } = await memo.hashFile(p, st);
      if (sha256 !== f.sha256) return { ok: false, problem: `out/${f.path} does not match its manifest hash` };
    }
    return { ok: true, manifest: m };
  }

  /** A fresh temporary entry folder (with out/) for one attempt at `key`. */
  createTemp(key: string): string {
    const dir = join(this.tmpDir, `${key}.${process.pid}.${this.seq++}`);
    mkdirSync(join(dir, 'out'), { recursive: true });
    return dir;
  }

  /**
   * Hashes a finished temporary entry, writes its manifest and renames it into place.
   * An existing entry for the key (forced rerun, or one that failed verification) is moved
   * aside first and deleted after the new one is in place.
   */
  async publish(tmp: string, key: string, stage: string, durationMs: number, memo: HashMemo): Promise<Manifest> {
    // Hashed through a throw-away memo: the temporary paths vanish with the rename below.
    const files: HashedFile[] = await hashFolder(join(tmp, 'out'), new HashMemo());
    const manifest: Manifest = {
      version: 1,
      key,
      stage,
      files,
      outputHash: combineFiles(files),
      createdAt: new Date().toISOString(),
      durationMs: Math.round(durationMs),
    };
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    const dest = this.entryDir(key);
    let trash: string | undefined;
    if (existsSync(dest)) {
      trash = join(this.tmpDir, `trash.${key}.${process.pid}.${this.seq++}`);
      renameSync(dest, trash);
    }
    renameSync(tmp, dest);
    if (trash) rmSync(trash, { recursive: true, force: true });
    // The rename kept sizes and mtimes; teach the memo the new paths so verify() need not rehash.
    for (const f of files) {
      const p = join(dest, 'out', f.path);
      memo.remember(p, statSync(p), f.sha256);
    }
    return manifest;
  }
}
