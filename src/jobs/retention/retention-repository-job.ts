import { nowSec } from '../../shared/time.js';
import { RegistryClient } from '../../registry/registry-client.js';
import { loadCandidates } from '../../retention/load-candidates.js';
import { mapLimit, RateLimiter } from '../../process/limits.js';
import { resultTable, type ResultRow } from '../../retention/result-table.js';
import { decide, type Decision } from '../../retention/select.js';
import { defineJob } from '../define-job.js';
import { RetentionRepositoryParams } from './retention-params.js';
import { endpointFor, type RegistrySettings } from './retention-settings.js';

/** Reads (tags, manifests, configs) are cheap for a registry; the delete budget governs deletes only. */
const READS_IN_FLIGHT = 8;

/** Saved with the run's heartbeats: the verdicts, and the deletes already done. */
interface Progress {
  decisions: Decision[];
  done: string[];
}

/**
 * Retention of one repository: load its artifacts, decide, delete what no rule retains (unless a
 * dry run), log Harbor's result table and check in a summary. A worker lost mid-run hands its
 * verdicts and finished deletes to the next attempt, which deletes only what remains.
 */
export function retentionRepositoryJob(settings: RegistrySettings) {
  return defineJob({
    name: 'RETENTION_REPOSITORY',
    maxFails: 1,
    params: RetentionRepositoryParams,
    async run(ctx, params) {
      const { repository, policy, dry_run } = params;
      const { logger } = ctx;
      logger.info(`Run retention process: repository ${repository}, ${policy.rules.length} rule(s), algorithm or, dry_run ${dry_run}`);
      const client = new RegistryClient(endpointFor(settings, params.registry.url), {
        timeoutMs: settings.requestTimeoutMs,
        signal: ctx.signal,
      });
      const saved = ctx.savedProgress() as Progress | undefined;
      let decisions: Decision[];
      if (saved) {
        decisions = saved.decisions;
        logger.info(`resuming an interrupted run: ${saved.done.length} delete(s) already done`);
      } else {
        const candidates = await loadCandidates(client, repository, READS_IN_FLIGHT, ctx.signal);
        logger.info(`Load ${candidates.length} candidates from repository ${repository}`);
        decisions = decide(policy.rules, candidates, nowSec());
      }
      const done = new Set(saved?.done ?? []);
      const progress = () => ctx.saveProgress({ decisions, done: [...done] } satisfies Progress);
      progress();
      if (ctx.opCommand()) return;

      const rows = new Map<string, ResultRow>(
        decisions.map((d) => [
          d.candidate.digest,
          { candidate: d.candidate, retention: d.verdict, ...(d.protectedBy ? { note: d.protectedBy } : {}) },
        ]),
      );
      const doomed = decisions.filter((d) => d.verdict === 'DEL').map((d) => d.candidate.digest);
      if (!dry_run) {
        const limiter = new RateLimiter(params.deletes_per_second);
        await mapLimit(
          doomed,
          params.max_in_flight,
          async (digest) => {
            const row = rows.get(digest)!;
            if (done.has(digest)) return;
            await limiter.take(ctx.signal);
            // After a stop, no delete starts; those not started stay, and say so.
            if (ctx.signal.aborted) {
              Object.assign(row, { retention: 'RETAIN', note: 'not deleted: the job was stopped first' });
              return;
            }
            try {
              await client.deleteManifest(repository, digest);
              done.add(digest);
              progress();
            } catch (err) {
              Object.assign(row, { retention: 'ERR', error: (err as Error).message });
            }
          },
          ctx.signal,
        );
        for (const digest of doomed) {
          const row = rows.get(digest)!;
          if (row.retention === 'DEL' && !done.has(digest))
            Object.assign(row, { retention: 'RETAIN', note: 'not deleted: the job was stopped first' });
        }
      }
      const all = [...rows.values()];
      logger.info(`\n${resultTable(params.repository, all)}`);
      const count = (r: ResultRow['retention']) => all.filter((row) => row.retention === r).length;
      const errors = count('ERR');
      ctx.checkin(
        JSON.stringify({
          repository,
          candidates: all.length,
          retained: all.length - count('DEL'),
          deleted: dry_run ? 0 : count('DEL'),
          would_delete: dry_run ? count('DEL') : 0,
          errors,
          dry_run,
        }),
      );
      if (errors > 0 && !ctx.opCommand()) throw new Error(`${errors} of ${doomed.length} deletes failed in ${repository}`);
    },
  });
}
