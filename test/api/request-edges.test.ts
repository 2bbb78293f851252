import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../helpers/raw-http.js';
import { createHarness, TEST_SECRET, type Harness } from '../helpers/harness.js';
import { deleteSchedules } from '../helpers/schedules.js';

const created: string[] = [];

/** Input found by a review to slip past the API's checks: each is now a clear answer. */
describe('REST API: cron steps, @every fractions, __proto__ keys and requests that are no URL', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ worker: false, served: true });
  });
  after(async () => {
    await deleteSchedules(h.client, created);
    await h.close();
  });

  const periodic = async (cron: string) => {
    const response = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: cron } },
    });
    const text = await response.text();
    const body = JSON.parse(text) as { job?: { id: string; cron_spec?: string; next_run_times?: string[] } };
    if (body.job?.id) created.push(body.job.id);
    return { status: response.status, text, job: body.job };
  };

  // robfig/cron (Harbor core's parser) reads a step larger than the field as "the start only":
  // `0 0 */4294967296 * * *` is daily at 00:00:00. The step went to Temporal as a protobuf int32
  // and wrapped (2^32 → 0, which Temporal reads as 1; 2^32+2 → 2): the job fired 24 times as often.
  for (const [cron, expected, label] of [
    ['0 0 */4294967296 * * *', /T00:00:00Z$/, 'daily at 00:00:00'],
    ['*/4294967297 * * * * *', /:00Z$/, 'once a minute, at second 0'],
    ['0 0 0 1-31/4294967298 * *', /-01T00:00:00Z$/, 'on the 1st of the month'],
  ] as const) {
    it(`POST /jobs Periodic cron_spec ${JSON.stringify(cron)} fires ${label}, as robfig reads it — its step does not wrap round`, async () => {
      const { status, text, job } = await periodic(cron);
      assert.equal(status, 202, text);
      assert.equal(job?.cron_spec, cron);
      const times = job?.next_run_times ?? [];
      assert.ok(times.length > 0, text);
      for (const t of times) assert.match(t, expected, `submitted ${cron}, shown as ${job?.cron_spec}; next runs: ${times.join(' ')}`);
    });
  }

  // Go's time.ParseDuration (robfig's @every) reads 4.1m as exactly 246 s and 0.55h as 33 min:
  // whole seconds. Multiplied in floating point (4.1 × 60000 = 245999.99999999997), they were
  // refused as "not whole seconds".
  for (const [cron, seconds] of [
    ['@every 4.1m', 246],
    ['@every 0.55h', 1980],
  ] as const) {
    it(`POST /jobs Periodic cron_spec ${JSON.stringify(cron)} (exactly ${seconds} s) is accepted`, async () => {
      const { status, text, job } = await periodic(cron);
      assert.equal(status, 202, text);
      const [a, b] = (job?.next_run_times ?? []).map((t) => Date.parse(t));
      assert.equal((b! - a!) / 1000, seconds, text);
    });
  }

  // A parameter named `__proto__` is an ordinary key in JSON (and in Go's map, Harbor's). zod's
  // record dropped it: the job was accepted (202) and ran without it, and nothing said so.
  for (const parameters of ['{"__proto__":{"a":1},"b":2}', '{"b":{"c":[{"__proto__":1}]}}', '{"b":{"__pro\\u0074o__":1}}']) {
    it(`POST /jobs with parameters ${parameters}: a 400 naming the key, no job`, async () => {
      const body = `{"job":{"name":"SCHEDULER","parameters":${parameters},"metadata":{"kind":"Scheduled","schedule_delay":3600}}}`;
      const response = await h.request('POST', '/api/v1/jobs', body);
      const text = await response.text();
      assert.equal(response.status, 400, text);
      const error = JSON.parse(text) as { code: number; description: string };
      assert.equal(error.code, 10013, text);
      assert.match(error.description, /job\.parameters.*__proto__/, text);
    });
  }

  // A request @hono/node-server cannot turn into a Request (a backslash in the path, a bad Host)
  // is answered before the app runs: it was a 400 with an empty body, not {code, err, description}.
  for (const [label, target, host] of [
    ['a backslash in the job id path', '/api/v1/jobs/0123456789abcdef01234567\\log', undefined],
    ['a malformed Host header', '/api/v1/jobs/0123456789abcdef01234567', 'bad host'],
  ] as const) {
    it(`GET with ${label} → a 4xx with Harbor's JSON error body`, async () => {
      const { host: realHost } = new URL(h.url!);
      const { status, headers, body } = await rawExchange(
        h.url!,
        `GET ${target} HTTP/1.1\r\nHost: ${host ?? realHost}\r\nAuthorization: Harbor-Secret ${TEST_SECRET}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(status, 400, body);
      assert.match(headers, /content-type: application\/json/i, `${status}, headers:\n${headers}\nbody: ${JSON.stringify(body)}`);
      const error = JSON.parse(body) as { code: number; err: string; description: string };
      assert.equal(error.code, 10013, body);
      assert.equal(error.err, 'bad request', body);
      assert.match(error.description, /no valid URL/, body);
    });
  }
});
