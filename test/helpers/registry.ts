/**
 * A real OCI registry for tests (Debian's docker-registry: deletes enabled, a random loopback
 * port, a throwaway storage dir), fixture images pushed through the OCI API, and a proxy in front
 * that counts deletes in flight, fails chosen digests, slows deletes, or demands credentials.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/process/free-port.js';
import { waitFor } from './wait-for.js';

export interface TestRegistry {
  url: string;
  dir: string;
  configPath: string;
  storageDir: string;
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

export async function startRegistry(): Promise<TestRegistry> {
  ensureInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-registry-'));
  const port = await freePort();
  const storageDir = join(dir, 'data');
  const configPath = join(dir, 'config.yml');
  writeFileSync(
    configPath,
    `version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: ${storageDir}}\n  delete: {enabled: true}\nhttp: {addr: 127.0.0.1:${port}}\n`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', configPath], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${url}/v2/`)).status,
    (s) => s === 200,
    { timeoutMs: 15_000, what: 'docker-registry to answer' },
  );
  return {
    url,
    dir,
    configPath,
    storageDir,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve).once('error', resolve));
      rmSync(dir, { recursive: true, force: true });
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

export interface RegistryProxy {
  url: string;
  /** The most deletes seen in flight at once, and every delete answered (digest, status). */
  readonly peakDeletesInFlight: number;
  readonly deletes: { digest: string; status: number; at: number }[];
  /** Digests whose deletes answer 500 until removed. */
  failing: Set<string>;
  /** Every delete waits this long before it is forwarded. */
  deleteDelayMs: number;
  /** Every request it saw carried these credentials (when it demands them). */
  readonly sawCredentials: boolean;
  close(): Promise<void>;
}

/** A proxy in front of a registry; with `basicAuth` it answers 401 to requests without those credentials. */
export async function startRegistryProxy(
  target: string,
  options: { basicAuth?: { username: string; password: string } } = {},
): Promise<RegistryProxy> {
  let inFlight = 0;
  let sawCredentials = options.basicAuth !== undefined;
  const expected = options.basicAuth
    ? `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`
    : undefined;
  const proxy: RegistryProxy = {
    url: '',
    peakDeletesInFlight: 0,
    deletes: [],
    failing: new Set(),
    deleteDelayMs: 0,
    get sawCredentials() {
      return sawCredentials;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const state = proxy as { peakDeletesInFlight: number };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (expected && req.headers.authorization !== expected) {
        if (req.headers.authorization) sawCredentials = false;
        res
          .writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const isDelete = req.method === 'DELETE';
      const digest = isDelete ? decodeURIComponent(req.url!.split('/').pop()!) : '';
      if (isDelete) {
        inFlight += 1;
        state.peakDeletesInFlight = Math.max(state.peakDeletesInFlight, inFlight);
      }
      try {
        if (isDelete && proxy.deleteDelayMs > 0) await new Promise((r) => setTimeout(r, proxy.deleteDelayMs));
        if (isDelete && proxy.failing.has(digest)) {
          proxy.deletes.push({ digest, status: 500, at: Date.now() });
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}');
          return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'authorization', 'connection'].includes(k)),
        ) as Record<string, string>;
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        if (isDelete) proxy.deletes.push({ digest, status: upstream.status, at: Date.now() });
        const out = Buffer.from(await upstream.arrayBuffer());
        const outHeaders: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!['content-encoding', 'transfer-encoding', 'connection'].includes(k)) outHeaders[k] = v;
        });
        res.writeHead(upstream.status, outHeaders).end(out);
      } finally {
        if (isDelete) inFlight -= 1;
      }
    })().catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return proxy;
}
