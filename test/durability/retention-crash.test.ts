import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  addTag,
  listTags,
  manifestExists,
  pushImage,
  startRegistry,
  startRegistryProxy,
  type RegistryProxy,
  type TestRegistry,
} from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { waitFor } from '../helpers/wait-for.js';
import { exited, spawnWorkerProcess } from '../helpers/worker-process.js';

/** The digests (by prefix) a resumed attempt's log names as gone since the lost attempt decided. */
const namedAsGone = (log: string) =>
  [...log.matchAll(/gone since the interrupted attempt decided: (.*)/g)].flatMap((m) => m[1]!.split(', '));
const prefix = (digest: string) => digest.slice(7, 19);

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

  /**
   * Twelve images t01 (oldest) … t12 in `repository`, a RETENTION run of `policy` on a worker of its
   * own (any other is killed first), deleting one at a time through the slowed proxy; that worker is
   * killed with SIGKILL once `deletes` deletes have gone through.
   */
  async function crashMidRun(
    repository: string,
    month: string,
    deletes: number,
    policy: object = oneRulePolicy(),
    beforeKill?: (job: JobStats) => Promise<unknown>,
  ) {
    for (const w of workers.splice(0)) {
      w.kill('SIGKILL');
      await exited(w);
    }
    const digests: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const day = String(i).padStart(2, '0');
      digests.push(await pushImage(registry.url, repository, `t${day}`, `2026-${month}-${day}T00:00:00Z`));
    }
    proxy.resetCounts();
    proxy.deleteDelayMs = 250;
    const worker = spawnWorkerProcess(h.config, h.logDir);
    workers.push(worker);
    const job = await h.submit({
      name: 'RETENTION',
      parameters: {
        registry: { url: proxy.url },
        scope: { repositories: [repository] },
        concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0 },
        policy,
      },
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      async () => proxy.deletes.filter((d) => d.status === 202).length,
      (n) => n >= deletes,
      { timeoutMs: 60_000, what: 'a few deletes on the first worker' },
    );
    await beforeKill?.(job);
    worker.kill('SIGKILL');
    await exited(worker);
    return { job, digests };
  }

  /** The repository run's progress as its newest heartbeat carries it (none before one has). */
  const savedProgress = async (job: JobStats) => {
    const converter = h.client.options.loadedDataConverter.payloadConverter;
    for await (const c of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}'` })) {
      const payload = (await h.client.workflow.getHandle(c.workflowId).describe()).raw.pendingActivities?.[0]?.heartbeatDetails
        ?.payloads?.[0];
      return payload ? converter.fromPayload<{ progress?: { deletedSoFar?: number; doomed?: string[] } }>(payload).progress : undefined;
    }
    return undefined;
  };
  /**
   * Some deletes saved in the run's heartbeat (about once a second: on a loaded machine five or six
   * deletes can go before one carries any, and the count reported after a crash is what was saved).
   */
  const deletesSaved = (job: JobStats) =>
    waitFor(
      () => savedProgress(job),
      (p) => (p?.deletedSoFar ?? 0) > 0,
      { what: 'deletes saved in the repository run’s heartbeat' },
    );

  it('loses nothing and repeats no completed delete: the next attempt deletes only what remains', async () => {
    const { job, digests } = await crashMidRun('crash/app', '01', 4);
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
    // As Harbor's total: every candidate, those the first attempt deleted too.
    assert.equal(repo.summary?.candidates, 12, `summary ${JSON.stringify(repo.summary)}`);
    assert.equal(repo.summary?.retained, 1);
    const log = readFileSync(join(h.logDir, `${repo.job_id}.log`), 'utf8');
    assert.match(log, /resuming an interrupted run: \d+ delete\(s\) already done/);
    // Each delete is logged once as it happens, by whichever attempt made it; one whose answer the
    // lost attempt was killed waiting for is named by the next attempt instead.
    const named = namedAsGone(log);
    for (const digest of digests.slice(0, 11)) {
      const lines = log.split(`deleted ${digest} (`).length - 1;
      assert.ok(lines === 1 || (lines === 0 && named.includes(prefix(digest))), `${digest} logged deleted ${lines} times`);
    }
  });

  it('a delete the registry made but the lost worker never saw answered is named by the next attempt', async () => {
    // Its answer is held: the lost attempt cannot log it.
    proxy.deleteAnswerDelayMs = 60_000;
    const decided = (job: JobStats) =>
      waitFor(
        () => savedProgress(job),
        (p) => p?.doomed?.length === 11,
        { what: 'the decision saved in the repository run’s heartbeat' },
      );
    const { job, digests } = await crashMidRun('unseen/app', '07', 1, oneRulePolicy(), decided);
    proxy.deleteAnswerDelayMs = 0;
    // One delete made, its answer never seen.
    assert.equal(proxy.deletes.length, 1);
    const unseen = proxy.deletes[0]!;
    assert.equal(unseen.status, 202);
    assert.ok(digests.slice(0, 11).includes(unseen.digest), `${unseen.digest} is not one the policy dooms`);
    workers.push(spawnWorkerProcess(h.config, h.logDir));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    const repo = done.results!['unseen/app']!;
    assert.equal(repo.summary?.deleted, 11);
    const log = readFileSync(join(h.logDir, `${repo.job_id}.log`), 'utf8');
    assert.equal(log.split(`deleted ${unseen.digest} (`).length, 1, 'the lost attempt logged a delete it never saw answered');
    assert.deepEqual(namedAsGone(log), [prefix(unseen.digest)]);
    for (const digest of digests.slice(0, 11).filter((d) => d !== unseen.digest))
      assert.equal(log.split(`deleted ${digest} (`).length - 1, 1, `${digest} logged once`);
  });

  it('decides again when it resumes: a tag the policy keeps, pushed meanwhile onto a doomed digest, keeps it', async () => {
    const { job, digests } = await crashMidRun('resume/app', '02', 3, {
      algorithm: 'or',
      rules: [
        oneRulePolicy().rules[0],
        // Whatever is tagged keep-* stays.
        {
          action: 'retain',
          template: 'always',
          params: {},
          tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'keep-*', extras: '{"untagged":false}' }],
          scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
        },
      ],
    });
    // While no worker runs, an operator pins t11, doomed and not deleted yet, with a tag the policy keeps.
    assert.equal(await manifestExists(registry.url, 'resume/app', digests[10]!), true);
    await addTag(registry.url, 'resume/app', digests[10]!, 'keep-prod');
    workers.push(spawnWorkerProcess(h.config, h.logDir));

    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, 'resume/app'), ['keep-prod', 't11', 't12']);
    const repo = done.results!['resume/app']!;
    assert.equal(repo.summary?.deleted, 10);
    assert.match(readFileSync(join(h.logDir, `${repo.job_id}.log`), 'utf8'), /resuming an interrupted run/);
  });

  it('a stop while a resumed attempt reloads the repository still reports the deletes made before', async () => {
    const { job } = await crashMidRun('stop/app', '03', 5, oneRulePolicy(), deletesSaved);
    const made = proxy.deletes.filter((d) => d.status === 202).length;
    // The next attempt reloads the repository slowly; the stop comes while it does.
    // Long enough for the stop to reach the workflow past the dead worker's sticky queue (about 10 s,
    // more on a loaded machine).
    proxy.readDelayMs = 15_000;
    const readsBefore = proxy.reads;
    workers.push(spawnWorkerProcess(h.config, h.logDir));
    await waitFor(
      async () => proxy.reads,
      (n) => n > readsBefore,
      { timeoutMs: 60_000, what: 'the resumed attempt reloading the repository' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const stopped = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 60_000);
    proxy.readDelayMs = 0;
    assert.equal(stopped.status, 'Stopped');
    // A repository job still reloading past the stop grace (a loaded machine) is in the results once
    // it has ended, when the stopped job's workflow, which outlives it, closes.
    await waitFor(
      async () => (await h.client.workflow.getHandle(job.id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs: 60_000, what: 'the stopped job to outlive its repository job' },
    );
    const done = await h.stats(job.id);
    assert.equal(
      proxy.deletes.filter((d) => d.status === 202).length,
      made,
      `no delete after the stop: ${readFileSync(join(h.logDir, `${done.results!['stop/app']!.job_id}.log`), 'utf8').slice(-3000)}`,
    );
    const summary = done.results!['stop/app']!.summary as { deleted?: number } | undefined;
    // Heartbeats go out about once a second: the count may miss the last deletes before the crash, never exceed them.
    assert.ok(
      summary?.deleted !== undefined && summary.deleted > 0 && summary.deleted <= made,
      `summary: ${JSON.stringify(summary)}, made ${made}`,
    );
  });

  it('a stop given while no worker runs reaches the repository job: no delete after the 204', async () => {
    const { job } = await crashMidRun('stopcrash/app', '05', 3);
    // The operator (Harbor core: stop of the execution) stops the retention while no worker runs.
    const made = proxy.deletes.filter((d) => d.status === 202).length;
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    workers.push(spawnWorkerProcess(h.config, h.logDir));
    const done = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 120_000);
    assert.equal(done.status, 'Stopped', JSON.stringify(done));
    const afterStop = proxy.deletes.filter((d) => d.status === 202).length - made;
    assert.equal(
      afterStop,
      0,
      `${afterStop} deletes after the stop answered 204 (tags left: ${(await listTags(registry.url, 'stopcrash/app')).join(',')})`,
    );
  });

  it('a repository job stopped while its worker is lost still reports the deletes the lost attempt made', async () => {
    // The lost attempt has saved some of its deletes.
    const { job } = await crashMidRun('lost/app', '06', 6, oneRulePolicy(), deletesSaved);
    const made = proxy.deletes.filter((d) => d.status === 202).length;
    const tasks: string[] = [];
    for await (const c of h.client.workflow.list({ query: `UpstreamJobId = '${job.id}'` })) tasks.push(c.workflowId);
    assert.equal(tasks.length, 1);
    // Harbor core stops an execution task by task, as the API allows.
    assert.equal((await h.request('POST', `/api/v1/jobs/${tasks[0]}`, { action: 'stop' })).status, 204);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    workers.push(spawnWorkerProcess(h.config, h.logDir));
    const stopped = await h.waitForStatus(tasks[0]!, ['Stopped', 'Success', 'Error'], 90_000);
    assert.equal(stopped.status, 'Stopped');
    assert.equal(proxy.deletes.filter((d) => d.status === 202).length, made, 'no delete after the stop');
    // Heartbeats go out about once a second: the count may miss the last deletes before the crash, never exceed them.
    const summary = JSON.parse(stopped.check_in ?? '{}') as { deleted?: number };
    assert.ok(
      summary.deleted !== undefined && summary.deleted > 0 && summary.deleted <= made,
      `check_in ${stopped.check_in}, made ${made}`,
    );
    const done = await h.waitForStatus(job.id, ['Stopped', 'Success', 'Error'], 90_000);
    assert.equal((done.results?.['lost/app']?.summary as { deleted?: number } | undefined)?.deleted, summary.deleted);
  });

  it('GARBAGE_COLLECTION retried after its worker was lost counts the untagged manifests the lost attempt deleted', async () => {
    for (const w of workers.splice(0)) {
      w.kill('SIGKILL');
      await exited(w);
    }
    const untagged: string[] = [];
    for (const arch of ['a1', 'a2', 'a3'])
      untagged.push(await pushImage(registry.url, 'gc/crash', undefined, '2026-01-01T00:00:00Z', arch));
    // Stands in for the registry's collector: the first time it hangs (its worker is killed meanwhile), then it collects nothing more.
    const started = join(h.logDir, 'collector-started');
    const collector = join(h.logDir, 'collector');
    writeFileSync(
      collector,
      `#!/bin/sh\nif [ -e '${started}' ]; then echo "0 blobs marked, 0 blobs and 0 manifests eligible for deletion"; exit 0; fi\ntouch '${started}'\nexec sleep 600\n`,
    );
    chmodSync(collector, 0o755);
    const gcConfig = { garbage_collection: { binary: collector, registry_config: 'unused.yml', storage_dir: registry.storageDir } };
    const first = spawnWorkerProcess(h.config, h.logDir, gcConfig);
    workers.push(first);
    const job = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, time_window: 0 },
      metadata: { kind: 'Generic' },
    });
    await waitFor(async () => existsSync(started), Boolean, { timeoutMs: 60_000, what: 'the collection to start' });
    for (const digest of untagged) assert.equal(await manifestExists(registry.url, 'gc/crash', digest), false);
    // The run's heartbeat has recorded its deletes (it goes out within a second).
    const converter = h.client.options.loadedDataConverter.payloadConverter;
    await waitFor(
      async () => {
        const payload = (await h.client.workflow.getHandle(job.id).describe()).raw.pendingActivities?.[0]?.heartbeatDetails?.payloads?.[0];
        return payload ? converter.fromPayload<{ progress?: { removed?: number } }>(payload).progress?.removed : undefined;
      },
      (removed) => removed === 3,
      { what: 'the deletes in the run’s heartbeat' },
    );
    first.kill('SIGKILL');
    await exited(first);
    workers.push(spawnWorkerProcess(h.config, h.logDir, gcConfig));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 120_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.match(readFileSync(join(h.logDir, `${job.id}.log`), 'utf8'), /attempt 2\)/);
    const summary = JSON.parse(done.check_in ?? '{}') as { manifests_deleted?: number; freed_bytes?: number };
    assert.equal(summary.manifests_deleted, 3, `GET shows ${done.check_in}; the lost attempt deleted 3 untagged manifests`);
    assert.ok((summary.freed_bytes ?? 0) > 0, `the revisions the lost attempt removed are freed bytes: ${done.check_in}`);
  });
});
