import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { waitFor } from '../helpers/wait-for.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { listTags, pushImage, startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { testRegistry } from '../helpers/test-jobs.js';

const PASSWORD = 'S3cret-registry-pa55word';

describe('RETENTION: credentials stay in the worker, bad input is a 400', () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let receiver: HookReceiver;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.url, { basicAuth: { username: 'robot', password: PASSWORD } });
    receiver = await startHookReceiver();
    h = await createHarness({
      registry: testRegistry({ ...DEFAULT_REGISTRY_SETTINGS, registries: [{ url: proxy.url, username: 'robot', password: PASSWORD }] }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
    await proxy.close();
    await registry.stop();
  });

  it('reaches a registry that wants credentials, and the password appears in no log, stats, hook or workflow history', async () => {
    for (const [tag, m] of [
      ['old', 1],
      ['new', 2],
    ] as const)
      await pushImage(registry.url, 'sec/app', tag, `2026-0${m}-01T00:00:00Z`);
    const job = await h.submit({
      name: 'RETENTION',
      parameters: { registry: { url: proxy.url }, scope: { repositories: ['sec/app'] }, policy: oneRulePolicy() },
      status_hook: receiver.url('/retention'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.ok(proxy.sawCredentials);
    assert.deepEqual(await listTags(registry.url, 'sec/app'), ['new']);

    const childId = done.results!['sec/app']!.job_id;
    // Hooks go out after the status changes: the final one may still be on its way.
    await waitFor(
      async () => receiver.accepted('/retention'),
      (events) => events.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    const places: Record<string, string> = {
      stats: JSON.stringify([done, await h.stats(childId)]),
      list: await (await h.request('GET', '/api/v1/jobs?name=RETENTION_REPOSITORY')).text(),
      logs: readdirSync(h.logDir)
        .map((f) => readFileSync(join(h.logDir, f), 'utf8'))
        .join('\n'),
      hooks: JSON.stringify(receiver.accepted('/retention')),
      histories: JSON.stringify([
        await h.client.workflow.getHandle(job.id).fetchHistory(),
        await h.client.workflow.getHandle(childId).fetchHistory(),
      ]),
      memo: JSON.stringify([
        (await h.client.workflow.getHandle(job.id).describe()).memo,
        (await h.client.workflow.getHandle(childId).describe()).memo,
      ]),
    };
    assert.match(places.logs!, /Load 2 candidates/);
    for (const [where, text] of Object.entries(places)) {
      assert.equal(text.includes(PASSWORD), false, `the password shows in ${where}`);
      assert.ok(!text.includes(Buffer.from(`robot:${PASSWORD}`).toString('base64')), `the basic credentials show in ${where}`);
    }
  });

  it('without configured credentials the repository job fails with a message that says what to do', async () => {
    const bare = await createHarness({ config: h.config, registry: testRegistry() });
    try {
      await pushImage(registry.url, 'sec/other', 'x', '2026-01-01T00:00:00Z');
      // A harness of its own shares the task queue: stop the credentialed worker so this one runs it.
      await h.stopWorker();
      const job = await bare.submit({
        name: 'RETENTION',
        parameters: { registry: { url: proxy.url }, scope: { repositories: ['sec/other'] }, policy: oneRulePolicy() },
        metadata: { kind: 'Generic' },
      });
      const failed = await bare.waitForStatus(job.id, ['Error', 'Success'], 60_000);
      assert.equal(failed.status, 'Error');
      const child = await bare.stats(failed.results!['sec/other']!.job_id);
      assert.match(child.last_error ?? '', /wants credentials; configure them under registries/);
    } finally {
      await bare.close({ keepJobs: true });
      await h.startWorker();
    }
  });

  const submit = (parameters: Record<string, unknown>) =>
    h.request('POST', '/api/v1/jobs', { job: { name: 'RETENTION', parameters, metadata: { kind: 'Generic' } } });
  const base = { registry: { url: 'http://127.0.0.1:5000' }, scope: { repositories: ['proj/app'] }, policy: oneRulePolicy() };
  for (const [label, parameters, mentions] of [
    ['a pull-time template', { ...base, policy: oneRulePolicy('latestPulledN', 3) }, /pull times/],
    ['credentials in the registry URL', { ...base, registry: { url: 'http://robot:secret@127.0.0.1:5000' } }, /credentials/],
    ['an empty scope', { ...base, scope: {} }, /repositories/],
    ['a registry URL that is not one', { ...base, registry: { url: 'not a url' } }, /registry\.url/],
    // Its API is at /v2/ of the root: the requests would go elsewhere than the URL says.
    ['a registry URL with a fragment', { ...base, registry: { url: 'http://127.0.0.1:5000#frag' } }, /registry root/],
    ['a registry URL with a path', { ...base, registry: { url: 'http://127.0.0.1:5000/v2/' } }, /registry root/],
    ['a repository name that is not one', { ...base, scope: { repositories: ['../etc'] } }, /repository name/],
    ['16 rules', { ...base, policy: { algorithm: 'or', rules: Array.from({ length: 16 }, () => oneRulePolicy().rules[0]) } }, /rules/],
    ['an unknown template', { ...base, policy: oneRulePolicy('newestK', 3) }, /template/],
    ['an unknown field', { ...base, keep: 3 }, /keep/],
    ['a zero in-flight ceiling', { ...base, concurrency: { deletes: 0 } }, /deletes/],
    ['dry_run as a string', { ...base, dry_run: 'yes' }, /dry_run/],
    // Harbor fails the job on these; here they would have matched nothing and let every artifact go.
    ['a malformed tag pattern', { ...base, policy: oneRulePolicy('always', 1, '{v1,v2') }, /pattern "\{v1,v2": a '\{' is not closed/],
    [
      'a malformed repository pattern',
      { ...base, scope: { repository_patterns: ['proj/[app'] } },
      /repository_patterns.*'\[' is not closed/,
    ],
    // Every tag meets every tag selector in the run: one this costly held a worker for minutes.
    [
      'a tag pattern too complex to match',
      { ...base, policy: oneRulePolicy('always', 1, '{a,b}'.repeat(8) + '*a'.repeat(236)) },
      /too complex/,
    ],
    ['the nothing template, which Harbor does not run', { ...base, policy: oneRulePolicy('nothing', 1) }, /template/],
    [
      'a rule without its parameter',
      { ...base, policy: { algorithm: 'or', rules: [{ ...oneRulePolicy().rules[0], params: {} }] } },
      /params\.latestPushedK: is required/,
    ],
  ] as const) {
    it(`POST /jobs RETENTION: ${label} → 400`, async () => {
      const response = await submit(parameters);
      const body = (await response.json()) as { code: number; description: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.code, 10013);
      assert.match(body.description, mentions);
      assert.ok(!body.description.includes('secret@'), 'the error does not echo credentials');
    });
  }

  it('plans a few thousand repositories under a policy of several rules (the plan once outgrew its 2 MB result)', async () => {
    const repositories = Array.from({ length: 2500 }, (_, i) => `team${i % 50}/service-${i}`);
    const rule = (template: string, n: number | undefined, pattern: string) => ({
      action: 'retain',
      template,
      params: n === undefined ? {} : { [template]: n },
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern, extras: '{"untagged":true}' }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
    });
    const job = await h.submit({
      name: 'RETENTION',
      parameters: {
        // Nothing answers there: the plan needs no registry for named repositories, and the job is stopped once planned.
        registry: { url: 'http://127.0.0.1:9' },
        scope: { repositories },
        policy: {
          algorithm: 'or',
          rules: [
            rule('latestPushedK', 10, '**'),
            rule('nDaysSinceLastPush', 30, 'release-*'),
            rule('always', undefined, '{latest,stable}'),
          ],
        },
        dry_run: true,
        concurrency: { repositories: 1 },
      },
      metadata: { kind: 'Generic' },
    });
    const planned = await waitFor(
      () => h.stats(job.id),
      (s) => /"total":2500/.test(s.check_in ?? '') || ['Error', 'Success', 'Stopped'].includes(s.status),
      { timeoutMs: 60_000, what: 'the plan of 2,500 repositories, or the job to end' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    assert.equal(planned.status, 'Running', planned.last_error);
    assert.match(planned.check_in ?? '', /"total":2500/);
    await h.waitForStatus(job.id, ['Stopped'], 60_000);
  });
});
