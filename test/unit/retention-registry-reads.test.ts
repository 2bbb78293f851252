import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { loadCandidates } from '../../src/retention/load-candidates.js';
import { resultTable } from '../../src/retention/result-table.js';
import type { Candidate } from '../../src/retention/select.js';
import { withFullTargets } from '../../src/activities/execute-job.js';

const IMAGE = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const sha = (body: string) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/**
 * A registry of the distribution API's reads, held in memory, with the quirks under test: a
 * catalog page size cap, a Link that leads back, reads that take a while (to count them in flight),
 * tags that vanish between the list and their manifest.
 */
class FakeRegistry {
  manifests = new Map<string, { body: string; mediaType: string }>();
  tags = new Map<string, Map<string, string>>();
  blobs = new Map<string, string>();
  maxCatalogEntries = 1000;
  loopingTags = false;
  readDelayMs = 0;
  vanishAfterList = new Set<string>();
  inFlight = 0;
  peakInFlight = 0;
  hugeTagPage = 0;
  private server: Server | undefined;
  url = '';

  image(repo: string, tag: string | undefined, config: string): string {
    const configDigest = sha(config);
    this.blobs.set(configDigest, config);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: IMAGE,
      config: { mediaType: 'x', digest: configDigest, size: config.length },
      layers: [],
    });
    return this.put(repo, tag, body, IMAGE);
  }

  index(repo: string, tag: string | undefined, children: string[]): string {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: children.map((digest) => ({ mediaType: IMAGE, digest, size: 1 })),
    });
    return this.put(repo, tag, body, INDEX);
  }

  private put(repo: string, tag: string | undefined, body: string, mediaType: string): string {
    const digest = sha(body);
    this.manifests.set(digest, { body, mediaType });
    if (tag) {
      const tags = this.tags.get(repo) ?? new Map<string, string>();
      tags.set(tag, digest);
      this.tags.set(repo, tags);
    }
    return digest;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url!, 'http://x');
        const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
          res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
        if (url.pathname === '/v2/_catalog') {
          const n = url.searchParams.get('n');
          if (n !== null && Number(n) > this.maxCatalogEntries) {
            json(400, {
              errors: [{ code: 'PAGINATION_NUMBER_INVALID', message: 'invalid number of results requested', detail: { n: Number(n) } }],
            });
            return;
          }
          json(200, { repositories: [...this.tags.keys()].sort() });
          return;
        }
        const tagsList = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
        if (tagsList) {
          const repo = tagsList[1]!;
          if (this.hugeTagPage > 0) {
            json(200, { name: repo, tags: Array.from({ length: this.hugeTagPage }, (_, i) => `t${i}`) });
            return;
          }
          const tags = [...(this.tags.get(repo)?.keys() ?? [])];
          for (const tag of this.vanishAfterList) this.tags.get(repo)?.delete(tag);
          json(200, { name: repo, tags }, this.loopingTags ? { link: `</v2/${repo}/tags/list?n=1000>; rel="next"` } : {});
          return;
        }
        this.inFlight += 1;
        this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
        try {
          if (this.readDelayMs > 0) await new Promise((r) => setTimeout(r, this.readDelayMs));
          const manifest = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
          if (manifest) {
            const [, repo, reference] = manifest;
            const digest = reference!.startsWith('sha256:') ? reference! : this.tags.get(repo!)?.get(reference!);
            const found = digest ? this.manifests.get(digest) : undefined;
            if (!found) {
              json(404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
              return;
            }
            res
              .writeHead(200, { 'content-type': found.mediaType, 'docker-content-digest': digest! })
              .end(req.method === 'HEAD' ? undefined : found.body);
            return;
          }
          const blob = /^\/v2\/(.+)\/blobs\/(.+)$/.exec(url.pathname);
          const data = blob ? this.blobs.get(blob[2]!) : undefined;
          if (data === undefined) {
            json(404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
            return;
          }
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data);
        } finally {
          this.inFlight -= 1;
        }
      })();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

const created = (date: string) => JSON.stringify({ created: `${date}T00:00:00Z`, architecture: 'amd64', os: 'linux' });

describe('what retention reads from a registry, and what it makes of odd answers', () => {
  let registry: FakeRegistry;
  let client: RegistryClient;
  before(async () => {
    registry = new FakeRegistry();
    await registry.start();
    client = new RegistryClient({ url: registry.url }, { timeoutMs: 10_000, retry: { retries: 0, maxRetryAfterMs: 0, backoffMs: 0 } });
  });
  after(() => registry.close());

  it('a catalog page size over the registry’s cap (catalog.maxentries: 400 PAGINATION_NUMBER_INVALID) is asked again without one', async () => {
    registry.image('capped/app', 'v1', created('2026-01-01'));
    registry.maxCatalogEntries = 100;
    try {
      assert.ok((await client.catalog()).includes('capped/app'));
    } finally {
      registry.maxCatalogEntries = 1000;
    }
  });

  it('a Link that leads back to a page already read ends the listing with an error, not a loop', async () => {
    registry.image('looping/app', 'v1', created('2026-01-01'));
    registry.loopingTags = true;
    try {
      await assert.rejects(client.tags('looping/app'), /next page .* was read already/);
    } finally {
      registry.loopingTags = false;
    }
  });

  it('a page of 200,000 tags is read whole (no stack overflow from spreading it)', async () => {
    registry.hugeTagPage = 200_000;
    try {
      assert.equal((await client.tags('huge/app')).length, 200_000);
    } finally {
      registry.hugeTagPage = 0;
    }
  });

  it('a tag gone between the list and its manifest is left out, not a failure of the repository', async () => {
    registry.image('vanish/app', 'a', created('2026-01-01'));
    registry.image('vanish/app', 'b', created('2026-02-01'));
    registry.image('vanish/app', 'c', created('2026-03-01'));
    registry.vanishAfterList.add('b');
    const skipped: string[] = [];
    try {
      const candidates = await loadCandidates(client, 'vanish/app', 8, undefined, { onSkip: (m) => skipped.push(m) });
      assert.deepEqual(candidates.flatMap((c) => c.tags).sort(), ['a', 'c']);
      assert.match(skipped.join('\n'), /tag b is gone/);
    } finally {
      registry.vanishAfterList.clear();
    }
  });

  it('a config that is not JSON, or not an object, gives no time; the other artifacts load', async () => {
    registry.image('odd/app', 'bytes', 'not json at all');
    registry.image('odd/app', 'null', 'null');
    registry.image('odd/app', 'good', created('2026-03-01'));
    const byTag = new Map((await loadCandidates(client, 'odd/app', 8)).map((c) => [c.tags[0], c]));
    assert.equal(byTag.get('bytes')!.pushedTime, undefined);
    assert.equal(byTag.get('null')!.pushedTime, undefined);
    assert.equal(byTag.get('good')!.pushedTime, Date.parse('2026-03-01T00:00:00Z') / 1000);
  });

  it('reads stay within the budget with indexes nested in the load (8 in flight, not 8 × 8)', async () => {
    for (let i = 0; i < 8; i++) {
      const children = Array.from({ length: 8 }, (_, p) =>
        registry.image('nested/app', undefined, created(`2026-01-0${(p % 9) + 1}`) + ` ${i}`),
      );
      registry.index('nested/app', `v${i}`, children);
    }
    registry.readDelayMs = 30;
    registry.peakInFlight = 0;
    try {
      const candidates = await loadCandidates(client, 'nested/app', 8);
      assert.equal(candidates.length, 8);
      assert.ok(registry.peakInFlight <= 8, `peak reads in flight ${registry.peakInFlight}`);
      assert.ok(registry.peakInFlight >= 4, `reads went in parallel (peak ${registry.peakInFlight})`);
    } finally {
      registry.readDelayMs = 0;
    }
  });

  it('an index of indexes takes the newest time of the images below it', async () => {
    const image = registry.image('deep/app', undefined, created('2026-05-01'));
    const inner = registry.index('deep/app', undefined, [image]);
    registry.index('deep/app', 'outer', [inner]);
    const [outer] = await loadCandidates(client, 'deep/app', 8);
    assert.equal(outer!.kind, 'index');
    assert.equal(outer!.pushedTime, Date.parse('2026-05-01T00:00:00Z') / 1000);
  });
});

describe('the result table', () => {
  it('prints 150,000 rows (no stack overflow from spreading their widths)', () => {
    const rows = Array.from({ length: 150_000 }, (_, i) => ({
      candidate: { digest: sha(String(i)), tags: [`t${i}`], kind: 'image', pushedTime: 0, pulledTime: 0, createdTime: 0 } as Candidate,
      retention: 'DEL' as const,
    }));
    const table = resultTable('big/app', rows);
    assert.equal(table.split('\n').length, 150_000 + 4);
  });
});

describe('plans for workflow code from before targetKey (a rolling deploy)', () => {
  it('say every target’s parameters in full, and no targetKey', () => {
    const compact = {
      targets: [{ target: 'a' }, { target: 'b', parameters: { target: 'b', extra: 1 } }],
      targetKey: 'target',
      poolSize: 2,
    };
    assert.deepEqual(withFullTargets(compact), {
      targets: [
        { target: 'a', parameters: { target: 'a' } },
        { target: 'b', parameters: { target: 'b', extra: 1 } },
      ],
      poolSize: 2,
    });
    const full = { targets: [{ target: 'a', parameters: { repository: 'a' } }] };
    assert.equal(withFullTargets(full), full);
  });
});
