import { randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { isJobId } from '../../shared/job-id.js';
import { FILE_NAME } from './report.js';

/**
 * Report files of batch targets: `<log base_dir>/files/<job id>/<name>`, beside the job logs (the
 * API serves both from the same directory). Only ids we issue and plain names reach the file system.
 */
export function batchFilePath(logDir: string, jobId: string, name: string): string | undefined {
  if (!isJobId(jobId) || !FILE_NAME.test(name)) return undefined;
  return join(logDir, 'files', jobId, name);
}

export async function saveBatchFile(logDir: string, jobId: string, name: string, bytes: Uint8Array): Promise<void> {
  const path = batchFilePath(logDir, jobId, name);
  if (!path) throw new Error(`file name ${JSON.stringify(name)} must be 1–128 of A-Z a-z 0-9 . _ - (no path)`);
  await mkdir(join(logDir, 'files', jobId), { recursive: true });
  // Written aside and moved in place: a download under way (an open file) keeps reading the whole
  // old file, where a rewrite in place would end it short with a 200.
  const aside = join(logDir, 'files', jobId, `.${name}.${process.pid}.${randomUUID()}.part`);
  try {
    await writeFile(aside, bytes);
    await rename(aside, path);
  } catch (err) {
    await rm(aside, { force: true });
    throw err;
  }
}

/**
 * A saved file as a stream of its bytes (it may be large: a report of a big registry), or
 * undefined when there is none. The stream closes the file when it ends or is cancelled.
 */
export async function openBatchFile(
  logDir: string,
  jobId: string,
  name: string,
): Promise<{ body: ReadableStream<Uint8Array>; length: number } | undefined> {
  const path = batchFilePath(logDir, jobId, name);
  if (!path) return undefined;
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    if (size === 0) {
      await handle.close();
      return { body: new Blob([]).stream(), length: 0 };
    }
    return { body: Readable.toWeb(handle.createReadStream({ start: 0, end: size - 1 })) as ReadableStream<Uint8Array>, length: size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

export async function removeBatchFiles(logDir: string, jobId: string): Promise<void> {
  if (isJobId(jobId)) await rm(join(logDir, 'files', jobId), { recursive: true, force: true });
}
