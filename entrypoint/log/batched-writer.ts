/**
 * Joins the lines written in one turn of the event loop into one write: during a burst Postfix
 * logs thousands of lines, and a system call (and a wake-up of Docker's log reader) per line
 * cost more than the lines themselves.
 */
export function createBatchedWriter(writeChunk: (chunk: string) => void, maxBytes = 64 * 1024): { write(text: string): void; flush(): void } {
  let pending: string[] = [];
  let size = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    size = 0;
    writeChunk(chunk);
  };
  return {
    write(text) {
      pending.push(text);
      size += text.length;
      if (size >= maxBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
