import { open } from 'node:fs/promises';
import { jobLogPath } from './job-log-path.js';

/**
 * The tail of a job's FILE log, at most `maxBytes` (0 = all); undefined when there is no log.
 * Only ids of the issued form reach the file system, so no path can escape the directory.
 */
export async function readLogTail(dir: string, jobId: string, maxBytes: number): Promise<Buffer | undefined> {
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
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await handle.close();
  }
}
