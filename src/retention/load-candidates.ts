import { isIndex, type RegistryClient } from '../registry/registry-client.js';
import { mapLimit } from '../process/limits.js';
import type { Candidate } from './select.js';

/**
 * The artifacts of a repository, one per manifest digest with every tag on it. Push time is the
 * image config's `created` (the distribution API records no push or pull times); an index takes
 * the newest of its manifests. Reads run `concurrency` at a time.
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
  const created = async (configDigest: string | undefined): Promise<number> => {
    if (!configDigest) return 0;
    const config = await client.blobJson(repository, configDigest);
    const time = typeof config.created === 'string' ? Date.parse(config.created) : NaN;
    return Number.isNaN(time) ? 0 : Math.floor(time / 1000);
  };
  return mapLimit(
    [...byDigest.values()],
    concurrency,
    async ({ tags: digestTags, manifest }): Promise<Candidate> => {
      let time: number;
      let children: string[] | undefined;
      if (isIndex(manifest)) {
        children = (manifest.manifests ?? []).map((m) => m.digest);
        const childTimes = await mapLimit(
          children,
          concurrency,
          async (child) => created((await client.manifest(repository, child)).config?.digest),
          signal,
        );
        time = Math.max(0, ...childTimes);
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
