import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHarness, type Harness } from '../helpers/harness.js';
import { listTags, pushImage, startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';

describe('a worker killed with SIGKILL in the middle of retention deletes', () => {
  let h: Harness;
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  const workers: ChildProcess[] = [];
  before(async () => {
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.url);
    h = await createHarness({ worker: false });
  });
  after(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers.map(exited));
    await h.close();
    await proxy.close();
    await registry.stop();
  });

  it('loses nothing and repeats no completed delete: the next attempt deletes only what remains', async () => {
    const digests: string[] = [];
    for (let i = 1; i <= 12; i++)
      digests.push(await pushImage(registry.url, 'crash/app', `t${i}`, `2026-01-${String(i).padStart(2, '0')}T00:00:00Z`));
    proxy.deleteDelayMs = 250;
    workers.push(spawnWorkerProcess(h.config, h.logDir));
    const job = await h.submit({
      name: 'RETENTION',
      parameters: {
        registry: { url: proxy.url },
        scope: { repositories: ['crash/app'] },
        concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0 },
        policy: oneRulePolicy(),
      },
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      async () => proxy.deletes.filter((d) => d.status === 202).length,
      (n) => n >= 4,
      { timeoutMs: 60_000, what: 'a few deletes on the first worker' },
    );
    workers[0]!.kill('SIGKILL');
    await exited(workers[0]!);
    const beforeCrash = proxy.deletes.length;
    workers.push(spawnWorkerProcess(h.config, h.logDir));

    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.ok(proxy.deletes.length > beforeCrash, 'the second worker went on deleting');
    assert.deepEqual(await listTags(registry.url, 'crash/app'), ['t12']);
    const effective = new Map<string, number>();
    for (const d of proxy.deletes) if (d.status === 202) effective.set(d.digest, (effective.get(d.digest) ?? 0) + 1);
    assert.equal(effective.size, 11);
    for (const [digest, times] of effective) assert.equal(times, 1, `${digest} was deleted ${times} times`);
    for (const d of proxy.deletes) assert.ok(d.status === 202 || d.status === 404, `a delete answered ${d.status}`);

    const repo = done.results!['crash/app']!;
    assert.equal(repo.status, 'Success');
    assert.deepEqual(repo.summary?.deleted, 11);
    const log = readFileSync(join(h.logDir, `${repo.job_id}.log`), 'utf8');
    assert.match(log, /resuming an interrupted run: \d+ delete\(s\) already done/);
    for (const digest of digests.slice(0, 11)) assert.match(log, new RegExp(`${digest} \\| t\\d+ +\\| image .*\\| DEL`));
  });
});
