import { isIndex, type Manifest } from '../registry/manifest.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { absentAs } from '../registry/registry-error.js';
import { concurrencyLimit, mapLimit, type Limited } from '../process/limits.js';
import type { Candidate } from './select.js';

/**
 * Build times before Docker existed are placeholders, not times: reproducible builds stamp
 * `created` with 1970 (ko, Bazel, Nix, SOURCE_DATE_EPOCH=0).
 */
const FIRST_PLAUSIBLE_BUILD = Date.UTC(2013, 0, 1) / 1000;

/** How deep an index of indexes is read for its time; deeper ones give none (kept by time rules). */
const MAX_INDEX_DEPTH = 3;

export interface LoadOptions {
  /** Every read of the load goes through it: one budget for the repository (default: `concurrency` of its own). */
  reads?: Limited;
  /** Told of a tag left out (gone meanwhile), e.g. the job's log. */
  onSkip?: (message: string) => void;
}

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
  { reads = concurrencyLimit(concurrency), onSkip }: LoadOptions = {},
): Promise<Candidate[]> {
  const tags = await reads(() => client.tags(repository));
  const manifests = await mapLimit(
    tags,
    concurrency,
    // A tag deleted since the list (an overlapping run, an operator) is not a candidate, and no
    // reason to fail the repository.
    (tag) => reads(() => client.manifest(repository, tag)).catch(absentAs(undefined)),
    signal,
  );
  const byDigest = new Map<string, { tags: string[]; manifest: NonNullable<(typeof manifests)[number]> }>();
  manifests.forEach((manifest, i) => {
    if (!manifest) {
      onSkip?.(`tag ${tags[i]} is gone since the tags were listed: not a candidate`);
      return;
    }
    const entry = byDigest.get(manifest.digest) ?? { tags: [], manifest };
    entry.tags.push(tags[i]!);
    byDigest.set(manifest.digest, entry);
  });
  const created = async (configDigest: string | undefined): Promise<number | undefined> => {
    if (!configDigest) return undefined;
    // A config that is gone, not JSON or not an object (artifacts other than images carry any
    // bytes there) gives no time: the artifact is kept by time rules, the repository goes on.
    const config: unknown = await reads(() => client.blobJson(repository, configDigest)).catch((err: unknown) =>
      err instanceof SyntaxError ? undefined : absentAs(undefined)(err),
    );
    const stamp = config !== null && typeof config === 'object' ? (config as { created?: unknown }).created : undefined;
    const time = typeof stamp === 'string' ? Math.floor(Date.parse(stamp) / 1000) : NaN;
    return Number.isNaN(time) || time < FIRST_PLAUSIBLE_BUILD ? undefined : time;
  };
  return mapLimit(
    [...byDigest.values()],
    concurrency,
    async ({ tags: digestTags, manifest }): Promise<Candidate> => {
      let time: number | undefined;
      let children: string[] | undefined;
      if (isIndex(manifest)) {
        // Every manifest it lists, nested ones too: what a kept index reaches through an untagged
        // inner index must stay as much as what it lists itself.
        ({ time, listed: children } = await walkListed(
          client,
          repository,
          (manifest.manifests ?? []).map((m) => m.digest),
          reads,
          { lanes: concurrency, imageTime: (image) => created(image.config?.digest), ...(signal ? { signal } : {}) },
        ));
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

/**
 * What an index's `children` list, through inner indexes too (a few levels at most), and the newest
 * time `imageTime` knows among their images, an inner index by its own. Build attestations (buildx
 * adds one to every index by default) have no `created`; unknown only if none knows one. Reads go
 * through `reads`, `lanes` of them at a time at most.
 */
export async function walkListed(
  client: RegistryClient,
  repository: string,
  children: readonly string[],
  reads: Limited,
  options: { lanes: number; signal?: AbortSignal; imageTime?: (image: Manifest) => Promise<number | undefined> },
  depth = 0,
): Promise<{ time: number | undefined; listed: string[] }> {
  const walked = await mapLimit(
    children,
    options.lanes,
    // A manifest the index lists but the registry no longer has (a run cut short between a
    // child's delete and its index's, a partial push) is absent, not a reason to fail the repository.
    async (child): Promise<{ time: number | undefined; listed: string[] }> => {
      const listed = await reads(() => client.manifest(repository, child)).catch(absentAs(undefined));
      if (!listed) return { time: undefined, listed: [] };
      if (!isIndex(listed)) return { time: await options.imageTime?.(listed), listed: [] };
      if (depth >= MAX_INDEX_DEPTH) return { time: undefined, listed: [] };
      return walkListed(
        client,
        repository,
        (listed.manifests ?? []).map((m) => m.digest),
        reads,
        options,
        depth + 1,
      );
    },
    options.signal,
  );
  const known = walked.map((w) => w.time).filter((t): t is number => t !== undefined);
  return {
    time: known.length > 0 ? known.reduce((a, b) => Math.max(a, b)) : undefined,
    listed: [...new Set([...children, ...walked.flatMap((w) => w.listed)])],
  };
}
