/**
 * A throwaway OCI registry on loopback (Debian's docker-registry: deletes enabled, its own storage
 * dir), and images pushed to it through the OCI API: for the tests, the benchmark and the README's
 * worked example (`npm run dev-registry`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../process/free-port.js';

export interface DevRegistry {
  url: string;
  dir: string;
  configPath: string;
  storageDir: string;
  /** The registry's process: the benchmark reads its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

/** Installs docker-registry from Debian when it is missing (tests run as root on these machines). */
function ensureInstalled(): void {
  if (spawnSync('sh', ['-c', 'command -v docker-registry']).status === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
  const install = spawnSync('apt-get', ['install', '-y', 'docker-registry'], { stdio: 'ignore', env });
  if (install.status !== 0) throw new Error('docker-registry is not installed and apt-get could not install it');
}

/** `dir`: where its config and storage go (a fresh temporary dir by default, removed on stop). */
export async function startRegistry(port?: number, dir?: string): Promise<DevRegistry> {
  ensureInstalled();
  const temporary = dir === undefined;
  dir = dir === undefined ? mkdtempSync(join(tmpdir(), 'jobservice-registry-')) : resolve(dir);
  mkdirSync(dir, { recursive: true });
  port ??= await freePort();
  const storageDir = join(dir, 'data');
  const configPath = join(dir, 'config.yml');
  writeFileSync(
    configPath,
    `version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: ${storageDir}}\n  delete: {enabled: true}\nhttp: {addr: 127.0.0.1:${port}}\n`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  while (
    (await fetch(`${url}/v2/`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not answer on ${url}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    configPath,
    storageDir,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve).once('error', resolve));
      if (temporary) rmSync(dir!, { recursive: true, force: true });
    },
  };
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';

async function putBlob(reg: string, repo: string, body: Buffer): Promise<string> {
  const digest = sha(body);
  const start = await fetch(`${reg}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start ${start.status}`);
  const location = new URL(start.headers.get('location')!, reg);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob put ${put.status} ${await put.text()}`);
  return digest;
}

async function putManifest(reg: string, repo: string, reference: string, body: string, mediaType: string): Promise<string> {
  const response = await fetch(`${reg}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body, headers: { 'content-type': mediaType } });
  if (response.status !== 201) throw new Error(`manifest ${repo}:${reference}: ${response.status} ${await response.text()}`);
  return sha(body);
}

/** An image whose config says `created`; `reference` is a tag, or omitted for an untagged manifest (pushed by digest). */
export async function pushImage(
  reg: string,
  repo: string,
  reference: string | undefined,
  created: string,
  arch = 'amd64',
): Promise<string> {
  const layer = Buffer.from(`layer ${repo}:${reference ?? 'untagged'}:${created}:${arch}`);
  const config = Buffer.from(
    JSON.stringify({ created, architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }),
  );
  const [configDigest, layerDigest] = [await putBlob(reg, repo, config), await putBlob(reg, repo, layer)];
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  });
  return putManifest(reg, repo, reference ?? sha(manifest), manifest, MANIFEST);
}

/** A multi-arch index over one image per platform; returns the index digest and its children's. */
export async function pushIndex(reg: string, repo: string, tag: string, created: string, arches = ['amd64', 'arm64']) {
  const children = [];
  for (const arch of arches) {
    const digest = await pushImage(reg, repo, undefined, created, arch);
    const size = Number(
      (await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: MANIFEST } })).headers.get(
        'content-length',
      ),
    );
    children.push({ mediaType: MANIFEST, digest, size, platform: { architecture: arch, os: 'linux' } });
  }
  const index = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: children });
  return { digest: await putManifest(reg, repo, tag, index, INDEX), children: children.map((c) => c.digest) };
}

/** An index over manifests already pushed (indexes among them: an index of indexes), under `tag`. */
export async function pushIndexOf(reg: string, repo: string, tag: string, digests: string[]): Promise<string> {
  const manifests = [];
  for (const digest of digests) {
    const head = await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: `${MANIFEST}, ${INDEX}` } });
    manifests.push({ mediaType: head.headers.get('content-type') ?? MANIFEST, digest, size: Number(head.headers.get('content-length')) });
  }
  return putManifest(reg, repo, tag, JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests }), INDEX);
}

/** Another tag on an existing manifest. */
export async function addTag(reg: string, repo: string, digest: string, tag: string): Promise<void> {
  const response = await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { headers: { accept: `${MANIFEST}, ${INDEX}` } });
  const body = await response.text();
  await putManifest(reg, repo, tag, body, response.headers.get('content-type')!.split(';')[0]!);
}

export async function listTags(reg: string, repo: string): Promise<string[]> {
  const response = await fetch(`${reg}/v2/${repo}/tags/list`);
  if (response.status === 404) return [];
  return (((await response.json()) as { tags: string[] | null }).tags ?? []).sort();
}

export async function manifestExists(reg: string, repo: string, digest: string): Promise<boolean> {
  const response = await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: `${MANIFEST}, ${INDEX}` } });
  return response.status === 200;
}

/** Every file under the storage dir with its size: what "exactly as it was" compares. */
export function storageSnapshot(dir: string): Map<string, number> {
  const files = new Map<string, number>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.set(join(entry.parentPath, entry.name), statSync(join(entry.parentPath, entry.name)).size);
  }
  return files;
}

/**
 * Many tags in one repository quickly: one shared layer, then per tag its own config (its
 * `created`) and manifest, `concurrency` tags at a time. Returns the digests in tag order.
 */
export async function pushSeries(reg: string, repo: string, tags: { tag: string; created: string }[], concurrency = 8): Promise<string[]> {
  const layer = Buffer.from(`shared layer of ${repo}`);
  const layerDigest = await putBlob(reg, repo, layer);
  const digests: string[] = new Array<string>(tags.length);
  let next = 0;
  const lane = async () => {
    while (next < tags.length) {
      const i = next++;
      const { tag, created } = tags[i]!;
      const config = Buffer.from(
        JSON.stringify({ created, architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(layer)] } }),
      );
      const configDigest = await putBlob(reg, repo, config);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      });
      digests[i] = await putManifest(reg, repo, tag, manifest, MANIFEST);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return digests;
}
