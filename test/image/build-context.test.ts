import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { packBuildContext, readContextFiles } from '../../image/build-context.js';
import type { ContextFile } from '../../image/build-context.js';

interface ReadEntry {
  name: string;
  type: string | null | undefined;
  mode: number | undefined;
  mtime: Date | undefined;
  uid: number | undefined;
  gid: number | undefined;
  content: string;
}

async function readTar(archive: Buffer): Promise<ReadEntry[]> {
  const extract = tar.extract();
  Readable.from([archive]).pipe(extract);
  const entries: ReadEntry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    const { name, type, mode, mtime, uid, gid } = entry.header;
    entries.push({ name, type, mode, mtime, uid, gid, content: Buffer.concat(chunks).toString() });
  }
  return entries;
}

const files: ContextFile[] = [
  { path: 'Dockerfile', content: 'FROM debian:trixie-slim\n' },
  { path: 'entrypoint/main.ts', content: 'export {};\n' },
  { path: 'bin/start', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
  { path: 'package.json', content: '{}\n' },
];

describe('packBuildContext', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('produces identical bytes for the same files, whatever their order and the clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2021-06-01T12:00:00Z'));
    const first = await packBuildContext(files);
    vi.setSystemTime(new Date('2031-01-01T00:00:00Z'));
    const second = await packBuildContext([...files].reverse());
    expect(second.equals(first)).toBe(true);
  });

  it('writes entries in byte order with fixed mtime, owner and modes', async () => {
    const entries = await readTar(await packBuildContext(files));
    expect(entries.map((e) => e.name)).toEqual([
      'Dockerfile',
      'bin/',
      'bin/start',
      'entrypoint/',
      'entrypoint/main.ts',
      'package.json',
    ]);
    for (const entry of entries) {
      expect(entry.mtime?.toISOString()).toBe('2000-01-01T00:00:00.000Z');
      expect([entry.uid, entry.gid]).toEqual([0, 0]);
    }
    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(byName.get('Dockerfile')).toMatchObject({ type: 'file', mode: 0o644, content: 'FROM debian:trixie-slim\n' });
    expect(byName.get('bin/start')).toMatchObject({ type: 'file', mode: 0o755, content: '#!/bin/sh\n' });
    expect(byName.get('bin/')).toMatchObject({ type: 'directory', mode: 0o755 });
  });

  it('rejects duplicate, absolute and escaping paths', async () => {
    const file = (path: string): ContextFile => ({ path, content: '' });
    await expect(packBuildContext([file('a'), file('a')])).rejects.toThrow(/duplicate/);
    await expect(packBuildContext([file('/etc/passwd')])).rejects.toThrow(/relative/);
    await expect(packBuildContext([file('../secret')])).rejects.toThrow(/relative/);
    await expect(packBuildContext([file('a/../../b')])).rejects.toThrow(/relative/);
    await expect(packBuildContext([file('a'), file('a/b')])).rejects.toThrow(/both a file and a directory/);
  });
});

describe('readContextFiles', () => {
  it('reads the listed files and keeps only the executable bit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'build-context-'));
    try {
      await mkdir(join(root, 'bin'));
      await writeFile(join(root, 'bin/start'), '#!/bin/sh\n');
      await chmod(join(root, 'bin/start'), 0o700);
      await writeFile(join(root, 'Dockerfile'), 'FROM scratch\n');
      await chmod(join(root, 'Dockerfile'), 0o600);
      const read = await readContextFiles(root, ['Dockerfile', 'bin/start']);
      expect(read).toEqual([
        { path: 'Dockerfile', content: Buffer.from('FROM scratch\n'), mode: 0o644 },
        { path: 'bin/start', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
