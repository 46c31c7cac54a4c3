import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';

export interface ContextFile {
  path: string;
  content: Buffer | string;
  mode?: number;
}

// A constant mtime keeps the tar bytes, and so Docker's layer cache keys, stable across runs.
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

type Entry = { path: string; type: 'file'; content: Buffer; mode: number } | { path: string; type: 'directory' };

function checkPath(path: string): void {
  // Empty, '.' and '..' segments also catch absolute paths, '//' and trailing slashes.
  const bad = path.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad || path.includes('\\') || path.includes('\0')) {
    throw new Error(`build context path must be relative, normalised and stay inside the context: ${JSON.stringify(path)}`);
  }
}

function byteOrder(a: { path: string }, b: { path: string }): number {
  return Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
}

function toEntries(files: readonly ContextFile[]): Entry[] {
  const entries = new Map<string, Entry>();
  const dirs = new Set<string>();
  for (const file of files) {
    checkPath(file.path);
    if (entries.has(file.path)) throw new Error(`duplicate build context path: ${file.path}`);
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    entries.set(file.path, { path: file.path, type: 'file', content, mode: file.mode ?? FILE_MODE });
    const segments = file.path.split('/');
    for (let i = 1; i < segments.length; i++) dirs.add(segments.slice(0, i).join('/'));
  }
  for (const dir of dirs) {
    if (entries.has(dir)) throw new Error(`build context path is both a file and a directory: ${dir}`);
    entries.set(dir, { path: dir, type: 'directory' });
  }
  // Parents sort before their children, so Docker sees each directory before its contents.
  return [...entries.values()].sort(byteOrder);
}

export async function packBuildContext(files: readonly ContextFile[]): Promise<Buffer> {
  const entries = toEntries(files);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk) => chunks.push(chunk as Buffer)); // streamx types chunks as unknown
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  const owner = { uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: FIXED_MTIME };
  for (const entry of entries) {
    if (entry.type === 'directory') {
      pack.entry({ ...owner, name: `${entry.path}/`, type: 'directory', mode: DIR_MODE });
    } else {
      pack.entry({ ...owner, name: entry.path, type: 'file', mode: entry.mode }, entry.content);
    }
  }
  // tar-stream only writes the end-of-archive blocks and ends the stream after finalize().
  pack.finalize();
  return done;
}

export async function readContextFiles(root: string, relativePaths: readonly string[]): Promise<ContextFile[]> {
  return Promise.all(
    relativePaths.map(async (path) => {
      checkPath(path);
      const full = join(root, path);
      const [content, info] = await Promise.all([readFile(full), stat(full)]);
      // Only the executable bit matters to the image; umask and owner bits would break determinism.
      return { path, content, mode: info.mode & 0o111 ? 0o755 : FILE_MODE };
    }),
  );
}
