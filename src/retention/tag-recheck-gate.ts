import type { Candidate, Decision } from './select.js';

export interface TagRecheckOptions {
  /** The run's candidates (their tags are brought up to date as re-reads find moves). */
  candidates: Candidate[];
  /** The run's decisions: only a digest these doom can be spared. */
  decisions: readonly Decision[];
  /** Tags that point elsewhere than `snapshot` says, reading `watched` (retained tags) and new ones. */
  reread(snapshot: ReadonlyMap<string, string>, watched: ReadonlySet<string>): Promise<Map<string, string>>;
  /** The manifests a manifest that is no candidate lists (an index pushed since the load), nested ones too. */
  listed(digest: string): Promise<string[]>;
  /** The policy applied again to the candidates as they are now. */
  decideAgain(): Decision[];
  log(message: string): void;
  /** Re-reads come at most this often (and at most a tenth of the time, however long one takes). */
  minIntervalMs?: number;
  now?: () => number;
}

const MIN_INTERVAL_MS = 1_000;

/**
 * Before a delete, the repository's tags as they are now, read again at most once a second:
 * a doomed digest that a retained tag now points at (pushed there, or moved from elsewhere while the
 * run deleted) is spared, and so is one that a manifest pushed since (a new index) lists. A re-read
 * only ever spares: what it would newly doom waits for the next run. A re-read that fails fails the
 * deletes waiting on it, and the next one reads again.
 */
export function tagRecheck(options: TagRecheckOptions): { spares(digest: string): Promise<string | undefined> } {
  const { candidates, reread, decideAgain, log } = options;
  const now = options.now ?? Date.now;
  const minInterval = options.minIntervalMs ?? MIN_INTERVAL_MS;
  const doomed = new Set(options.decisions.filter((d) => d.verdict === 'DEL').map((d) => d.candidate.digest));
  const byDigest = new Map(candidates.map((c) => [c.digest, c]));
  const snapshot = new Map(candidates.flatMap((c) => c.tags.map((tag) => [tag, c.digest] as const)));
  let watched = retainedTags(options.decisions);
  const spared = new Map<string, string>();
  let lastAt = -Infinity;
  let lastTookMs = 0;
  let checking: Promise<void> | undefined;

  const check = async () => {
    const started = now();
    const moved = await reread(snapshot, watched);
    lastAt = now();
    lastTookMs = lastAt - started;
    if (moved.size === 0) return;
    for (const [tag, digest] of moved) {
      const from = snapshot.get(tag);
      const was = from !== undefined ? byDigest.get(from) : undefined;
      if (was) was.tags = was.tags.filter((t) => t !== tag);
      const to = byDigest.get(digest);
      if (to && !to.tags.includes(tag)) to.tags = [...to.tags, tag].sort();
      snapshot.set(tag, digest);
      log(
        `tag ${tag} now points at ${digest}${from !== undefined ? ` (it pointed at ${from} when the repository was read)` : ' (pushed since the repository was read)'}`,
      );
    }
    // A tag now on a manifest the load never saw (an index pushed over doomed images, as
    // `docker buildx imagetools create` makes one): what it lists stays, or the new index is broken.
    for (const [tag, digest] of moved) {
      if (byDigest.has(digest)) continue;
      for (const listed of await options.listed(digest)) {
        if (!doomed.has(listed) || spared.has(listed)) continue;
        spared.set(listed, `not deleted: listed by ${digest}, which tag ${tag} points at since the repository was read`);
        log(`${listed} is listed by ${digest} (${tag}): not deleted`);
      }
    }
    const again = decideAgain();
    for (const d of again) {
      const { digest, tags } = d.candidate;
      if (d.verdict === 'RETAIN' && doomed.has(digest) && !spared.has(digest)) {
        spared.set(digest, `not deleted: retained once its tags were read again before the delete (${tags.join(',') || 'untagged'})`);
        log(`${digest} is retained now (${tags.join(',')}): not deleted`);
      }
    }
    watched = retainedTags(again);
  };

  return {
    async spares(digest) {
      if (checking === undefined && now() - lastAt >= Math.max(minInterval, 10 * lastTookMs)) {
        checking = check().finally(() => {
          checking = undefined;
        });
      }
      // A delete waits for a re-read under way even when it was not due: it may spare this digest.
      if (checking !== undefined) await checking;
      return spared.get(digest);
    },
  };
}

function retainedTags(decisions: readonly Decision[]): Set<string> {
  return new Set(decisions.filter((d) => d.verdict === 'RETAIN').flatMap((d) => d.candidate.tags));
}
