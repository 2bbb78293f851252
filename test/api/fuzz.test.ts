import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';

/**
 * Requests no one writes by hand, from a fixed seed (so a failure names a request that fails
 * again): every route and method, ids and query values of every shape, bodies that are valid
 * submits mutated at one place, random JSON, broken JSON, odd content types. Whatever comes in,
 * the API answers below 500 (save Harbor's 501 for an unknown action), and every error is
 * Harbor's `{code, err, description}` JSON.
 * bad-input.test.ts pins the answer for each case it names; this one looks for the cases no one named.
 */

// FUZZ_SEED and FUZZ_REQUESTS explore further; the suite runs the fixed seed.
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 600);

/** mulberry32: small, fast and the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = ReturnType<typeof prng>;
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;

const ID_SHAPES = [
  '0123456789abcdef01234567', // well formed, no such job
  'ffffffffffffffffffffffff',
  '0123456789abcdef01234567@1700000000', // an execution's alias
  '0123456789abcdef01234567@',
  '0123456789abcdef01234567@-1',
  '0123456789abcdef01234567@99999999999999999999',
  'ABCDEF0123456789ABCDEF01',
  'x',
  '',
  '%00',
  '%',
  '%25',
  '%E2%82%AC',
  '%F0%9F%92%A5'.repeat(8),
  'a'.repeat(300),
  '..',
  '%2e%2e%2f%2e%2e',
  'null',
  '0123456789abcdef01234567%0A',
  ' 0123456789abcdef01234567',
];
const JOB_TYPES = ['NOOP', 'DEMO', 'RETENTION', 'noop', 'NO_SUCH', '', 'A'.repeat(200), '%00', 'GC', 'IMAGE_GC'];
const FILE_NAMES = ['report.csv', 'x', '..%2Fpasswd', '%00', 'a'.repeat(300), '.hidden'];
const QUERY_KEYS = ['page_number', 'page_size', 'status', 'kind', 'name', 'follow', 'non_dead_only', 'q', 'page', ''];
const QUERY_VALUES = [
  '1',
  '0',
  '-1',
  '1.5',
  '1e3',
  '99999999999999999999',
  'abc',
  '',
  'Success',
  'Error',
  'Periodic',
  'NOOP',
  'true',
  '%00',
  '%E2%82%AC',
  'a'.repeat(500),
];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/JSON',
  '',
];

function randomJson(r: Rand, depth = 0): unknown {
  const roll = r();
  if (depth > 3 || roll < 0.35) {
    return pick(r, [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', '\u0000', '\ud800', 'é€💥', 'a'.repeat(2000)]);
  }
  if (roll < 0.6) return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
  const keys = ['job', 'name', 'parameters', 'metadata', 'kind', 'action', 'paused', 'limit', '__proto__', 'constructor', 'x'];
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(r, keys), randomJson(r, depth + 1)]));
}

/** A valid submit, then one field set to something else. */
function mutatedSubmit(r: Rand): unknown {
  const metadata: Record<string, unknown> = pick(r, [
    { kind: 'Generic' },
    { kind: 'Scheduled', schedule_delay: 3600 },
    { kind: 'Periodic', cron_spec: '0 0 3 * * *' },
  ]);
  const job: Record<string, unknown> = { name: pick(r, ['NOOP', 'DEMO']), parameters: {}, metadata };
  const where = pick(r, ['job', 'metadata', 'top']);
  const key = pick(r, [
    'name',
    'parameters',
    'metadata',
    'status_hook',
    'kind',
    'schedule_delay',
    'cron_spec',
    'unique',
    'timezone',
    'suspend',
    'concurrency_policy',
    'starting_deadline_seconds',
    'successful_jobs_history_limit',
    'extra',
  ]);
  const value = randomJson(r);
  if (where === 'job') job[key] = value;
  else if (where === 'metadata') metadata[key] = value;
  else return { job, [key]: value };
  return { job };
}

/** A body as sent: JSON text, broken text, or none. */
function randomBody(r: Rand): string | undefined {
  const roll = r();
  if (roll < 0.15) return undefined;
  if (roll < 0.5) return JSON.stringify(mutatedSubmit(r));
  if (roll < 0.7) return JSON.stringify(randomJson(r));
  if (roll < 0.8) return JSON.stringify({ action: pick(r, ['stop', 'cancel', 'retry', 'STOP', '', 'pause', null, 1]) });
  if (roll < 0.87)
    return JSON.stringify({ action: pick(r, ['pause', 'resume', 'stop', 'x']), ...(r() < 0.5 ? { limit: randomJson(r) } : {}) });
  // Broken on purpose: cut short, nested past any sane depth, bytes that are not UTF-8 text.
  return pick(r, ['{"job": {', '{'.repeat(5000), '['.repeat(20000), '\u0000', '{"job":1,}', 'null', '"', '\ufeff{}', '{"a":1e999999}']);
}

/** A route's path with ids and query values of every shape, and the method the route takes. */
function randomRoute(r: Rand): { path: string; method: string } {
  const id = pick(r, ID_SHAPES);
  const [path, method] = pick(r, [
    ['/api/v1/jobs', 'POST'],
    ['/api/v1/jobs', 'POST'],
    ['/api/v1/jobs', 'POST'],
    ['/api/v1/jobs', 'GET'],
    [`/api/v1/jobs/${id}`, 'GET'],
    [`/api/v1/jobs/${id}`, 'POST'],
    [`/api/v1/jobs/${id}`, 'POST'],
    [`/api/v1/jobs/${id}/executions`, 'GET'],
    [`/api/v1/jobs/${id}/log`, 'GET'],
    [`/api/v1/jobs/${id}/report`, 'GET'],
    [`/api/v1/jobs/${id}/hooks`, 'GET'],
    [`/api/v1/jobs/${id}/files/${pick(r, FILE_NAMES)}`, 'GET'],
    ['/api/v1/stats', 'GET'],
    ['/api/v1/queues', 'GET'],
    [`/api/v1/queues/${pick(r, JOB_TYPES)}`, 'PUT'],
    [`/api/v1/queues/${pick(r, JOB_TYPES)}`, 'PUT'],
    ['/api/v1/openapi.json', 'GET'],
    ['/metrics', 'GET'],
    ['/api/v1/', 'GET'],
    ['/api/v2/jobs', 'POST'],
    [`/api/v1/jobs/${id}/${pick(r, ['x', 'log/x', 'files'])}`, 'GET'],
  ] as const);
  // Mostly the route's own method, so the requests get past routing to the checks behind it.
  const chosen = r() < 0.8 ? method : pick(r, METHODS);
  if (r() < 0.5) return { path, method: chosen };
  const pairs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => `${pick(r, QUERY_KEYS)}=${pick(r, QUERY_VALUES)}`);
  return { path: `${path}?${pairs.join('&')}`, method: chosen };
}

function parseError(text: string): { code?: unknown; err?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as { code?: unknown; err?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

describe('the API under requests no one wrote by hand (seeded)', () => {
  let h: Harness;
  const created: string[] = [];
  before(async () => {
    // With a worker, as npm start runs: /stats answers 503 without one, by design.
    h = await createHarness({ served: true, config: testConfig({ max_body_bytes: 64 * 1024 }) });
  });
  after(async () => {
    // A mutation that happens to be a valid Periodic job leaves a schedule behind: stopping it removes it.
    for (const id of created) await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' }).catch(() => undefined);
    await h.close();
  });

  it(`${REQUESTS} requests: every answer below 500, every error Harbor's JSON`, async () => {
    const r = prng(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const { path, method } = randomRoute(r);
      const body = method === 'GET' || method === 'HEAD' ? undefined : randomBody(r);
      const headers: Record<string, string> = {};
      if (body !== undefined && r() < 0.3) headers['content-type'] = pick(r, CONTENT_TYPES);
      if (r() < 0.05)
        headers.authorization = pick(r, [
          '',
          'Harbor-Secret',
          'harbor-secret test-secret-0123456789',
          'Bearer x',
          'Harbor-Secret  test-secret-0123456789',
        ]);
      const label = `#${i} ${method} ${path.slice(0, 120)} ${JSON.stringify(headers)} ${body?.slice(0, 120) ?? ''}`;
      let response: Response;
      try {
        response = await h.request(method, path, body, headers);
      } catch (err) {
        failures.push(`${label}: no answer (${(err as Error).message})`);
        continue;
      }
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const text = await response.text();
      const error = parseError(text);
      // Harbor answers an action it does not know with 501 and code 10008 (see bad-input.test.ts).
      const harborsUnknownAction = response.status === 501 && error?.code === 10008;
      if (response.status >= 500 && !harborsUnknownAction) {
        failures.push(`${label}: ${response.status} ${text.slice(0, 300)}`);
        continue;
      }
      if (response.status < 300 && method === 'POST' && path === '/api/v1/jobs') {
        const id = (JSON.parse(text) as { job?: { id?: string } }).job?.id;
        if (id) created.push(id);
      }
      if (response.status >= 400 && method !== 'HEAD' && (typeof error?.code !== 'number' || typeof error.err !== 'string')) {
        failures.push(`${label}: ${response.status} without Harbor's {code, err} JSON: ${text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(failures, [], `statuses seen: ${JSON.stringify([...statuses].sort())}`);
    // The generator reaches past the first check: successes and several kinds of refusal.
    assert.ok(
      [...statuses.keys()].some((s) => s < 300),
      `no request succeeded: ${JSON.stringify([...statuses])}`,
    );
    for (const s of [400, 401, 404]) assert.ok(statuses.has(s), `no ${s} among ${JSON.stringify([...statuses])}`);
  });
});
