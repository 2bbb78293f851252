import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  listTags,
  manifestExists,
  pushImage,
  pushIndex,
  pushIndexOf,
  startRegistry,
  startRegistryProxy,
  type TestRegistry,
} from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { testRegistry } from '../helpers/test-jobs.js';

const month = (m: number) => `2026-${String(m).padStart(2, '0')}-01T00:00:00Z`;
/** A signature's config has no time (cosign writes none). */
const NO_TIME = '0001-01-01T00:00:00Z';
const signatureTag = (digest: string) => `sha256-${digest.slice(7)}.sig`;
const job = (registry: string, repo: string, policy: object, extra: Record<string, unknown> = {}) => ({
  name: 'RETENTION',
  parameters: { registry: { url: registry }, scope: { repositories: [repo] }, policy, dry_run: false, ...extra },
  metadata: { kind: 'Generic' },
});
/** Keeps the newest image, and every tag matching `pattern`. */
const newestAnd = (pattern: string) => {
  const policy = oneRulePolicy('latestPushedK', 1);
  policy.rules.push({
    ...policy.rules[0]!,
    template: 'always',
    params: {} as never,
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern }],
  });
  return policy;
};

/** What a retention run references that it must not break: indexes it keeps, and what is attached to what it keeps. */
describe('retention keeps what kept artifacts reference, and deletes what deleted ones leave behind', () => {
  let registry: TestRegistry;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    h = await createHarness({ registry: testRegistry(DEFAULT_REGISTRY_SETTINGS) });
  });
  after(async () => {
    await h.close();
    await registry.stop();
  });

  const repositoryLog = (done: JobStats, repo: string) => readFileSync(join(h.logDir, `${done.results![repo]!.job_id}.log`), 'utf8');

  it('an index pushed during the run over a doomed image keeps it: the new index is not left broken', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const repo = 'newidx/app';
      const p = await pushImage(registry.url, repo, 'p-amd64', month(1));
      const q = await pushImage(registry.url, repo, 'q-amd64', month(2));
      await pushImage(registry.url, repo, 'z', month(5));
      // As the first delete goes out, CI publishes release-2: an index over the other doomed image
      // (`docker buildx imagetools create` over per-arch tags).
      let index: string | undefined;
      let listed = '';
      proxy.beforeDelete = async (digest) => {
        if (index) return;
        listed = digest === p ? q : p;
        index = await pushIndexOf(registry.url, repo, 'release-2', [listed]);
      };
      const submitted = await h.submit(
        job(proxy.url, repo, newestAnd('release-*'), { concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0.5 } }),
      );
      const done = await h.waitForStatus(submitted.id, ['Success', 'Error'], 60_000);
      assert.ok(index, 'the index was pushed');
      assert.ok((await listTags(registry.url, repo)).includes('release-2'));
      assert.equal(
        await manifestExists(registry.url, repo, listed),
        true,
        `release-2 (${index}) lists ${listed}\n${repositoryLog(done, repo)}`,
      );
      assert.match(repositoryLog(done, repo), /not deleted: listed by sha256:[0-9a-f]{64}, which tag release-2 points at/);
    } finally {
      await proxy.close();
    }
  });

  it('a doomed tag moved during the run onto a new index over a doomed image keeps that image', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const repo = 'moved-doomed/app';
      const a = await pushImage(registry.url, repo, 'a', month(1));
      const b = await pushImage(registry.url, repo, 'b', month(2));
      await pushImage(registry.url, repo, 'z', month(5));
      // As the first delete goes out, `docker buildx imagetools create -t <the other doomed tag> <its image>`.
      let index: string | undefined;
      let listed = '';
      proxy.beforeDelete = async (digest) => {
        if (index) return;
        listed = digest === a ? b : a;
        index = await pushIndexOf(registry.url, repo, digest === a ? 'b' : 'a', [listed]);
      };
      const submitted = await h.submit(
        job(proxy.url, repo, oneRulePolicy('latestPushedK', 1), { concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0.5 } }),
      );
      const done = await h.waitForStatus(submitted.id, ['Success', 'Error'], 90_000);
      assert.ok(index, 'the index was pushed');
      assert.equal(await manifestExists(registry.url, repo, index), true, 'the new index is still there');
      assert.equal(await manifestExists(registry.url, repo, listed), true, `${index} lists ${listed}\n${repositoryLog(done, repo)}`);
    } finally {
      await proxy.close();
    }
  });

  it('the signatures of platform images that an index pushed during the run lists stay', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const repo = 'recursive-new/app';
      const old = await pushIndex(registry.url, repo, 'v1', month(1));
      await pushImage(registry.url, repo, 'z', month(5));
      for (const platform of old.children) await pushImage(registry.url, repo, signatureTag(platform), NO_TIME);
      // As v1 (doomed) goes, CI publishes release-2: an index over the same platform images.
      let index: string | undefined;
      proxy.beforeDelete = async () => {
        index ??= await pushIndexOf(registry.url, repo, 'release-2', old.children);
      };
      const submitted = await h.submit(
        job(proxy.url, repo, newestAnd('release-*'), { concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0.5 } }),
      );
      const done = await h.waitForStatus(submitted.id, ['Success', 'Error'], 90_000);
      assert.ok(index, 'release-2 was pushed');
      for (const platform of old.children) assert.equal(await manifestExists(registry.url, repo, platform), true);
      assert.deepEqual(
        (await listTags(registry.url, repo)).filter((t) => t.endsWith('.sig')),
        old.children.map(signatureTag).sort(),
        `release-2 (${index}) lists ${old.children.join(', ')}\n${repositoryLog(done, repo)}`,
      );
    } finally {
      await proxy.close();
    }
  });

  it('a kept index of indexes keeps a tagged image it lists through an untagged inner index', async () => {
    const repo = 'nested/app';
    const a = await pushImage(registry.url, repo, 'a-amd64', month(1));
    await pushImage(registry.url, repo, 'z', month(5));
    // An untagged inner index over `a` (pushed by digest), and the tagged `bundle` over it.
    const size = (await fetch(`${registry.url}/v2/${repo}/manifests/${a}`, { method: 'HEAD' })).headers.get('content-length');
    const inner = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: a, size: Number(size) }],
    });
    const innerDigest = `sha256:${createHash('sha256').update(inner).digest('hex')}`;
    const put = await fetch(`${registry.url}/v2/${repo}/manifests/${innerDigest}`, {
      method: 'PUT',
      body: inner,
      headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    });
    assert.equal(put.status, 201);
    const outer = await pushIndexOf(registry.url, repo, 'bundle', [innerDigest]);
    const done = await h.waitForStatus((await h.submit(job(registry.url, repo, newestAnd('bundle')))).id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal(await manifestExists(registry.url, repo, outer), true);
    assert.equal(await manifestExists(registry.url, repo, a), true, `bundle → ${innerDigest} → ${a}\n${repositoryLog(done, repo)}`);
  });

  it('a signature of a deleted signature goes too, instead of staying behind for ever', async () => {
    const repo = 'sigsig/app';
    const x = await pushImage(registry.url, repo, 'x', month(1));
    await pushImage(registry.url, repo, 'z', month(5));
    const signature = await pushImage(registry.url, repo, signatureTag(x), NO_TIME);
    await pushImage(registry.url, repo, signatureTag(signature), NO_TIME);
    const done = await h.waitForStatus(
      (await h.submit(job(registry.url, repo, oneRulePolicy('latestPushedK', 1)))).id,
      ['Success', 'Error'],
      60_000,
    );
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(
      await listTags(registry.url, repo),
      ['z'],
      `x, its signature and the signature's signature go\n${repositoryLog(done, repo)}`,
    );
  });

  it('`cosign sign --recursive` signatures of an index’s platform images stay with a kept index and go with a deleted one', async () => {
    const repo = 'recursive/app';
    const old = await pushIndex(registry.url, repo, 'v1', month(1));
    const kept = await pushIndex(registry.url, repo, 'v2', month(5));
    for (const platform of [...old.children, ...kept.children]) await pushImage(registry.url, repo, signatureTag(platform), NO_TIME);
    const done = await h.waitForStatus(
      (await h.submit(job(registry.url, repo, oneRulePolicy('latestPushedK', 1, 'v*')))).id,
      ['Success', 'Error'],
      60_000,
    );
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, repo), [...kept.children.map(signatureTag), 'v2'].sort(), repositoryLog(done, repo));
  });
});
