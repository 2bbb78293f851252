import type { Candidate, Decision } from './select.js';

export interface TagRecheckOptions {
  /** The run's candidates (their tags are brought up to date as re-reads find moves). */
  candidates: Candidate[];
  /** The run's decisions: only a digest these doom can be spared. */
  decisions: readonly Decision[];
  /** Tags that point elsewhere than `snapshot` says, reading `watched` (every tag of the snapshot) and new ones. */
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
  const spared = new Map<string, string>();
  /** Manifests the load never saw that a tag now names, still to be read (a failed read is tried again). */
  const unlisted = new Map<string, string>();
  /** What the policy dooms that is attached to something else: spared with what a new manifest lists. */
  const accessories = options.decisions.filter((d) => d.verdict === 'DEL' && d.accessoryOf !== undefined);
  let lastAt = -Infinity;
  let lastTookMs = 0;
  let checking: Promise<void> | undefined;

  const check = async () => {
    const started = now();
    // Every tag: a doomed tag moved onto a new index (`docker buildx imagetools create -t` over an
    // existing tag) must be seen as much as a retained one.
    const moved = await reread(snapshot, new Set(snapshot.keys()));
    lastAt = now();
    lastTookMs = lastAt - started;
    for (const [tag, digest] of moved) {
      const from = snapshot.get(tag);
      const was = from !== undefined ? byDigest.get(from) : undefined;
      if (was) was.tags = was.tags.filter((t) => t !== tag);
      const to = byDigest.get(digest);
      if (to && !to.tags.includes(tag)) to.tags = [...to.tags, tag].sort();
      snapshot.set(tag, digest);
      if (!byDigest.has(digest)) unlisted.set(digest, tag);
      log(
        `tag ${tag} now points at ${digest}${from !== undefined ? ` (it pointed at ${from} when the repository was read)` : ' (pushed since the repository was read)'}`,
      );
    }
    // A tag now on a manifest the load never saw (an index pushed over doomed images, as
    // `docker buildx imagetools create` makes one): what it lists stays, with what is attached to
    // it (a platform image's signature), or the new index is broken.
    for (const [digest, tag] of [...unlisted]) {
      const listed = new Set(await options.listed(digest));
      unlisted.delete(digest);
      const why = `not deleted: listed by ${digest}, which tag ${tag} points at since the repository was read`;
      for (const d of listed) {
        if (!doomed.has(d) || spared.has(d)) continue;
        spared.set(d, why);
        log(`${d} is listed by ${digest} (${tag}): not deleted`);
      }
      // Until nothing changes: a signature of a signature follows it in turn.
      for (let changed = true; changed;) {
        changed = false;
        for (const { candidate, accessoryOf } of accessories) {
          if (spared.has(candidate.digest) || !(listed.has(accessoryOf!) || spared.has(accessoryOf!))) continue;
          spared.set(candidate.digest, `${why} (attached to ${accessoryOf})`);
          changed = true;
        }
      }
    }
    if (moved.size === 0) return;
    const again = decideAgain();
    for (const d of again) {
      const { digest, tags } = d.candidate;
      if (d.verdict === 'RETAIN' && doomed.has(digest) && !spared.has(digest)) {
        spared.set(digest, `not deleted: retained once its tags were read again before the delete (${tags.join(',') || 'untagged'})`);
        log(`${digest} is retained now (${tags.join(',')}): not deleted`);
      }
    }
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
