import { spawn } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { tiedToThisProcess } from '../process/child-process.js';
import { executable, findOnPath } from '../process/find-on-path.js';
import { defineJob } from './define-job.js';
import type { RegistrySettings } from './retention/retention-settings.js';
import { untaggedManifests } from './untagged-manifests.js';

/** Bytes under a directory (the registry's storage), or undefined when it cannot be read. */
async function diskUsage(dir: string): Promise<number | undefined> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    let total = 0;
    for (const entry of entries) if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
    return total;
  } catch {
    return undefined;
  }
}

/**
 * The registry's own garbage collection (`registry garbage-collect <config>`), run by the
 * configured command on the worker that shares the registry's storage; its output goes to the
 * job log. One at a time across the service, as in Harbor (MaxCurrency 1): a second waits Pending.
 */
export function garbageCollectionJob(settings: RegistrySettings) {
  return defineJob({
    name: 'GARBAGE_COLLECTION',
    maxFails: 1,
    maxConcurrency: 1,
    params: z
      .object({
        dry_run: z.boolean().default(false),
        /**
         * Also delete manifests no tag reaches: found here (not with the registry's own
         * `--delete-untagged`, which takes a tagged multi-arch image's platform manifests too).
         */
        delete_untagged: z.boolean().default(false),
      })
      .strict(),
    async run(ctx, params) {
      const { command, storageDir } = settings.garbageCollection;
      const args = [...command.slice(1), ...(params.dry_run ? ['--dry-run'] : [])];
      if (params.delete_untagged && !storageDir) {
        throw new Error(
          'delete_untagged needs garbage_collection.storage_dir (JOB_SERVICE_GC_STORAGE_DIR): the untagged manifests are found there',
        );
      }
      // Checked before anything on disk is touched: untagged manifests deleted by a run whose
      // collector then cannot start would leave their blobs behind, unswept.
      const binary = command[0]!;
      if (!(binary.includes('/') ? executable(binary) : findOnPath(binary, process.env.PATH ?? ''))) {
        throw new Error(`could not run ${binary}: not found or not executable`);
      }
      const before = storageDir ? await diskUsage(storageDir) : undefined;
      // Their revisions go first; the registry's collection then sweeps the blobs nothing else uses.
      const untagged = params.delete_untagged ? await untaggedManifests(storageDir!) : [];
      let removed = 0;
      for (const manifest of untagged) {
        // A stop ends the deletions between two manifests; the collector does not run.
        if (ctx.signal.aborted) {
          ctx.logger.info(`stopped after ${removed} of ${untagged.length} untagged manifest(s); no collection`);
          return;
        }
        ctx.logger.info(
          `untagged manifest ${manifest.repository}@${manifest.digest}${params.dry_run ? ' eligible for deletion' : ': deleting'}`,
        );
        if (!params.dry_run) await rm(manifest.revisionDir, { recursive: true, force: true });
        removed += 1;
      }
      ctx.logger.info(`garbage collection: ${[command[0], ...args].join(' ')}`);
      // Tied to the worker: a collection must not go on after its worker died while the job's retry runs another.
      const child = spawn(...tiedToThisProcess(binary, args), { stdio: ['ignore', 'pipe', 'pipe'] });
      const stop = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', stop, { once: true });
      let blobs = 0;
      let manifests = untagged.length;
      const follow = (stream: NodeJS.ReadableStream) =>
        new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream });
          lines.on('line', (line) => {
            ctx.logger.info(line);
            // The registry prints one "eligible" line per item in a dry run and a real one alike; its
            // "Deleting …" lines come on top at log level info (its default), so they are not counted.
            if (/blob eligible for deletion/i.test(line)) blobs += 1;
            if (/manifest eligible for deletion/i.test(line)) manifests += 1;
          });
          lines.on('close', resolve);
        });
      const exited = new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });
      const [code] = await Promise.all([exited, follow(child.stdout), follow(child.stderr)]).catch((err: Error) => {
        throw new Error(`could not run ${command[0]}: ${err.message}`);
      });
      ctx.signal.removeEventListener('abort', stop);
      if (ctx.opCommand()) return;
      if (code !== 0) throw new Error(`${command[0]} garbage-collect exited with code ${code}`);
      const after = storageDir ? await diskUsage(storageDir) : undefined;
      const freed = before !== undefined && after !== undefined ? Math.max(0, before - after) : undefined;
      // A dry run deletes nothing: it says what a real run would delete.
      const summary = params.dry_run
        ? { freed_bytes: 0, blobs_deleted: 0, manifests_deleted: 0, blobs_eligible: blobs, manifests_eligible: manifests, dry_run: true }
        : { freed_bytes: freed ?? null, blobs_deleted: blobs, manifests_deleted: manifests, dry_run: false };
      ctx.logger.info(`garbage collection done: ${JSON.stringify(summary)}`);
      ctx.checkin(JSON.stringify(summary));
    },
  });
}
