import { isIndex, RegistryError, type RegistryClient } from '../registry/registry-client.js';
import { mapLimit } from '../process/limits.js';
import type { Candidate } from './select.js';

/**
 * Build times before Docker existed are placeholders, not times: reproducible builds stamp
 * `created` with 1970 (ko, Bazel, Nix, SOURCE_DATE_EPOCH=0).
 */
const FIRST_PLAUSIBLE_BUILD = Date.UTC(2013, 0, 1) / 1000;

/**
 * The artifacts of a repository, one per manifest digest with every tag on it. Push time is the
 * image config's `created` (the distribution API records no push or pull times), unknown when it is
 * missing or a placeholder; an index takes the newest of its manifests' known ones. Reads
 * run `concurrency` at a time.
 */
export async function loadCandidates(
  client: RegistryClient,
  repository: string,
  concurrency: number,
  signal?: AbortSignal,
): Promise<Candidate[]> {
  const tags = await client.tags(repository);
  const manifests = await mapLimit(tags, concurrency, (tag) => client.manifest(repository, tag), signal);
  const byDigest = new Map<string, { tags: string[]; manifest: (typeof manifests)[number] }>();
  manifests.forEach((manifest, i) => {
    const entry = byDigest.get(manifest.digest) ?? { tags: [], manifest };
    entry.tags.push(tags[i]!);
    byDigest.set(manifest.digest, entry);
  });
  const created = async (configDigest: string | undefined): Promise<number | undefined> => {
    if (!configDigest) return undefined;
    const config = await client.blobJson(repository, configDigest);
    const time = typeof config.created === 'string' ? Math.floor(Date.parse(config.created) / 1000) : NaN;
    return Number.isNaN(time) || time < FIRST_PLAUSIBLE_BUILD ? undefined : time;
  };
  return mapLimit(
    [...byDigest.values()],
    concurrency,
    async ({ tags: digestTags, manifest }): Promise<Candidate> => {
      let time: number | undefined;
      let children: string[] | undefined;
      if (isIndex(manifest)) {
        children = (manifest.manifests ?? []).map((m) => m.digest);
        const childTimes = await mapLimit(
          children,
          concurrency,
          // A manifest the index lists but the registry no longer has (a run cut short between a
          // child's delete and its index's, a partial push) is absent, not a reason to fail the repository.
          async (child) => {
            const listed = await client.manifest(repository, child).catch((err: unknown) => {
              if (err instanceof RegistryError && err.status === 404) return undefined;
              throw err;
            });
            return listed ? created(listed.config?.digest) : undefined;
          },
          signal,
        );
        // Build attestations (buildx adds one to every index by default) have no `created`: the
        // index takes the newest time its manifests know, unknown only if none knows one.
        const known = childTimes.filter((t): t is number => t !== undefined);
        time = known.length > 0 ? Math.max(...known) : undefined;
      } else {
        time = await created(manifest.config?.digest);
      }
      const candidate: Candidate = {
        digest: manifest.digest,
        tags: digestTags.sort(),
        kind: children ? 'index' : 'image',
        pushedTime: time,
        pulledTime: 0,
        createdTime: time,
      };
      if (children) candidate.children = children;
      return candidate;
    },
    signal,
  );
}
