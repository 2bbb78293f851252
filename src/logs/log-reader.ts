import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { jobLogPath } from './job-log-path.js';

/**
 * The tail of a job's FILE log, at most `maxBytes` (0 = all), as a stream of its bytes as written;
 * undefined when there is no log. Streamed, not read whole: a log may exceed what a string (512
 * MiB) or a buffer holds, and a tail that starts mid-character must stay the bytes it is, as
 * Harbor serves it. Only ids of the issued form reach the file system, so no path can escape the
 * directory.
 */
export async function openLogTail(
  dir: string,
  jobId: string,
  maxBytes: number,
): Promise<{ body: ReadableStream<Uint8Array>; length: number } | undefined> {
  const path = jobLogPath(dir, jobId);
  if (!path) return undefined;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const length = maxBytes > 0 ? Math.min(size, maxBytes) : size;
    // The stream closes the file when it ends or is cancelled; it reads no further than `size`,
    // so a log still growing answers the length it had.
    if (length === 0) {
      await handle.close();
      return { body: new Blob([]).stream(), length };
    }
    const stream = handle.createReadStream({ start: size - length, end: size - 1 });
    return { body: Readable.toWeb(stream) as ReadableStream<Uint8Array>, length };
  } catch (err) {
    await handle.close();
    throw err;
  }
}
