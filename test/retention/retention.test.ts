import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  pushIndexOf,
  startRegistry,
  startRegistryProxy,
  storageSnapshot,
  type TestRegistry,
} from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

const month = (m: number) => `2026-${String(m).padStart(2, '0')}-01T00:00:00Z`;

export function retentionJob(registry: string, scope: Record<string, unknown>, policy: object, extra: Record<string, unknown> = {}) {
  return {
    name: 'RETENTION',
    parameters: { registry: { url: registry }, scope, policy, dry_run: false, ...extra },
    metadata: { kind: 'Generic' },
  };
}

describe('RETENTION against a real docker-registry', () => {
  let registry: TestRegistry;
  let h: Harness;
  const digests: Record<string, string> = {};

  before(async () => {
    registry = await startRegistry();
    // Garbage collection logs at the registry's default level (info, as Debian's and Harbor's
    // configurations do), where each deletion is reported twice.
    const gcConfig = `${registry.configPath}.gc.yml`;
    writeFileSync(gcConfig, readFileSync(registry.configPath, 'utf8').replace('log: {level: error}', 'log: {level: info}'));
    h = await createHarness({
      registry: testRegistry({
        ...DEFAULT_REGISTRY_SETTINGS,
        garbageCollection: { command: ['docker-registry', 'garbage-collect', gcConfig], storageDir: registry.storageDir },
      }),
    });
    const reg = registry.url;
    for (const [tag, m] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
      ['e', 5],
    ] as const)
      digests[tag] = await pushImage(reg, 'proj/app', tag, month(m));
    await addTag(reg, 'proj/app', digests.e!, 'e-alias');
    const index = await pushIndex(reg, 'proj/app', 'multi', '2026-03-15T00:00:00Z');
    digests.multi = index.digest;
    digests.untagged = await pushImage(reg, 'proj/app', undefined, month(6));
    for (const [tag, m] of [
      ['x', 1],
      ['y', 2],
    ] as const)
      digests[tag] = await pushImage(reg, 'proj/lib', tag, month(m));
  });
  after(async () => {
    await h.close();
    await registry.stop();
  });

  const log = (id: string) => readFileSync(join(h.logDir, `${id}.log`), 'utf8');
  const child = async (parent: JobStats, repository: string) => h.stats(parent.results![repository]!.job_id);

  it('a dry run deletes nothing, and logs the table it would act on', async () => {
    const before = storageSnapshot(registry.storageDir);
    const job = await h.submit(
      retentionJob(registry.url, { repositories: ['proj/app'], repository_patterns: ['proj/l*'] }, oneRulePolicy('latestPushedK', 2), {
        dry_run: true,
      }),
    );
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(storageSnapshot(registry.storageDir), before);
    assert.deepEqual(await listTags(registry.url, 'proj/app'), ['a', 'b', 'c', 'd', 'e', 'e-alias', 'multi']);
    assert.deepEqual(Object.keys(done.results ?? {}).sort(), ['proj/app', 'proj/lib']);
    assert.deepEqual(JSON.parse(done.check_in!), {
      repositories_done: 2,
      total: 2,
      candidates: 8,
      retained: 4,
      deleted: 0,
      would_delete: 4,
      errors: 0,
      failed: 0,
      running: 0,
      dry_run: true,
    });
    const app = await child(done, 'proj/app');
    assert.equal(app.upstream_job_id, job.id);
    assert.equal(app.name, 'RETENTION_REPOSITORY');
    const table = log(app.id);
    for (const tag of ['a', 'b', 'c']) assert.match(table, new RegExp(`${digests[tag]} \\| ${tag} +\\| image .*\\| DEL`));
    assert.match(table, new RegExp(`${digests.multi} \\| multi +\\| index .*\\| DEL`));
    assert.match(table, new RegExp(`${digests.e} \\| e,e-alias \\| image .*\\| RETAIN`));
  });

  it('latestPushedK=2 deletes the rest by digest; a tag sharing a retained digest survives; untagged manifests are left to GC', async () => {
    const job = await h.submit(retentionJob(registry.url, { repositories: ['proj/app', 'proj/lib'] }, oneRulePolicy('latestPushedK', 2)));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, 'proj/app'), ['d', 'e', 'e-alias']);
    assert.deepEqual(await listTags(registry.url, 'proj/lib'), ['x', 'y']);
    for (const tag of ['a', 'b', 'c', 'multi']) assert.equal(await manifestExists(registry.url, 'proj/app', digests[tag]!), false, tag);
    for (const tag of ['d', 'e', 'untagged']) assert.equal(await manifestExists(registry.url, 'proj/app', digests[tag]!), true, tag);
    assert.deepEqual(done.results?.['proj/app']?.summary, {
      repository: 'proj/app',
      candidates: 6,
      retained: 2,
      deleted: 4,
      would_delete: 0,
      errors: 0,
      dry_run: false,
    });
  });

  it('GARBAGE_COLLECTION frees the deleted images’ blobs on disk (a dry run frees nothing); a second waits for the first', async () => {
    const blobs = () => [...storageSnapshot(registry.storageDir).keys()].filter((f) => f.includes('/blobs/')).length;
    const blobData = () =>
      [...storageSnapshot(registry.storageDir).keys()].filter((f) => f.includes('/blobs/') && f.endsWith('/data')).length;
    const before = blobs();
    const dataBefore = blobData();
    const dry = await h.submit({ name: 'GARBAGE_COLLECTION', parameters: { dry_run: true }, metadata: { kind: 'Generic' } });
    const dryDone = await h.waitForStatus(dry.id, ['Success', 'Error'], 60_000);
    assert.equal(dryDone.status, 'Success');
    assert.equal(blobs(), before);
    const drySummary = JSON.parse(dryDone.check_in!) as { blobs_deleted: number; blobs_eligible: number };
    assert.equal(drySummary.blobs_deleted, 0, dryDone.check_in);
    assert.ok(drySummary.blobs_eligible > 0, dryDone.check_in);
    const gc = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, time_window: 0 },
      metadata: { kind: 'Generic' },
    });
    const again = await h.submit({ name: 'GARBAGE_COLLECTION', parameters: {}, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(gc.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    // Harbor's MaxCurrency 1: the second is queued, not refused, and the two runs never overlap (the
    // one whose run reached the queue first goes first: with the slot free, arrival order decides).
    assert.equal((await h.waitForStatus(again.id, ['Success', 'Error'], 60_000)).status, 'Success');
    const lineTime = (id: string, which: 'first' | 'last') => {
      const lines = log(id).trim().split('\n');
      return Date.parse(lines[which === 'first' ? 0 : lines.length - 1]!.slice(0, 24));
    };
    const [earlier, later] = lineTime(gc.id, 'first') <= lineTime(again.id, 'first') ? [gc.id, again.id] : [again.id, gc.id];
    assert.ok(lineTime(later, 'first') >= lineTime(earlier, 'last'), `${log(earlier)}\n---\n${log(later)}`);
    const summary = JSON.parse(done.check_in!) as { freed_bytes: number; blobs_deleted: number; manifests_deleted: number };
    assert.ok(summary.freed_bytes > 0, done.check_in);
    // Each deletion counted once: together the two runs report the blob files they removed.
    const againSummary = JSON.parse((await h.stats(again.id)).check_in!) as { blobs_deleted: number };
    assert.equal(summary.blobs_deleted + againSummary.blobs_deleted, dataBefore - blobData(), `${done.check_in}\n${log(gc.id)}`);
    // The untagged image and the two platform manifests of the deleted index `multi`.
    assert.equal(summary.manifests_deleted, 3, `the untagged manifests: ${done.check_in}\n${log(gc.id)}`);
    assert.ok(blobs() < before, `${blobs()} blob files left of ${before}`);
    assert.match(log(gc.id), /garbage-collect/);
    assert.equal(await manifestExists(registry.url, 'proj/app', digests.untagged!), false, 'delete_untagged removed the untagged manifest');
    assert.deepEqual(await listTags(registry.url, 'proj/app'), ['d', 'e', 'e-alias']);
  });

  it('GARBAGE_COLLECTION with delete_untagged keeps the platform manifests of a tagged multi-arch image', async () => {
    // The registry's own --delete-untagged (distribution 2.x) takes them: they have no tag of their own.
    const index = await pushIndex(registry.url, 'proj/gc-multi', 'keep', month(6));
    const gc = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, time_window: 0 },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(gc.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    for (const child of index.children) assert.equal(await manifestExists(registry.url, 'proj/gc-multi', child), true, child);
    assert.equal(await manifestExists(registry.url, 'proj/gc-multi', index.digest), true);
    assert.doesNotMatch(log(gc.id), /untagged manifest proj\/gc-multi/, 'nothing of the tagged image was eligible');
  });

  it('never deletes a manifest a retained index references, even when its own tag is not retained', async () => {
    const index = await pushIndex(registry.url, 'proj/multi', 'multi', month(7));
    await addTag(registry.url, 'proj/multi', index.children[0]!, 'amd64');
    const old = await pushImage(registry.url, 'proj/multi', 'old', month(1));
    const policy = oneRulePolicy('latestPushedK', 10, 'multi');
    policy.rules[0]!.tag_selectors[0] = {
      kind: 'doublestar',
      decoration: 'matches',
      pattern: 'multi',
      extras: '{"untagged":false}',
    } as never;
    const job = await h.submit(retentionJob(registry.url, { repositories: ['proj/multi'] }, policy));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, 'proj/multi'), ['amd64', 'multi']);
    assert.equal(await manifestExists(registry.url, 'proj/multi', old), false);
    assert.match(log(done.results!['proj/multi']!.job_id), /referenced by retained index/);
  });

  it("a policy whose rules apply to no repository in scope ends Success with Harbor's 'no resources for retention' check-in", async () => {
    const policy = oneRulePolicy('latestPushedK', 1);
    policy.rules[0]!.scope_selectors = {
      repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'elsewhere/**' }],
    } as never;
    const job = await h.submit(retentionJob(registry.url, { repositories: ['proj/app'] }, policy));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(JSON.parse(done.check_in ?? '{}'), {
      repositories_done: 0,
      total: 0,
      dry_run: false,
      message: 'no resources for retention',
    });
    assert.deepEqual(done.results ?? {}, {});
  });

  it('two runs over one repository at once report, together, only the deletes the registry made', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      for (let m = 1; m <= 6; m++) await pushImage(registry.url, 'proj/both', `t${m}`, month(m));
      proxy.deleteDelayMs = 150;
      const submit = () =>
        h.submit(
          retentionJob(proxy.url, { repositories: ['proj/both'] }, oneRulePolicy('latestPushedK', 1), {
            concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0 },
          }),
        );
      const jobs = await Promise.all([submit(), submit()]);
      const done = await Promise.all(jobs.map((j) => h.waitForStatus(j.id, ['Success', 'Error'], 60_000)));
      for (const d of done) assert.equal(d.status, 'Success', d.last_error);
      assert.deepEqual(await listTags(registry.url, 'proj/both'), ['t6']);
      const summaries = done.map((d) => d.results!['proj/both']!.summary as { deleted: number; already_gone?: number });
      const effective = proxy.deletes.filter((x) => x.status === 202).length;
      // The registry may answer 202 to both of two deletes of one digest in flight at once.
      assert.equal(new Set(proxy.deletes.filter((x) => x.status === 202).map((x) => x.digest)).size, 5);
      assert.equal(summaries[0]!.deleted + summaries[1]!.deleted, effective, JSON.stringify(summaries));
      // What one run found deleted by the other is said so, not counted.
      assert.equal(
        (summaries[0]!.already_gone ?? 0) + (summaries[1]!.already_gone ?? 0),
        proxy.deletes.filter((x) => x.status === 404).length,
      );
    } finally {
      await proxy.close();
    }
  });

  it('a registry that fails some deletes: ERR rows, job Error; retry deletes only what remains', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const d: string[] = [];
      for (let m = 1; m <= 4; m++) d.push(await pushImage(registry.url, 'proj/flaky', `t${m}`, month(m)));
      proxy.failing.add(d[1]!);
      const job = await h.submit(retentionJob(proxy.url, { repositories: ['proj/flaky'] }, oneRulePolicy('latestPushedK', 1)));
      const failed = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
      assert.equal(failed.status, 'Error');
      assert.match(failed.last_error ?? '', /proj\/flaky/);
      const repo = failed.results!['proj/flaky']!;
      assert.equal(repo.status, 'Error');
      assert.match(log(repo.job_id), new RegExp(`${d[1]} \\| t2 +\\| image .*\\| ERR`));
      assert.match(
        log(repo.job_id),
        /Retention error for artifact image:proj\/flaky:sha256:[0-9a-f]+ : delete proj\/flaky@sha256:[0-9a-f]+: HTTP 500/,
      );
      assert.deepEqual(await listTags(registry.url, 'proj/flaky'), ['t2', 't4']);

      proxy.failing.clear();
      const seen = proxy.deletes.length;
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'retry' })).status, 204);
      const retried = await waitFor(
        () => h.stats(job.id),
        (s) => s.revision > failed.revision && ['Success', 'Error'].includes(s.status),
        { timeoutMs: 60_000, what: 'the retry to finish' },
      );
      assert.equal(retried.status, 'Success', retried.last_error);
      assert.deepEqual(
        proxy.deletes.slice(seen).map((x) => x.digest),
        [d[1]],
      );
      assert.deepEqual(await listTags(registry.url, 'proj/flaky'), ['t4']);
    } finally {
      await proxy.close();
    }
  });

  it('a retained tag pushed onto a doomed digest while the run deletes keeps that digest (the tags are read again before deletes)', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const a = await pushImage(registry.url, 'race/app', 'a', month(1));
      const b = await pushImage(registry.url, 'race/app', 'b', month(2));
      await pushImage(registry.url, 'race/app', 'c', month(3));
      // latestPushedK 1 keeps c and dooms a and b; any release-* tag is always kept.
      const policy = oneRulePolicy('latestPushedK', 1);
      policy.rules.push({
        ...policy.rules[0]!,
        template: 'always',
        params: {} as never,
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'release-*' }],
      });
      // As the first delete goes out, someone tags the other doomed image as a release.
      let spared: { digest: string; tag: string } | undefined;
      proxy.beforeDelete = async (digest) => {
        if (spared) return;
        spared = digest === a ? { digest: b, tag: 'b' } : { digest: a, tag: 'a' };
        await addTag(registry.url, 'race/app', spared.digest, 'release-1');
      };
      const job = await h.submit(
        retentionJob(proxy.url, { repositories: ['race/app'] }, policy, {
          concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0.5 },
        }),
      );
      const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
      assert.equal(done.status, 'Success', done.last_error);
      assert.ok(spared, 'a delete went out');
      assert.deepEqual(await listTags(registry.url, 'race/app'), ['c', 'release-1', spared.tag].sort());
      assert.equal(await manifestExists(registry.url, 'race/app', spared.digest), true);
      const repoLog = log(done.results!['race/app']!.job_id);
      assert.match(repoLog, /tag release-1 now points at sha256:[0-9a-f]+ \(pushed since the repository was read\)/);
      assert.match(repoLog, new RegExp(`Retained ${spared.digest}: not deleted: retained once its tags were read again`));
      assert.deepEqual(JSON.parse((await h.stats(done.results!['race/app']!.job_id)).check_in!).deleted, 1);
    } finally {
      await proxy.close();
    }
  });

  it('indexes of indexes: those below an outer index whose delete fails stay, at every depth, and go with the next run', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      // All doomed by latestPushedK 1: `old` lists the index `middle`, which lists the index `inner`.
      const inner = await pushIndex(registry.url, 'nest/app', 'inner', month(1));
      const middle = await pushIndexOf(registry.url, 'nest/app', 'middle', [inner.digest]);
      const outer = await pushIndexOf(registry.url, 'nest/app', 'old', [middle]);
      await pushImage(registry.url, 'nest/app', 'new', month(5));
      proxy.failing.add(outer);
      const policy = oneRulePolicy('latestPushedK', 1);
      const job = await h.submit(retentionJob(proxy.url, { repositories: ['nest/app'] }, policy));
      const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
      assert.equal(done.status, 'Error');
      const repoLog = log(done.results!['nest/app']!.job_id);
      assert.equal(await manifestExists(registry.url, 'nest/app', outer), true);
      assert.equal(await manifestExists(registry.url, 'nest/app', middle), true, `the middle index was deleted:\n${repoLog}`);
      assert.equal(await manifestExists(registry.url, 'nest/app', inner.digest), true, `the inner index was deleted:\n${repoLog}`);
      for (const kept of [middle, inner.digest]) {
        assert.match(repoLog, new RegExp(`Retained ${kept}: not deleted: an index that lists it was not deleted`));
      }
      assert.deepEqual(
        proxy.deletes.map((d) => d.digest),
        [outer],
        'only the outer index was asked to go',
      );
      proxy.failing.clear();
      const again = await h.submit(retentionJob(proxy.url, { repositories: ['nest/app'] }, policy));
      assert.equal((await h.waitForStatus(again.id, ['Success', 'Error'], 60_000)).status, 'Success');
      for (const digest of [outer, middle, inner.digest]) assert.equal(await manifestExists(registry.url, 'nest/app', digest), false);
      assert.deepEqual(await listTags(registry.url, 'nest/app'), ['new']);
    } finally {
      await proxy.close();
    }
  });

  it('cosign signatures go with the image they sign, after it, and stay with one that stays', async () => {
    const proxy = await startRegistryProxy(registry.url);
    try {
      const v1 = await pushImage(registry.url, 'signed/app', 'v1', month(1));
      const v2 = await pushImage(registry.url, 'signed/app', 'v2', month(2));
      const sigTag = (digest: string) => `sha256-${digest.slice(7)}.sig`;
      // cosign's signature manifests carry no build time.
      const sig1 = await pushImage(registry.url, 'signed/app', sigTag(v1), '0001-01-01T00:00:00Z');
      const sig2 = await pushImage(registry.url, 'signed/app', sigTag(v2), '0001-01-01T00:00:00Z');
      const policy = oneRulePolicy('latestPushedK', 1, 'v*');
      proxy.failing.add(v1);
      const failed = await h.submit(retentionJob(proxy.url, { repositories: ['signed/app'] }, policy));
      assert.equal((await h.waitForStatus(failed.id, ['Success', 'Error'], 60_000)).status, 'Error');
      assert.deepEqual(await listTags(registry.url, 'signed/app'), [sigTag(v1), sigTag(v2), 'v1', 'v2'].sort());
      const repoLog = log((await h.stats(failed.id)).results!['signed/app']!.job_id);
      assert.match(repoLog, new RegExp(`Retained ${sig1}: not deleted: the artifact it belongs to was not deleted`));
      assert.match(repoLog, new RegExp(`Retained ${sig2}: accessory of kept ${v2}`));
      proxy.failing.clear();
      proxy.resetCounts();
      const job = await h.submit(retentionJob(proxy.url, { repositories: ['signed/app'] }, policy));
      assert.equal((await h.waitForStatus(job.id, ['Success', 'Error'], 60_000)).status, 'Success');
      assert.deepEqual(
        proxy.deletes.map((d) => d.digest),
        [v1, sig1],
        'the image first, then its signature',
      );
      assert.deepEqual(await listTags(registry.url, 'signed/app'), [sigTag(v2), 'v2'].sort());
    } finally {
      await proxy.close();
    }
  });

  it("never deletes an artifact with a tag the project's immutability rules match, nor the index of one", async () => {
    const reg = registry.url;
    const r1 = await pushImage(reg, 'immut/app', 'r1', month(1));
    await pushImage(reg, 'immut/app', 'r2', month(2));
    await pushImage(reg, 'immut/app', 'r3', month(3));
    const immutable = (pattern: string, disabled = false) => ({
      id: 7,
      project_id: 1,
      disabled,
      action: 'immutable',
      template: 'immutable_template',
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'immut/*' }] },
    });
    // As Harbor's API exports them; the one for r2 is disabled, so r2 goes as the policy says.
    const policy = { ...oneRulePolicy('latestPushedK', 1), immutable_rules: [immutable('r1'), immutable('r2', true)] };
    const job = await h.submit(retentionJob(reg, { repositories: ['immut/app'] }, policy));
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(reg, 'immut/app'), ['r1', 'r3']);
    assert.equal(await manifestExists(reg, 'immut/app', r1), true);
    const summary = done.results?.['immut/app']?.summary;
    assert.deepEqual([summary?.candidates, summary?.retained, summary?.deleted], [3, 2, 1]);
    const table = log(done.results!['immut/app']!.job_id);
    assert.match(table, new RegExp(`Retained ${r1}: immutable tag r1`));
    // Harbor's table (retention/job.go logResults) says IMMUTABLE for it, where a rule's keep says RETAIN.
    assert.match(table.split('\n').find((l) => l.includes(`| ${r1} |`)) ?? '(no row)', /\| IMMUTABLE +\|$/);
  });

  it('never has more deletes in flight than concurrency.deletes, across repositories (counted at a proxy)', async () => {
    const proxy = await startRegistryProxy(registry.url);
    proxy.deleteDelayMs = 40;
    try {
      const repos = ['load/r1', 'load/r2', 'load/r3', 'load/r4', 'load/r5'];
      for (const repo of repos) for (let m = 1; m <= 6; m++) await pushImage(registry.url, repo, `t${m}`, month(m));
      const job = await h.submit(
        retentionJob(proxy.url, { repository_patterns: ['load/*'] }, oneRulePolicy('latestPushedK', 1), {
          concurrency: { repositories: 4, deletes: 3, deletes_per_second: 0 },
        }),
      );
      const done = await h.waitForStatus(job.id, ['Success', 'Error'], 90_000);
      assert.equal(done.status, 'Success', done.last_error);
      assert.equal(proxy.deletes.length, 25);
      assert.ok(proxy.peakDeletesInFlight <= 3, `peak ${proxy.peakDeletesInFlight}`);
      assert.ok(proxy.peakDeletesInFlight >= 2, `peak ${proxy.peakDeletesInFlight}: the ceiling was not even approached`);
      for (const repo of repos) assert.deepEqual(await listTags(registry.url, repo), ['t6']);
    } finally {
      await proxy.close();
    }
  });

  it('stop mid-run reaches the repository job, and no delete starts once it has stopped', async () => {
    const proxy = await startRegistryProxy(registry.url);
    proxy.deleteDelayMs = 300;
    try {
      for (let m = 1; m <= 10; m++) await pushImage(registry.url, 'proj/slow', `t${m}`, `2026-01-${String(m).padStart(2, '0')}T00:00:00Z`);
      const job = await h.submit(
        retentionJob(proxy.url, { repositories: ['proj/slow'] }, oneRulePolicy('latestPushedK', 1), {
          concurrency: { repositories: 1, deletes: 1, deletes_per_second: 0 },
        }),
      );
      await waitFor(
        async () => proxy.deletes.length,
        (n) => n >= 1,
        { timeoutMs: 30_000, what: 'the first delete' },
      );
      assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
      const stopped = await h.waitForStatus(job.id, ['Stopped'], 30_000);
      const repo = await waitFor(
        () => h.stats(stopped.sub_jobs![0]!),
        (s) => s.status === 'Stopped',
        { timeoutMs: 30_000, what: 'the repository job to stop' },
      );
      const atStop = proxy.deletes.length;
      assert.ok(atStop < 9, `${atStop} of 9 deletes happened despite the stop`);
      // Conditions, not sleeps: the repository job has ended, so nothing can start another delete.
      assert.equal((await h.client.workflow.getHandle(repo.id).describe()).status.name, 'COMPLETED');
      assert.equal(proxy.deletes.length, atStop);
      assert.equal((await listTags(registry.url, 'proj/slow')).length, 10 - atStop);
    } finally {
      await proxy.close();
    }
  });
});
