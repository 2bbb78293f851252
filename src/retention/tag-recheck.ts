import { isIndex } from '../registry/manifest.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { absentAs } from '../registry/registry-error.js';
import { mapLimit, type Limited } from '../process/limits.js';
import { walkListed } from './load-candidates.js';

/**
 * The tags that point somewhere else than a run's snapshot said: tags new since it (pushed while the
 * run deleted), and those of `watched` (every tag the run knows) whose digest changed (moved
 * onto another manifest). A registry deletes a manifest by digest with every tag on it at that
 * moment, so a run that deleted on its snapshot alone would take such a tag with it. Tags gone
 * since are left out: nothing to protect. Reads go through `reads`, the run's budget.
 */
export async function tagsMovedSince(
  client: RegistryClient,
  repository: string,
  snapshot: ReadonlyMap<string, string>,
  watched: ReadonlySet<string>,
  reads: Limited,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const now = await reads(() => client.tags(repository));
  const toRead = now.filter((tag) => !snapshot.has(tag) || watched.has(tag));
  const moved = new Map<string, string>();
  await mapLimit(
    toRead,
    // Lanes only: the reads budget decides how many are in flight.
    64,
    async (tag) => {
      const digest = await reads(() => client.manifestDigest(repository, tag)).catch(absentAs(undefined));
      if (digest !== undefined && digest !== snapshot.get(tag)) moved.set(tag, digest);
    },
    signal,
  );
  return moved;
}

/**
 * The manifests `digest` lists, through inner indexes too, as the load reads a candidate index's:
 * none for an image, or for a manifest that is gone. Reads go through `reads`, the run's budget.
 */
export async function manifestsListedBy(
  client: RegistryClient,
  repository: string,
  digest: string,
  reads: Limited,
  signal?: AbortSignal,
): Promise<string[]> {
  signal?.throwIfAborted();
  const manifest = await reads(() => client.manifest(repository, digest)).catch(absentAs(undefined));
  if (!manifest || !isIndex(manifest)) return [];
  const children = (manifest.manifests ?? []).map((m) => m.digest);
  // Lanes only: the reads budget decides how many are in flight.
  return (await walkListed(client, repository, children, reads, { lanes: 64, ...(signal ? { signal } : {}) })).listed;
}
