import { spawn } from 'node:child_process';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { tiedToThisProcess } from '../process/child-process.js';
import { executable, findOnPath } from '../process/find-on-path.js';
import { defineJob } from './define-job.js';
import type { RegistrySettings } from './retention/retention-settings.js';
import { blobsOnlyUsedBy, reachedByTags, untaggedManifests } from './untagged-manifests.js';

/**
 * Bytes under a directory (the registry's storage), or undefined when it cannot be read. A file
 * gone between the listing and its stat (an upload the registry finished meanwhile) counts as
 * nothing: one such file must not lose the whole measure.
 */
async function diskUsage(dir: string): Promise<number | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return undefined;
  }
  let total = 0;
  for (const entry of entries) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name)).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

/** Re-read a repository's tags after this many deletions in it: a tag pushed meanwhile spares what it reaches. */
const RECHECK_EVERY = 100;
const HOUR_MS = 3_600_000;

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
        /**
         * Harbor's time window (hours): an untagged manifest pushed less than this long ago stays,
         * as its tag or the index listing it may still be on its way.
         */
        time_window: z
          .number()
          .int()
          .min(0)
          .max(24 * 365)
          .default(2),
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
      // An attempt that takes over from a lost worker counts what the lost one deleted, and frees
      // from the storage's size before it. A dry run deletes nothing: it starts over.
      const saved = params.dry_run ? undefined : (ctx.savedProgress() as { removed?: number; before?: number } | undefined);
      const removedBefore = saved?.removed ?? 0;
      const before = saved?.before ?? (storageDir ? await diskUsage(storageDir) : undefined);
      let removed = 0;
      const save = () => {
        if (!params.dry_run) ctx.saveProgress({ removed: removedBefore + removed, ...(before !== undefined ? { before } : {}) });
      };
      // Their revisions go first; the registry's collection then sweeps the blobs nothing else uses.
      const scannedAt = Date.now();
      const found = params.delete_untagged ? await untaggedManifests(storageDir!, params.time_window * HOUR_MS, scannedAt) : [];
      // A stop during the scan (minutes on a large storage) ends the job before anything is deleted.
      if (ctx.signal.aborted) {
        ctx.logger.info('stopped while reading the storage; nothing deleted, no collection');
        return;
      }
      save();
      let spared = 0;
      const eligible: typeof found = [];
      let reached = new Set<string>();
      let sinceCheck = 0;
      for (const [i, manifest] of found.entries()) {
        // A stop ends the deletions between two manifests; the collector does not run.
        if (ctx.signal.aborted) {
          ctx.logger.info(`stopped after ${removed} of ${found.length} untagged manifest(s); no collection`);
          return;
        }
        // The scan is a moment old: a tag pushed since (a build promoted by digest, a multi-arch
        // index over its platform manifests) spares what it reaches.
        if (i === 0 || found[i - 1]!.repository !== manifest.repository || ++sinceCheck >= RECHECK_EVERY) {
          reached = await reachedByTags(storageDir!, manifest.repository);
          sinceCheck = 0;
        }
        // Tagged (or pushed again) since the scan: the registry links its revision anew, which a
        // tag read now and then would miss between two reads.
        const relinked = ((await stat(join(manifest.revisionDir, 'link')).catch(() => undefined))?.mtimeMs ?? 0) >= scannedAt;
        if (relinked || reached.has(manifest.digest.replace(/^sha256:/, ''))) {
          ctx.logger.info(`untagged manifest ${manifest.repository}@${manifest.digest} is now reached by a tag: kept`);
          spared += 1;
          continue;
        }
        ctx.logger.info(
          `untagged manifest ${manifest.repository}@${manifest.digest}${params.dry_run ? ' eligible for deletion' : ': deleting'}`,
        );
        eligible.push(manifest);
        if (!params.dry_run) await rm(manifest.revisionDir, { recursive: true, force: true });
        removed += 1;
        save();
      }
      if (spared > 0) ctx.logger.info(`${spared} untagged manifest(s) kept: a tag pushed during the run reaches them`);
      if (ctx.signal.aborted) {
        ctx.logger.info(`stopped after ${removed} untagged manifest(s); no collection`);
        return;
      }
      ctx.logger.info(`garbage collection: ${[command[0], ...args].join(' ')}`);
      // Tied to the worker: a collection must not go on after its worker died while the job's retry runs another.
      const child = spawn(...tiedToThisProcess(binary, args), { stdio: ['ignore', 'pipe', 'pipe'] });
      const stop = () => child.kill('SIGTERM');
      ctx.signal.addEventListener('abort', stop, { once: true });
      let blobs = 0;
      let manifests = removedBefore + removed;
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
      // A dry run deletes nothing: it says what a real run would delete. The registry counted the
      // blobs no manifest uses now; those only the eligible untagged manifests use come on top.
      const freedByUntagged = params.dry_run && removed > 0 ? await blobsOnlyUsedBy(storageDir!, eligible) : 0;
      const summary = params.dry_run
        ? {
            freed_bytes: 0,
            blobs_deleted: 0,
            manifests_deleted: 0,
            blobs_eligible: blobs + freedByUntagged,
            manifests_eligible: manifests,
            dry_run: true,
          }
        : { freed_bytes: freed ?? null, blobs_deleted: blobs, manifests_deleted: manifests, dry_run: false };
      ctx.logger.info(`garbage collection done: ${JSON.stringify(summary)}`);
      ctx.checkin(JSON.stringify(summary));
    },
  });
}
