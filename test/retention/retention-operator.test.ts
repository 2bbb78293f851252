import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, testTemporalAddress, type Harness } from '../helpers/harness.js';
import { pushImage, startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { resetWorkflow, temporalCli } from '../helpers/temporal-cli.js';
import { waitFor } from '../helpers/wait-for.js';

const TAGS = 12;

/** A RETENTION job's workflow closed from outside (Web UI, CLI) while its repository jobs delete. */
describe('RETENTION under operator actions mid-delete', () => {
  let registry: TestRegistry;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    // A stop grace of 8 s: a delete in flight as a stop lands gets a quarter of it (2 s) to answer.
    h = await createHarness({
      config: testConfig({ job: { stop_grace_seconds: 8, heartbeat_timeout_seconds: 5, checkin_min_interval_ms: 200 } }),
    });
  });
  after(async () => {
    await h.close();
    await registry.stop();
  });

  const effective = (p: RegistryProxy) => p.deletes.filter((d) => d.status === 202).length;

  /** Twelve tags of which the policy keeps one, and a RETENTION job deleting them one at a time through `proxy`. */
  async function retention(repo: string, month: string, proxy: RegistryProxy) {
    for (let i = 1; i <= TAGS; i++) {
      const day = String(i).padStart(2, '0');
      await pushImage(registry.url, repo, `t${day}`, `2026-${month}-${day}T00:00:00Z`);
    }
    return h.submit({
      name: 'RETENTION',
      parameters: {
        registry: { url: proxy.url },
        scope: { repositories: [repo] },
        policy: oneRulePolicy('latestPushedK', 1),
        concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0 },
      },
      metadata: { kind: 'Generic' },
    });
  }

  /** A RETENTION job deleting one a second; answers once a few went. */
  async function deleting(repo: string, month: string) {
    const proxy = await startRegistryProxy(registry.url);
    proxy.deleteDelayMs = 1000;
    const job = await retention(repo, month, proxy);
    const childId = (await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).query<{ sub_jobs?: string[] }>('stats')).sub_jobs?.[0],
      (id) => id !== undefined,
      { timeoutMs: 30_000, what: 'the repository job id' },
    ))!;
    await waitFor(
      async () => effective(proxy),
      (n) => n >= 3,
      { timeoutMs: 60_000, what: 'a few deletes' },
    );
    return { proxy, job, childId };
  }

  it('`temporal workflow cancel` of the job: its repository jobs stop deleting at once, not after the stop grace', async () => {
    const { proxy, job, childId } = await deleting('cancelparent/app', '04');
    try {
      temporalCli(testTemporalAddress(), 'workflow', 'cancel', '--workflow-id', job.id);
      const atCancel = proxy.deletes.length;
      const ended: JobStats = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error', 'Cancelled'], 60_000);
      await h.waitForStatus(childId, ['Stopped', 'Success', 'Error', 'Cancelled'], 60_000);
      assert.equal(ended.status, 'Cancelled');
      // One delete may be in flight as the cancel lands; the stop grace of 8 s would be eight more.
      assert.ok(proxy.deletes.length - atCancel <= 1, `${proxy.deletes.length - atCancel} deletes after the cancel`);
    } finally {
      await proxy.close();
    }
  });

  it("an operator's reset of a repository job mid-delete: the re-run deletes only once the replaced run's activity wound down (never two deletes in flight with deletes 1)", async () => {
    const { proxy, job, childId } = await deleting('resetchild/app', '05');
    try {
      resetWorkflow(testTemporalAddress(), childId);
      const child = await h.waitForStatus(childId, ['Stopped', 'Success', 'Error', 'Cancelled'], 120_000);
      assert.equal(child.status, 'Success', JSON.stringify(child));
      assert.equal(proxy.peakDeletesInFlight, 1, 'deletes in flight at once');
      const ended = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error', 'Cancelled'], 60_000);
      assert.equal(ended.status, 'Success', JSON.stringify(ended));
      // Everything the policy does not keep went, each once (a delete of one already gone answers 404).
      assert.equal(effective(proxy), TAGS - 1, JSON.stringify(proxy.deletes));
    } finally {
      await proxy.close();
    }
  });

  it("`temporal workflow cancel` of a repository job mid-delete: the job's results keep what it reported deleting", async () => {
    const repo = 'cancelchild/app';
    const { proxy, job, childId } = await deleting(repo, '07');
    try {
      temporalCli(testTemporalAddress(), 'workflow', 'cancel', '--workflow-id', childId);
      const child = await h.waitForStatus(childId, ['Stopped', 'Success', 'Error', 'Cancelled'], 60_000);
      assert.equal(child.status, 'Cancelled');
      const reported = JSON.parse(child.check_in ?? '{}') as { deleted?: number };
      assert.ok((reported.deleted ?? 0) >= 3, `the repository job reported ${child.check_in}`);
      const ended = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error', 'Cancelled'], 60_000);
      const result = ended.results?.[repo];
      assert.equal(result?.status, 'Cancelled', JSON.stringify(ended.results));
      assert.equal((result.summary as { deleted?: number } | undefined)?.deleted, reported.deleted, JSON.stringify(result));
    } finally {
      await proxy.close();
    }
  });

  it('a stop while a delete the registry carried out is still answering: the job counts it deleted, no ERR row', async () => {
    const repo = 'stopinflight/app';
    const proxy = await startRegistryProxy(registry.url);
    proxy.deleteAnswerDelayMs = 1000;
    try {
      const job = await retention(repo, '10', proxy);
      // The third delete is carried out and its answer on its way (a second) as the stop lands.
      await waitFor(
        async () => proxy.deletes.length,
        (n) => n >= 3,
        { timeoutMs: 60_000, what: 'three deletes carried out' },
      );
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const stopped = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 60_000);
      assert.equal(stopped.status, 'Stopped');
      const childId = stopped.results![repo]!.job_id as string;
      const child = await h.waitForStatus(childId, ['Stopped', 'Success', 'Error'], 60_000);
      const made = proxy.deletes.filter((d) => d.status === 202);
      const summary = JSON.parse(child.check_in ?? '{}') as { deleted?: number; errors?: number };
      assert.equal(summary.deleted, made.length, `check_in ${child.check_in}; the registry deleted ${made.length}`);
      assert.ok(!summary.errors, `check_in ${child.check_in}`);
      const errRows = readFileSync(join(h.logDir, `${childId}.log`), 'utf8')
        .split('\n')
        .filter((line) => /\| ERR\s*\|/.test(line) && made.some((d) => line.includes(d.digest)));
      assert.deepEqual(errRows, [], 'ERR rows for artifacts the registry deleted');
    } finally {
      await proxy.close();
    }
  });

  it('a stop while a delete answers slower than the stop grace allows: the repository job still returns and reports in time', async () => {
    // A delete in flight gets a quarter of the stop grace (2 s) to answer, not 3.5 s.
    const repo = 'slowanswer/app';
    const proxy = await startRegistryProxy(registry.url);
    proxy.deleteAnswerDelayMs = 3500;
    try {
      const job = await retention(repo, '11', proxy);
      await waitFor(
        async () => proxy.deletes.length,
        (n) => n >= 1,
        { timeoutMs: 60_000, what: 'a delete carried out' },
      );
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const stopped = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 60_000);
      assert.equal(stopped.status, 'Stopped');
      const result = stopped.results?.[repo];
      assert.ok(result, `no result for ${repo}: ${JSON.stringify(stopped.results)}`);
      const child = await h.stats(result.job_id as string);
      assert.ok(child.check_in, `the repository job reported nothing: ${JSON.stringify(child)}`);
    } finally {
      await proxy.close();
    }
  });
});
