import { describe, expect, it } from 'vitest';
import { createBatchedWriter } from '../../entrypoint/log/batched-writer.js';

describe('createBatchedWriter', () => {
  it('joins the lines of one event-loop turn into one write, in order', async () => {
    const chunks: string[] = [];
    const writer = createBatchedWriter((chunk) => chunks.push(chunk));
    writer.write('a\n');
    writer.write('b\n');
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    writer.write('c\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes at once past the size limit, and flush() empties what is pending', () => {
    const chunks: string[] = [];
    const writer = createBatchedWriter((chunk) => chunks.push(chunk), 4);
    writer.write('abcd');
    expect(chunks).toEqual(['abcd']);
    writer.write('e');
    writer.flush();
    expect(chunks).toEqual(['abcd', 'e']);
    writer.flush();
    expect(chunks).toEqual(['abcd', 'e']);
  });
});
