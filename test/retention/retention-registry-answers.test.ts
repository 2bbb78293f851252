import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { listTags, pushImage, startRegistry, startRegistryProxy, type RegistryProxy, type TestRegistry } from '../helpers/registry.js';
import { oneRulePolicy } from '../helpers/retention-policy.js';
import { testRegistry } from '../helpers/test-jobs.js';

const PASSWORD = 'token-dance-pa55';

describe('RETENTION and what a registry answers: bearer tokens, deletes disabled, unknown repositories', () => {
  let registry: TestRegistry;
  let bearer: RegistryProxy;
  let plain: RegistryProxy;
  let h: Harness;
  before(async () => {
    registry = await startRegistry();
    bearer = await startRegistryProxy(registry.url, { basicAuth: { username: 'robot', password: PASSWORD }, bearer: true });
    plain = await startRegistryProxy(registry.url);
    h = await createHarness({
      registry: testRegistry({ ...DEFAULT_REGISTRY_SETTINGS, registries: [{ url: bearer.url, username: 'robot', password: PASSWORD }] }),
    });
  });
  after(async () => {
    await h.close();
    await bearer.close();
    await plain.close();
    await registry.stop();
  });

  const run = async (url: string, repository: string) => {
    const job = await h.submit({
      name: 'RETENTION',
      parameters: { registry: { url }, scope: { repositories: [repository] }, policy: oneRulePolicy() },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    const child = await h.stats(done.results![repository]!.job_id);
    return { done, child, log: readFileSync(join(h.logDir, `${child.id}.log`), 'utf8') };
  };

  it('gets a token from the realm a 401 names (the distribution spec’s token dance) and uses it', async () => {
    for (const [tag, m] of [
      ['old', 1],
      ['new', 2],
    ] as const)
      await pushImage(registry.url, 'tok/app', tag, `2026-0${m}-01T00:00:00Z`);
    const { done } = await run(bearer.url, 'tok/app');
    assert.equal(done.status, 'Success', done.last_error);
    assert.ok(bearer.tokensIssued >= 1);
    assert.ok(bearer.sawCredentials);
    assert.deepEqual(await listTags(registry.url, 'tok/app'), ['new']);
  });

  it('a registry with deletes disabled (405) gives ERR rows and an error that says so', async () => {
    const doomed = await pushImage(registry.url, 'ro/app', 'old', '2026-01-01T00:00:00Z');
    await pushImage(registry.url, 'ro/app', 'new', '2026-02-01T00:00:00Z');
    plain.failing.add(doomed);
    plain.failStatus = 405;
    const { done, child, log } = await run(plain.url, 'ro/app');
    assert.equal(done.status, 'Error');
    assert.equal(child.status, 'Error');
    assert.match(log, /does not allow deletes \(storage\.delete\.enabled is off\)/);
    assert.match(log, new RegExp(`${doomed} \\| old +\\| image .*\\| ERR`));
    assert.deepEqual(await listTags(registry.url, 'ro/app'), ['new', 'old']);
  });

  it('follows the Link header through every page of the catalog and of the tags', async () => {
    for (let i = 0; i < 5; i++) await pushImage(registry.url, `paged/r${i}`, 'only', '2026-01-01T00:00:00Z');
    for (let i = 0; i < 7; i++) await pushImage(registry.url, 'paged/r0', `t${i}`, `2026-01-0${i + 1}T00:00:00Z`);
    const client = new RegistryClient({ url: registry.url }, { timeoutMs: 10_000, pageSize: 2 });
    assert.deepEqual(
      (await client.catalog()).filter((r) => r.startsWith('paged/')),
      ['paged/r0', 'paged/r1', 'paged/r2', 'paged/r3', 'paged/r4'],
    );
    assert.deepEqual((await client.tags('paged/r0')).sort(), ['only', 't0', 't1', 't2', 't3', 't4', 't5', 't6']);
  });

  it('an unknown repository fails its repository job with the registry’s 404, named', async () => {
    const { done, child } = await run(plain.url, 'no/such-repo');
    assert.equal(done.status, 'Error');
    assert.match(done.last_error ?? '', /no\/such-repo/);
    assert.match(child.last_error ?? '', /tags of no\/such-repo: HTTP 404 \(not found\)/);
  });
});
