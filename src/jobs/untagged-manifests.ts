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
 * index lists, at any depth. A manifest pushed (its revision linked) less than `windowMs` ago is
 * left out, as Harbor's time window leaves it: its tag, or the index listing it, may be on its way.
 */
export async function untaggedManifests(storageDir: string, windowMs = 0, now = Date.now()): Promise<UntaggedManifest[]> {
  const root = join(storageDir, 'docker', 'registry', 'v2');
  const reposRoot = join(root, 'repositories');
  const found: UntaggedManifest[] = [];
  for (const manifestsDir of await manifestDirs(reposRoot)) {
    const repository = relative(reposRoot, join(manifestsDir, '..'));
    const revisionsDir = join(manifestsDir, 'revisions', 'sha256');
    const revisions = (await readdir(revisionsDir).catch(() => [] as string[])).filter((hex) => HEX.test(hex));
    const reached = await reachedByTags(storageDir, repository);
    for (const hex of revisions) {
      if (reached.has(hex)) continue;
      // A manifest deleted through the API leaves its revision directory without its link: gone
      // already. One linked within the window is young, one linked since `now` pushed during the run.
      const linked = await stat(join(revisionsDir, hex, 'link')).catch(() => undefined);
      if (!linked || now - linked.mtimeMs < windowMs || linked.mtimeMs >= now) continue;
      found.push({ repository, digest: `sha256:${hex}`, revisionDir: join(revisionsDir, hex) });
    }
  }
  return found;
}

/** The manifests (hex digests) a repository's tags reach now, through indexes at any depth. */
export async function reachedByTags(storageDir: string, repository: string): Promise<Set<string>> {
  const root = join(storageDir, 'docker', 'registry', 'v2');
  const tagsDir = join(root, 'repositories', repository, '_manifests', 'tags');
  const reached = new Set<string>();
  const queue: string[] = [];
  for (const tag of await readdir(tagsDir).catch(() => [] as string[])) {
    const link = await readFile(join(tagsDir, tag, 'current', 'link'), 'utf8').catch(() => '');
    const hex = link.trim().replace(/^sha256:/, '');
    if (HEX.test(hex)) queue.push(hex);
  }
  while (queue.length > 0) {
    const hex = queue.pop()!;
    if (reached.has(hex)) continue;
    reached.add(hex);
    for (const child of await indexChildren(root, hex)) queue.push(child);
  }
  return reached;
}

/**
 * How many blobs only `doomed` manifests keep in use: the blobs a collection frees once their
 * revisions are gone, on top of those no manifest uses now (the registry's own dry-run count).
 * Marked as the registry marks them: every linked revision of every repository keeps its own
 * blob and what it references (an image its config and layers, an index the manifests it lists).
 */
export async function blobsOnlyUsedBy(storageDir: string, doomed: readonly UntaggedManifest[]): Promise<number> {
  const root = join(storageDir, 'docker', 'registry', 'v2');
  const reposRoot = join(root, 'repositories');
  const doomedKeys = new Set(doomed.map((m) => `${m.repository}@${m.digest.replace(/^sha256:/, '')}`));
  const kept = new Set<string>();
  const freed = new Set<string>();
  for (const manifestsDir of await manifestDirs(reposRoot)) {
    const repository = relative(reposRoot, join(manifestsDir, '..'));
    const revisionsDir = join(manifestsDir, 'revisions', 'sha256');
    for (const hex of (await readdir(revisionsDir).catch(() => [] as string[])).filter((h) => HEX.test(h))) {
      if (!(await stat(join(revisionsDir, hex, 'link')).catch(() => undefined))) continue;
      const into = doomedKeys.has(`${repository}@${hex}`) ? freed : kept;
      into.add(hex);
      for (const blob of await references(root, hex)) into.add(blob);
    }
  }
  return [...freed].filter((hex) => !kept.has(hex)).length;
}

/** The blobs a manifest references: an image's config and layers, an index's manifests. */
async function references(root: string, hex: string): Promise<string[]> {
  const data = await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), 'utf8').catch(() => '');
  try {
    const manifest = JSON.parse(data) as {
      config?: { digest?: string };
      layers?: { digest?: string }[];
      manifests?: { digest?: string }[];
    };
    const digests = [
      manifest.config?.digest,
      ...(manifest.layers ?? []).map((l) => l.digest),
      ...(manifest.manifests ?? []).map((m) => m.digest),
    ];
    return digests.map((d) => (d ?? '').replace(/^sha256:/, '')).filter((h) => HEX.test(h));
  } catch {
    return [];
  }
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
  const data = await readFile(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), 'utf8').catch(() => '');
  try {
    const manifest = JSON.parse(data) as { manifests?: { digest?: string }[] };
    return (manifest.manifests ?? []).map((m) => (m.digest ?? '').replace(/^sha256:/, '')).filter((h) => HEX.test(h));
  } catch {
    return [];
  }
}
