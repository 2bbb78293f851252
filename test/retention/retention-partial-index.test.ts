import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  addTag,
  listTags,
  manifestExists,
  pushImage,
  pushIndex,
  startRegistry,
  startRegistryProxy,
  type RegistryProxy,
  type TestRegistry,
} from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { testRegistry } from '../helpers/test-jobs.js';

/**
 * An index listing a manifest that is gone: the registry serves the index, and its pull breaks.
 * A run must never leave one behind (indexes are deleted before what they list), and one left
 * by anything else (a partial push, an operator) must not fail the repository's every later run.
 */
describe('retention and an index whose manifests are not all there', () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.url);
    h = await createHarness({ registry: testRegistry(DEFAULT_REGISTRY_SETTINGS) });
  });
  after(async () => {
    await h.close();
    await proxy.close();
    await registry.stop();
  });
  const run = async (repository: string): Promise<{ job: JobStats; repositoryJob: JobStats }> => {
    const job = await h.submit({
      name: 'RETENTION',
      parameters: { registry: { url: proxy.url }, scope: { repositories: [repository] }, policy: oneRulePolicy('latestPushedK', 1) },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    return { job: done, repositoryJob: await h.stats(done.results![repository]!.job_id) };
  };

  it('a failed index delete keeps the manifests it lists, tagged ones too; the next run deletes them all', async () => {
    // `rel` (January) is an index whose amd64 image is also tagged; `z` (May) is the one kept.
    const index = await pushIndex(registry.url, 'part/app', 'rel', '2026-01-01T00:00:00Z');
    await addTag(registry.url, 'part/app', index.children[0]!, 'a-amd64');
    await pushImage(registry.url, 'part/app', 'z', '2026-05-01T00:00:00Z');
    proxy.failing.add(index.digest);
    const first = await run('part/app');
    assert.equal(first.job.status, 'Error');
    assert.deepEqual(await listTags(registry.url, 'part/app'), ['a-amd64', 'rel', 'z'], 'the index and what it lists stay');
    for (const child of index.children) assert.equal(await manifestExists(registry.url, 'part/app', child), true);
    proxy.failing.clear();
    const second = await run('part/app');
    assert.equal(second.job.status, 'Success', `${second.job.last_error} ${second.repositoryJob.last_error}`);
    assert.deepEqual(await listTags(registry.url, 'part/app'), ['z']);
  });

  it('an index listing a manifest the registry no longer has does not fail the repository', async () => {
    const index = await pushIndex(registry.url, 'broken/app', 'old', '2026-01-01T00:00:00Z');
    await pushImage(registry.url, 'broken/app', 'new', '2026-05-01T00:00:00Z');
    // As a partial push or an operator leaves it: one platform image gone, the index still there.
    assert.equal((await fetch(`${registry.url}/v2/broken/app/manifests/${index.children[1]!}`, { method: 'DELETE' })).status, 202);
    const { job, repositoryJob } = await run('broken/app');
    assert.equal(job.status, 'Success', `${job.last_error} ${repositoryJob.last_error}`);
    // Ranked by the platform image still there (January): latestPushedK 1 keeps `new` only.
    assert.deepEqual(await listTags(registry.url, 'broken/app'), ['new']);
  });
});
