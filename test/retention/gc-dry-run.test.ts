import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { pushImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testRegistry } from '../helpers/test-jobs.js';

describe('GARBAGE_COLLECTION: a dry run with delete_untagged counts what the real run deletes', () => {
  let registry: TestRegistry;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    const gcConfig = `${registry.configPath}.gc.yml`;
    writeFileSync(gcConfig, readFileSync(registry.configPath, 'utf8').replace('log: {level: error}', 'log: {level: info}'));
    h = await createHarness({
      registry: testRegistry({
        ...DEFAULT_REGISTRY_SETTINGS,
        garbageCollection: { command: ['docker-registry', 'garbage-collect', gcConfig], storageDir: registry.storageDir },
      }),
    });
    await pushImage(registry.url, 'proj/app', 'keep', '2026-01-01T00:00:00Z');
    await pushImage(registry.url, 'proj/app', undefined, '2026-02-01T00:00:00Z');
  });
  after(async () => {
    await h.close();
    await registry.stop();
  });

  it('counts as eligible the blobs only the untagged manifests use, as the real run then deletes them', async () => {
    const submit = async (dry_run: boolean) => {
      const job = await h.submit({
        name: 'GARBAGE_COLLECTION',
        parameters: { dry_run, delete_untagged: true, time_window: 0 },
        metadata: { kind: 'Generic' },
      });
      const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
      assert.equal(done.status, 'Success', done.last_error);
      return { summary: JSON.parse(done.check_in!) as Record<string, number>, log: readFileSync(join(h.logDir, `${job.id}.log`), 'utf8') };
    };
    const dry = await submit(true);
    const real = await submit(false);
    assert.equal(real.summary.manifests_deleted, dry.summary.manifests_eligible, JSON.stringify({ dry: dry.summary, real: real.summary }));
    assert.equal(
      dry.summary.blobs_eligible,
      real.summary.blobs_deleted,
      `dry run ${JSON.stringify(dry.summary)} vs real run ${JSON.stringify(real.summary)}`,
    );
  });
});
