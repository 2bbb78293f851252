import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { retryAfterMs } from '../../src/registry/registry-answers.js';
import { RegistryError } from '../../src/registry/registry-error.js';
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

  it('a registry with deletes disabled (405) gives ERR rows and an error that says so; no more deletes are sent', async () => {
    const doomed = await pushImage(registry.url, 'ro/app', 'old', '2026-01-01T00:00:00Z');
    const older = await pushImage(registry.url, 'ro/app', 'older', '2025-12-01T00:00:00Z');
    const oldest = await pushImage(registry.url, 'ro/app', 'oldest', '2025-11-01T00:00:00Z');
    await pushImage(registry.url, 'ro/app', 'new', '2026-02-01T00:00:00Z');
    for (const digest of [doomed, older, oldest]) plain.failing.add(digest);
    plain.failStatus = 405;
    // A slow answer: deletes in flight together would all be sent before the first refusal is known.
    plain.deleteDelayMs = 300;
    const sent = plain.deletes.length;
    const { done, child, log } = await run(plain.url, 'ro/app').finally(() => (plain.deleteDelayMs = 0));
    assert.equal(done.status, 'Error');
    assert.equal(child.status, 'Error');
    assert.match(log, /does not allow deletes \(storage\.delete\.enabled is off\)/);
    assert.match(log, new RegExp(`${doomed} \\| old +\\| image .*\\| ERR`));
    assert.equal(plain.deletes.length - sent, 1, 'one refused delete is enough to know');
    assert.equal(log.match(/not attempted: an earlier delete was refused: .*does not allow deletes/g)?.length, 2, log);
    assert.deepEqual(await listTags(registry.url, 'ro/app'), ['new', 'old', 'older', 'oldest']);
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

  it('a registry answering 429 with Retry-After: every request of the run waits it out, then the run deletes what it dooms', async () => {
    await pushImage(registry.url, 'slow/app', 'old', '2026-01-01T00:00:00Z');
    await pushImage(registry.url, 'slow/app', 'new', '2026-02-01T00:00:00Z');
    plain.resetCounts();
    plain.throttle = { remaining: 2, status: 429, retryAfter: '1' };
    const { done, log } = await run(plain.url, 'slow/app');
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, 'slow/app'), ['new']);
    assert.equal(plain.throttled.length, 2);
    // Nothing reached the registry until the first Retry-After had passed.
    const firstPushBack = plain.throttled[0]!.at;
    assert.ok(plain.forwarded.length > 0);
    for (const request of plain.forwarded)
      assert.ok(request.at - firstPushBack >= 950, `a request went out ${request.at - firstPushBack} ms after the 429`);
    assert.match(log, /the registry pushed back: GET \/v2\/slow\/app\/\S+: HTTP 429 \(Retry-After 1 s\); retry 1 of 4/);
  });

  it('a delete refused with 503 is repeated after a backoff and counted as deleted', async () => {
    const doomed = await pushImage(registry.url, 'busy/app', 'old', '2026-01-01T00:00:00Z');
    await pushImage(registry.url, 'busy/app', 'new', '2026-02-01T00:00:00Z');
    plain.resetCounts();
    plain.throttle = { remaining: 1, status: 503, method: 'DELETE' };
    const { done, child } = await run(plain.url, 'busy/app');
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(await listTags(registry.url, 'busy/app'), ['new']);
    assert.deepEqual(
      plain.throttled.map((t) => t.method),
      ['DELETE'],
    );
    assert.deepEqual(
      plain.deletes.map((d) => [d.digest, d.status]),
      [[doomed, 202]],
    );
    const summary = JSON.parse(child.check_in ?? '{}') as { deleted?: number; errors?: number };
    assert.deepEqual([summary.deleted, summary.errors], [1, 0]);
  });

  it('a Retry-After beyond retention.max_retry_after_seconds fails the run at once, naming the wait', async () => {
    await pushImage(registry.url, 'closed/app', 'old', '2026-01-01T00:00:00Z');
    plain.resetCounts();
    plain.throttle = { remaining: 1, status: 429, retryAfter: '3600' };
    const started = Date.now();
    const { done, child } = await run(plain.url, 'closed/app');
    assert.equal(done.status, 'Error');
    assert.match(
      child.last_error ?? '',
      /HTTP 429, the registry asks to retry after 3600 s, longer than retention\.max_retry_after_seconds \(60\)/,
    );
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(await listTags(registry.url, 'closed/app'), ['old']);
  });

  it('the client gives up after its retries with the registry’s answer; a delete is not repeated on a gateway’s 502', async () => {
    await pushImage(registry.url, 'gone/app', 'only', '2026-01-01T00:00:00Z');
    const client = new RegistryClient(
      { url: plain.url },
      { timeoutMs: 10_000, retry: { retries: 2, maxRetryAfterMs: 1000, backoffMs: 10 } },
    );
    plain.resetCounts();
    plain.throttle = { remaining: 5, status: 503 };
    await assert.rejects(client.tags('gone/app'), (err: unknown) => err instanceof RegistryError && err.status === 503);
    assert.equal(plain.throttled.length, 3);
    plain.resetCounts();
    plain.throttle = { remaining: 5, status: 502 };
    await assert.rejects(client.deleteManifest('gone/app', `sha256:${'0'.repeat(64)}`), /HTTP 502/);
    assert.equal(plain.throttled.length, 1);
    plain.throttle = { remaining: 0, status: 429 };
  });

  it('a stop during a Retry-After wait ends the request at once', async () => {
    const stop = new AbortController();
    const client = new RegistryClient({ url: plain.url }, { timeoutMs: 10_000, signal: stop.signal });
    plain.resetCounts();
    plain.throttle = { remaining: 1, status: 429, retryAfter: '30' };
    const started = Date.now();
    setTimeout(() => stop.abort('stop'), 200);
    await assert.rejects(client.tags('gone/app'));
    assert.ok(Date.now() - started < 5_000, `the request ended ${Date.now() - started} ms after it began`);
    assert.equal(plain.forwarded.length, 0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    assert.equal(retryAfterMs('7', now), 7000);
    assert.equal(retryAfterMs('Sun, 06 Dec 2026 10:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Sun, 06 Dec 2026 09:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('soon', now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });

  it('answers only the registry’s own 401: credentials never go to the realm of a host a redirect led to', async () => {
    const tokenRequests: (string | undefined)[] = [];
    const elsewhere = createServer((req, res) => {
      if (req.url?.startsWith('/token')) {
        tokenRequests.push(req.headers.authorization);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t"}');
        return;
      }
      const { port } = elsewhere.address() as { port: number };
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="x"` }).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    const registryHost = createServer((req, res) => {
      const { port } = elsewhere.address() as { port: number };
      res.writeHead(307, { location: `http://127.0.0.1:${port}${req.url}` }).end();
    });
    await new Promise<void>((resolve) => registryHost.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = registryHost.address() as { port: number };
      const client = new RegistryClient({ url: `http://127.0.0.1:${port}`, username: 'robot', password: PASSWORD }, { timeoutMs: 5000 });
      await assert.rejects(
        client.tags('app'),
        /redirected to http:\/\/127\.0\.0\.1:\d+, which asks for credentials; they are not sent there/,
      );
      assert.deepEqual(tokenRequests, []);
    } finally {
      registryHost.close();
      elsewhere.close();
    }
  });
});
