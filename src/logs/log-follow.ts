import { open, type FileHandle } from 'node:fs/promises';
import { abortableSleep } from '../process/abortable-sleep.js';
import { jobLogPath } from './job-log-path.js';

export interface FollowOptions {
  dir: string;
  jobId: string;
  /** Byte offset to start from (what the caller has already sent). */
  from: number;
  /** Whether the job has ended; asked every `checkEveryMs`, and the log is read once more after it says yes. */
  ended: () => Promise<boolean>;
  pollMs?: number;
  checkEveryMs?: number;
  /** The most bytes one read takes (1 MiB): a follow from the start of a large log must not hold it whole. */
  chunkBytes?: number;
  /** The client went away: the polling stops, whether or not a byte has gone out. */
  signal?: AbortSignal;
}

/**
 * A job's FILE log as it grows: new bytes as they are written, until the job has ended (then the
 * rest, and the end). A log that does not exist yet is waited for. The reader stopping (a client
 * that goes away) stops the polling.
 */
export function followLog(options: FollowOptions): ReadableStream<Uint8Array> {
  const { dir, jobId, ended, pollMs = 250, checkEveryMs = 1000, chunkBytes = 1024 * 1024 } = options;
  const path = jobLogPath(dir, jobId);
  let offset = options.from;
  let cancelled = false;
  let lastCheck = 0;
  /** The job has ended: what the log holds now is the rest, read out chunk by chunk, then the end. */
  let draining = false;
  // Opened once it exists and kept open to the end: a log removed meanwhile (a pruned execution's)
  // is still read to its last line.
  let handle: FileHandle | undefined;
  const close = async () => {
    const open = handle;
    handle = undefined;
    await open?.close().catch(() => undefined);
  };
  const readNew = async (): Promise<Uint8Array | undefined> => {
    if (!path) return undefined;
    handle ??= await open(path, 'r').catch(() => undefined);
    const file = handle;
    if (!file) return undefined;
    const { size } = await file.stat();
    if (size <= offset) return undefined;
    const buffer = Buffer.alloc(Math.min(size - offset, chunkBytes));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    offset += bytesRead;
    return buffer.subarray(0, bytesRead);
  };
  const pull = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
    for (;;) {
      if (cancelled) return close();
      if (options.signal?.aborted) {
        await close();
        controller.close();
        return;
      }
      const chunk = await readNew();
      if (chunk && chunk.length > 0) {
        controller.enqueue(chunk);
        return;
      }
      if (draining) {
        await close();
        controller.close();
        return;
      }
      if (Date.now() - lastCheck >= checkEveryMs) {
        lastCheck = Date.now();
        if (await ended()) {
          draining = true;
          continue;
        }
      }
      await abortableSleep(pollMs, options.signal);
    }
  };
  return new ReadableStream<Uint8Array>({
    pull: (controller) =>
      pull(controller).catch(async (err: unknown) => {
        await close();
        throw err;
      }),
    cancel() {
      cancelled = true;
      return close();
    },
  });
}
