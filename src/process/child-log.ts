import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/**
 * A child's stdout and stderr, appended to one file. Both streams go into it, so it ends when
 * the child has closed both: piped with the default `end`, the first stream to end would end the
 * file under the other, and the other's next write (a last line as the child stops) would throw
 * "write after end" as an uncaught exception in this process. A file that cannot be written loses
 * lines, never the process.
 */
export function logChildOutput(child: ChildProcess, path: string): void {
  const out = createWriteStream(path, { flags: 'a' });
  // On a write error Node unpipes both streams and leaves them paused: unread, the child would
  // block once its pipe is full. They are drained and their lines dropped instead.
  out.on('error', () => {
    child.stdout?.resume();
    child.stderr?.resume();
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  child.once('close', () => out.end());
}
