import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface UntaggedManifest {
  repository: string;
  digest: string;
  /** The manifest's revision link directory: removing it removes the manifest from its repository. */
  revisionDir: string;
}

const HEX = /^[a-f0-9]{64}$/;

/**
 * The manifests no tag reaches, in a distribution registry's filesystem storage. Distribution
 * 2.x's own `garbage-collect --delete-untagged` takes every manifest without a tag of its own,
 * the platform manifests of a tagged multi-arch index among them, and breaks every such image
 * (distribution#3178). Here a tag reaches its manifest and, through an index, every manifest the
 * index lists, at any depth, and what it reaches reaches its accessories (reachedByTags). A manifest pushed (its revision linked) less than `windowMs` ago is
 * left out, as Harbor's time window leaves it: its tag, or the index listing it, may be on its way.
 */
export async function untaggedManifests(storageDir: string, windowMs = 0, now = Date.now()): Promise<UntaggedManifest[]> {
  const found: UntaggedManifest[] = [];
  // Each repository's tags are read once its revisions are listed: a tag pushed after that goes to
  // the deletion's second look (reachedByTags again), a revision linked after `now` is left out.
  const reachedIn = new Map<string, Set<string>>();
  for await (const { repository, hex, revisionDir, linkedAtMs } of linkedRevisions(storageDir)) {
    let reached = reachedIn.get(repository);
    if (!reached) reachedIn.set(repository, (reached = await reachedByTags(storageDir, repository)));
    // One linked within the window is young, one linked since `now` pushed during the run.
    if (reached.has(hex) || now - linkedAtMs < windowMs || linkedAtMs >= now) continue;
    found.push({ repository, digest: `sha256:${hex}`, revisionDir });
  }
  return found;
}

/**
 * The manifests (hex digests) a repository's tags reach now, through indexes at any depth, and
 * the accessories of what they reach (a signature, an SBOM: a manifest whose `subject` is one),
 * which Harbor keeps with their image: pushed through the referrers API they carry no tag.
 */
export async function reachedByTags(storageDir: string, repository: string): Promise<Set<string>> {
  const root = registryRoot(storageDir);
  const manifestsDir = join(root, 'repositories', repository, '_manifests');
  const tagsDir = join(manifestsDir, 'tags');
  const reached = new Set<string>();
  const queue: string[] = [];
  for (const tag of await readdir(tagsDir).catch(() => [] as string[])) {
    const link = await readFile(join(tagsDir, tag, 'current', 'link'), 'utf8').catch(() => '');
    const hex = link.trim().replace(/^sha256:/, '');
    if (HEX.test(hex)) queue.push(hex);
  }
  const referrers = await referrersIn(root, join(manifestsDir, 'revisions', 'sha256'));
  while (queue.length > 0) {
    const hex = queue.pop()!;
    if (reached.has(hex)) continue;
    reached.add(hex);
    for (const child of await indexChildren(root, hex)) queue.push(child);
    for (const accessory of referrers.get(hex) ?? []) queue.push(accessory);
  }
  return reached;
}

/** A repository's manifests that name a `subject`, by the subject they name. */
async function referrersIn(root: string, revisionsDir: string): Promise<Map<string, string[]>> {
  const bySubject = new Map<string, string[]>();
  for (const hex of (await readdir(revisionsDir).catch(() => [] as string[])).filter((h) => HEX.test(h))) {
    const [subject] = hexDigests([(await readManifest(root, hex)).subject]);
    if (subject) bySubject.set(subject, [...(bySubject.get(subject) ?? []), hex]);
  }
  return bySubject;
}

/**
 * How many blobs only `doomed` manifests keep in use: the blobs a collection frees once their
 * revisions are gone, on top of those no manifest uses now (the registry's own dry-run count).
 * Marked as the registry marks them: every linked revision of every repository keeps its own
 * blob and what it references (an image its config and layers, an index the manifests it lists).
 */
export async function blobsOnlyUsedBy(storageDir: string, doomed: readonly UntaggedManifest[]): Promise<number> {
  const root = registryRoot(storageDir);
  const doomedKeys = new Set(doomed.map((m) => `${m.repository}@${m.digest.replace(/^sha256:/, '')}`));
  const kept = new Set<string>();
  const freed = new Set<string>();
  for await (const { repository, hex } of linkedRevisions(storageDir)) {
    const into = doomedKeys.has(`${repository}@${hex}`) ? freed : kept;
    into.add(hex);
    const manifest = await readManifest(root, hex);
    for (const blob of hexDigests([manifest.config, ...(manifest.layers ?? []), ...(manifest.manifests ?? [])])) into.add(blob);
  }
  return [...freed].filter((hex) => !kept.has(hex)).length;
}

/**
 * Every manifest revision still linked in a repository (one deleted through the API leaves its
 * revision directory without its link: gone already), with when it was linked.
 */
async function* linkedRevisions(
  storageDir: string,
): AsyncGenerator<{ repository: string; hex: string; revisionDir: string; linkedAtMs: number }> {
  const reposRoot = join(registryRoot(storageDir), 'repositories');
  for (const manifestsDir of await manifestDirs(reposRoot)) {
    const repository = relative(reposRoot, join(manifestsDir, '..'));
    const revisionsDir = join(manifestsDir, 'revisions', 'sha256');
    for (const hex of (await readdir(revisionsDir).catch(() => [] as string[])).filter((h) => HEX.test(h))) {
      const linked = await stat(join(revisionsDir, hex, 'link')).catch(() => undefined);
      if (linked) yield { repository, hex, revisionDir: join(revisionsDir, hex), linkedAtMs: linked.mtimeMs };
    }
  }
}

const registryRoot = (storageDir: string) => join(storageDir, 'docker', 'registry', 'v2');

interface Descriptor {
  digest?: string;
}

/** A manifest's references: an image's config and layers, an index's manifests, an accessory's subject; none when its blob is unreadable. */
async function readManifest(
  root: string,
  hex: string,
): Promise<{ config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; subject?: Descriptor }> {
  const data = await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), 'utf8').catch(() => '');
  try {
    return JSON.parse(data) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[]; subject?: Descriptor };
  } catch {
    return {};
  }
}

function hexDigests(descriptors: readonly (Descriptor | undefined)[]): string[] {
  return descriptors.map((d) => (d?.digest ?? '').replace(/^sha256:/, '')).filter((h) => HEX.test(h));
}

/** Every `_manifests` directory under the repositories root (repository names nest: `proj/app`). */
async function manifestDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const dirs: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    if (entry.name === '_manifests') dirs.push(join(dir, entry.name));
    else if (!entry.name.startsWith('_')) dirs.push(...(await manifestDirs(join(dir, entry.name))));
  }
  return dirs;
}

/** The manifests an index (or manifest list) lists; none for an image manifest or an unreadable blob. */
async function indexChildren(root: string, hex: string): Promise<string[]> {
  return hexDigests((await readManifest(root, hex)).manifests ?? []);
}
