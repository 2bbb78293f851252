import { nowSec } from '../../shared/time.js';
import { RegistryError } from '../../registry/registry-error.js';
import { loadCandidates } from '../../retention/load-candidates.js';
import { concurrencyLimit, mapLimit, RateLimiter } from '../../process/limits.js';
import { manifestsListedBy, tagsMovedSince } from '../../retention/tag-recheck.js';
import { tagRecheck } from '../../retention/tag-recheck-gate.js';
import { resultTable, type ResultRow } from '../../retention/result-table.js';
import { decide, immutableRuleAppliesTo, isProjectScoped, type Candidate, type Decision } from '../../retention/select.js';
import { defineJob } from '../define-job.js';
import { RetentionRepositoryParams } from './retention-params.js';
import { registryClient, type RegistrySettings } from './retention-settings.js';

/** Reads (tags, manifests, configs) are cheap for a registry; the delete budget governs deletes only. */
const READS_IN_FLIGHT = 8;

/**
 * Saved with the run's heartbeats: the deletes of earlier attempts, and what this attempt dooms,
 * as digest prefixes (a heartbeat holds 2 MB at most: the whole verdicts on a repository of 12,000
 * tags did not fit; about 130,000 prefixes do). A heartbeat goes out about once a second, so the
 * next attempt counts a doomed digest that is gone by then as deleted, the last deletes before a
 * crash included.
 */
interface Progress {
  deletedBefore: number;
  doomed: string[];
  /** Earlier attempts' deletes and this one's so far, for a stop that comes before the next attempt decides. */
  deletedSoFar: number;
}

/** A doomed artifact a stop came before. */
const STOPPED_FIRST = { retention: 'RETAIN', note: 'not deleted: the job was stopped first' } as const;

/** 48 bits of the digest (past `sha256:`): enough to tell a repository's manifests apart, 15 bytes each in JSON. */
const prefix = (digest: string) => digest.slice(7, 19);
const GONE_PER_LINE = 20;

/** The check-in of a run stopped before it decided: what earlier attempts deleted. */
function stoppedReport(repository: string, deleted: number, dry_run: boolean): string {
  return JSON.stringify({ repository, deleted, errors: 0, dry_run });
}

/**
 * Retention of one repository: load its artifacts, decide, delete what no rule retains (unless a
 * dry run), log Harbor's result table and check in a summary. A worker lost mid-run leaves the
 * next attempt to decide again on the repository as it is then, as Harbor re-runs the task: the
 * deletes already made are gone from it, and a tag pushed meanwhile onto a doomed digest keeps it
 * if the policy retains that tag.
 */
export function retentionRepositoryJob(settings: RegistrySettings) {
  return defineJob({
    name: 'RETENTION_REPOSITORY',
    maxFails: 1,
    params: RetentionRepositoryParams,
    // Stopped while its worker was lost: the deletes the lost attempt saved are still reported.
    stoppedBeforeStart: ({ repository, dry_run }, saved) => {
      const progress = saved as Partial<Progress> | undefined;
      return stoppedReport(repository, progress?.deletedSoFar ?? progress?.deletedBefore ?? 0, dry_run);
    },
    async run(ctx, params) {
      const { repository, policy, dry_run } = params;
      const { logger } = ctx;
      logger.info(`Run retention process: repository ${repository}, ${policy.rules.length} rule(s), algorithm or, dry_run ${dry_run}`);
      const client = registryClient(settings, params.registry.url, ctx);
      const saved = ctx.savedProgress() as Partial<Progress> | undefined;
      // Stopped before this attempt has decided: what earlier attempts deleted is still reported.
      const stoppedEarly = (deleted: number) => {
        ctx.checkin(stoppedReport(repository, deleted, dry_run));
      };
      // One budget for every read of the run: the load's nested reads and the re-checks alike.
      const reads = concurrencyLimit(READS_IN_FLIGHT);
      let candidates: Candidate[];
      try {
        candidates = await loadCandidates(client, repository, READS_IN_FLIGHT, ctx.signal, { reads, onSkip: (m) => logger.info(m) });
      } catch (err) {
        if (!ctx.opCommand()) throw err;
        stoppedEarly(saved?.deletedSoFar ?? saved?.deletedBefore ?? 0);
        return;
      }
      logger.info(`Load ${candidates.length} candidates from repository ${repository}`);
      let deletedBefore = 0;
      if (saved?.doomed) {
        const present = new Set(candidates.map((c) => prefix(c.digest)));
        const goneSince = saved.doomed.filter((p) => !present.has(p));
        deletedBefore = (saved.deletedBefore ?? 0) + goneSince.length;
        logger.info(`resuming an interrupted run: ${deletedBefore} delete(s) already done; deciding again`);
        // The lost attempt logged each delete once its answer came: one it was killed waiting for
        // (the registry had deleted) has no line of its own. These name every one, by its prefix.
        for (let i = 0; i < goneSince.length; i += GONE_PER_LINE)
          logger.info(`gone since the interrupted attempt decided: ${goneSince.slice(i, i + GONE_PER_LINE).join(', ')}`);
      }
      const projectScoped = isProjectScoped(policy);
      const immutable = (policy.immutable_rules ?? []).filter((rule) => immutableRuleAppliesTo(rule, repository, { projectScoped }));
      const decisions: Decision[] = decide(policy.rules, candidates, nowSec(), immutable);
      const done = new Set<string>();
      /** Doomed digests another deleter (an overlapping run, an operator) removed first: not this run's deletes. */
      const gone = new Set<string>();
      const notDeleted = (digest: string) => !done.has(digest) && !gone.has(digest);
      const doomedPrefixes = decisions.filter((d) => d.verdict === 'DEL').map((d) => prefix(d.candidate.digest));
      const progress = () => {
        if (!dry_run)
          ctx.saveProgress({ deletedBefore, doomed: doomedPrefixes, deletedSoFar: deletedBefore + done.size } satisfies Progress);
      };
      progress();
      if (ctx.opCommand()) {
        stoppedEarly(deletedBefore);
        return;
      }

      const rows = new Map<string, ResultRow>(
        decisions.map((d) => [
          d.candidate.digest,
          { candidate: d.candidate, retention: d.immutable ? 'IMMUTABLE' : d.verdict, ...(d.protectedBy ? { note: d.protectedBy } : {}) },
        ]),
      );
      const doomed = decisions.filter((d) => d.verdict === 'DEL').map((d) => d.candidate.digest);
      if (!dry_run) {
        const limiter = new RateLimiter(params.deletes_per_second);
        /** Why the registry refused a delete in a way it will refuse them all, once one was. */
        let refused: string | undefined;
        const notAttempted = () => ({ retention: 'ERR' as const, error: `not attempted: an earlier delete was refused: ${refused}` });
        // Deletes disabled (405) or not allowed (401, 403): every other delete would be refused alike.
        const noteRefusal = (err: unknown) => {
          if (err instanceof RegistryError && [401, 403, 405].includes(err.status)) refused ??= err.message;
        };
        // Until the registry has answered a delete, deletes go one at a time: one that refuses them
        // all (405, 401, 403) gets one, not one per slot of max_in_flight.
        let answered = false;
        let turn: Promise<void> = Promise.resolve();
        const firstAnswer = async <T>(send: () => Promise<T>): Promise<T | 'refused' | 'stopped'> => {
          if (answered) return send();
          const previous = turn;
          let done!: () => void;
          turn = new Promise((resolve) => (done = resolve));
          try {
            await previous;
            if (ctx.signal.aborted) return 'stopped';
            if (refused !== undefined) return 'refused';
            const result = await send();
            answered = true;
            return result;
          } catch (err) {
            if (err instanceof RegistryError) answered = true;
            // Before the next delete's turn comes (the finally below).
            noteRefusal(err);
            throw err;
          } finally {
            done();
          }
        };
        const recheck = tagRecheck({
          candidates,
          decisions,
          reread: (snapshot, watched) => tagsMovedSince(client, repository, snapshot, watched, reads, ctx.signal),
          listed: (digest) => manifestsListedBy(client, repository, digest, reads, ctx.signal),
          decideAgain: () => decide(policy.rules, candidates, nowSec(), immutable),
          log: (m) => logger.info(m),
        });
        const deleteAll = (digests: string[]) =>
          mapLimit(
            digests,
            params.max_in_flight,
            async (digest) => {
              const row = rows.get(digest)!;
              await limiter.take(ctx.signal);
              // After a stop, no delete starts; those not started stay, and say so.
              if (ctx.signal.aborted) {
                Object.assign(row, STOPPED_FIRST);
                return;
              }
              if (refused !== undefined) {
                Object.assign(row, notAttempted());
                return;
              }
              // Tags pushed or moved since the load are read again before the deletes go on (once a
              // second at most, and at most a tenth of the run's time): a delete takes every tag on
              // its digest, a retained tag pushed there meanwhile too.
              try {
                const kept = await recheck.spares(digest);
                if (kept !== undefined) {
                  Object.assign(row, { retention: 'RETAIN', note: kept });
                  return;
                }
              } catch (err) {
                if (ctx.signal.aborted) {
                  Object.assign(row, STOPPED_FIRST);
                  return;
                }
                Object.assign(row, {
                  retention: 'ERR',
                  error: `not deleted: the tags could not be read again first: ${(err as Error).message}`,
                });
                return;
              }
              try {
                const answer = await firstAnswer(() => client.deleteManifest(repository, digest));
                if (answer === 'stopped') {
                  Object.assign(row, STOPPED_FIRST);
                  return;
                }
                if (answer === 'refused') {
                  Object.assign(row, notAttempted());
                  return;
                }
                if (answer === 'gone') {
                  gone.add(digest);
                  row.note = 'already gone: deleted by another run or an operator';
                  return;
                }
                done.add(digest);
                progress();
                // One line per delete as it happens: the table comes at the end of an attempt, and an
                // attempt a lost worker cut short leaves only these.
                logger.info(`deleted ${digest} (${row.candidate.tags.join(',')})`);
              } catch (err) {
                Object.assign(row, { retention: 'ERR', error: (err as Error).message });
                noteRefusal(err);
              }
            },
            ctx.signal,
          );
        // Indexes first: a manifest an index lists goes only once the index has, so a delete that
        // fails, or a stop, never leaves an index listing a manifest that is gone.
        // A signature (or attestation, SBOM) goes after the artifact it belongs to: one that failed
        // or was kept meanwhile keeps its signatures, where the other order would leave it unsigned.
        const subjectOf = new Map(decisions.flatMap((d) => (d.accessoryOf ? [[d.candidate.digest, d.accessoryOf] as const] : [])));
        const accessories = doomed.filter((digest) => subjectOf.has(digest));
        const isDoomedIndex = (digest: string) => rows.get(digest)!.candidate.kind === 'index' && !subjectOf.has(digest);
        const indexes = doomed.filter(isDoomedIndex);
        const childrenOf = (digest: string) => rows.get(digest)!.candidate.children ?? [];
        // Indexes of indexes: outermost first, a layer at a time, so an inner index goes only once
        // every doomed index that lists it has.
        for (let left = indexes; left.length > 0;) {
          const listedByLeft = new Set(left.flatMap(childrenOf));
          const layer = left.filter((digest) => !listedByLeft.has(digest));
          // Content addressing makes a cycle impossible; a registry that served one gets no deletes of it.
          if (layer.length === 0) {
            for (const digest of left)
              Object.assign(rows.get(digest)!, { retention: 'RETAIN', note: 'not deleted: its indexes list each other' });
            break;
          }
          await deleteAll(layer);
          // What an index left in place lists stays, at every depth below it.
          const keptListing = new Set<string>();
          for (let next = layer.filter(notDeleted).flatMap(childrenOf); next.length > 0;) {
            next = next.filter((digest) => !keptListing.has(digest));
            for (const digest of next) keptListing.add(digest);
            next = next.filter((digest) => rows.has(digest)).flatMap(childrenOf);
          }
          const deletedLayer = new Set(layer);
          left = left.filter((digest) => !deletedLayer.has(digest));
          for (const digest of left.filter((d) => keptListing.has(d))) {
            Object.assign(rows.get(digest)!, { retention: 'RETAIN', note: 'not deleted: an index that lists it was not deleted' });
          }
          left = left.filter((digest) => !keptListing.has(digest));
        }
        const stillListed = new Set(indexes.filter(notDeleted).flatMap((digest) => rows.get(digest)!.candidate.children ?? []));
        for (const digest of doomed) {
          if (isDoomedIndex(digest) || !stillListed.has(digest)) continue;
          Object.assign(rows.get(digest)!, { retention: 'RETAIN', note: 'not deleted: an index that lists it was not deleted' });
        }
        await deleteAll(doomed.filter((digest) => !isDoomedIndex(digest) && !subjectOf.has(digest) && !stillListed.has(digest)));
        // A platform manifest (no candidate) is gone with the last index that listed it.
        const listedByIndexesLeft = new Set(
          [...rows.values()].flatMap((r) => (notDeleted(r.candidate.digest) ? (r.candidate.children ?? []) : [])),
        );
        const subjectGone = (digest: string) => {
          const subject = subjectOf.get(digest)!;
          return rows.has(subject) ? !notDeleted(subject) : !listedByIndexesLeft.has(subject);
        };
        // A signature of a signature goes once the one it signs has, a layer at a time.
        for (let left = accessories; left.length > 0;) {
          const pending = new Set(left);
          const layer = left.filter((digest) => !pending.has(subjectOf.get(digest)!));
          // (Content addressing makes a cycle impossible: a registry that served one gets no deletes of it.)
          for (const digest of layer.length > 0 ? layer : left) {
            if (stillListed.has(digest) || (layer.length > 0 && subjectGone(digest))) continue;
            Object.assign(rows.get(digest)!, { retention: 'RETAIN', note: 'not deleted: the artifact it belongs to was not deleted' });
          }
          if (layer.length === 0) break;
          await deleteAll(layer.filter((digest) => subjectGone(digest) && !stillListed.has(digest)));
          left = left.filter((digest) => !layer.includes(digest));
        }
        for (const digest of doomed) {
          const row = rows.get(digest)!;
          if (row.retention === 'DEL' && notDeleted(digest)) Object.assign(row, STOPPED_FIRST);
        }
      }
      const all = [...rows.values()];
      logger.info(`\n${resultTable(params.repository, all)}`);
      const count = (r: ResultRow['retention']) => all.filter((row) => row.retention === r).length;
      const errors = count('ERR');
      ctx.checkin(
        JSON.stringify({
          repository,
          // Harbor's total = retained + deleted: the candidates earlier attempts deleted count too.
          candidates: all.length + (dry_run ? 0 : deletedBefore),
          retained: all.length - count('DEL'),
          deleted: dry_run ? 0 : deletedBefore + done.size,
          ...(gone.size > 0 ? { already_gone: gone.size } : {}),
          would_delete: dry_run ? count('DEL') : 0,
          errors,
          dry_run,
        }),
      );
      if (errors > 0 && !ctx.opCommand()) throw new Error(`${errors} of ${doomed.length} deletes failed in ${repository}`);
    },
  });
}
