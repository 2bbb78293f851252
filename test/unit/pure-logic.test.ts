import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poolHealth, POOL_DEAD_AFTER_SECONDS, uniqueJobId } from '../../src/api/job-gateway.js';
import { reconcile } from '../../src/views/job-view.js';
import { canonicalJson } from '../../src/shared/canonical-json.js';
import { initialState, isFinal, statusCode, toStats, type JobInput } from '../../src/shared/job-model.js';
import { decodePoolIdentity, encodePoolIdentity } from '../../src/shared/pool-identity.js';
import { DEFAULT_HOOK_TIMINGS, hookEvent, hookRetryDelayMs } from '../../src/shared/hook-event.js';
import { selectPrunable } from '../../src/schedules/history-limits.js';
import { retryDelayMs } from '../../src/shared/backoff.js';

const input: JobInput = {
  id: 'aaaaaaaaaaaaaaaaaaaaaaaa',
  name: 'DEMO',
  kind: 'Scheduled',
  parameters: { image: 'demo' },
  unique: false,
  enqueueTime: 1000,
  scheduleDelay: 30,
  revision: 1000,
  retry: { maxFails: 3, shouldRetry: true, initialIntervalMs: 1000, maxIntervalMs: 5000 },
  timings: { stopGraceMs: 1, heartbeatTimeoutMs: 1, maxRunMs: 1 },
};

describe('pure logic', () => {
  it('orders statuses like Harbor: final statuses share one code', () => {
    assert.deepEqual(
      ['Pending', 'Scheduled', 'Running'].map((s) => statusCode(s as never)),
      [0, 1, 2],
    );
    for (const s of ['Stopped', 'Cancelled', 'Error', 'Success'] as const) {
      assert.equal(statusCode(s), 3);
      assert.ok(isFinal(s));
    }
    assert.ok(!isFinal('Running'));
  });

  it('starts a delayed job as Scheduled with run_at, a plain one as Pending', () => {
    const scheduled = initialState(input);
    assert.equal(scheduled.status, 'Scheduled');
    assert.equal(scheduled.run_at, 1030);
    const plain = initialState({ ...input, kind: 'Generic', scheduleDelay: undefined });
    assert.equal(plain.status, 'Pending');
    assert.equal(plain.run_at, undefined);
  });

  it('builds Harbor stats from input and state', () => {
    const stats = toStats({ ...input, statusHook: 'http://h/', upstreamJobId: 'bbbbbbbbbbbbbbbbbbbbbbbb' }, initialState(input));
    assert.equal(stats.ref_link, '/api/v1/jobs/aaaaaaaaaaaaaaaaaaaaaaaa');
    assert.equal(stats.web_hook_url, 'http://h/');
    assert.equal(stats.upstream_job_id, 'bbbbbbbbbbbbbbbbbbbbbbbb');
    assert.equal(stats.fails, undefined);
  });

  it('maps workflows closed from outside onto job statuses, leaving final ones alone', () => {
    const running = toStats(input, { ...initialState(input), status: 'Running' });
    assert.equal(reconcile(running, 'TERMINATED').status, 'Stopped');
    assert.equal(reconcile(running, 'CANCELLED').status, 'Cancelled');
    assert.equal(reconcile(running, 'TIMED_OUT').status, 'Error');
    assert.equal(reconcile(running, 'FAILED').status, 'Error');
    assert.equal(reconcile(running, 'RUNNING').status, 'Running');
    const done = { ...running, status: 'Success' as const };
    assert.equal(reconcile(done, 'TERMINATED').status, 'Success');
  });

  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  });

  it('derives unique job ids of Harbor form from name and canonical parameters', () => {
    const id = uniqueJobId('DEMO', { a: 1, b: 2 });
    assert.match(id, /^[0-9a-f]{24}$/);
    assert.equal(id, uniqueJobId('DEMO', { b: 2, a: 1 }));
    assert.notEqual(id, uniqueJobId('DEMO', { a: 1, b: 3 }));
    assert.notEqual(id, uniqueJobId('OTHER', { a: 1, b: 2 }));
  });

  it('backs off exponentially between failed runs, capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((f) => retryDelayMs(input.retry, f)),
      [1000, 2000, 4000, 5000, 5000],
    );
    assert.equal(retryDelayMs(input.retry, 1000), 5000);
  });

  it('calls a pool Dead once it has not polled for longer than an idle long poll', () => {
    assert.equal(poolHealth(1000, 1000), 'Healthy');
    assert.equal(poolHealth(1000, 1000 + POOL_DEAD_AFTER_SECONDS), 'Healthy');
    assert.equal(poolHealth(1000, 1001 + POOL_DEAD_AFTER_SECONDS), 'Dead');
    assert.equal(poolHealth(0, 1000 + POOL_DEAD_AFTER_SECONDS), 'Dead');
  });

  it('round-trips a worker pool identity and rejects foreign identities', () => {
    const pool = { poolId: '0123456789ab', startedAt: 1700000000, concurrency: 10, host: 'node-1:42' };
    assert.deepEqual(decodePoolIdentity(encodePoolIdentity(pool)), pool);
    assert.equal(decodePoolIdentity('12345@host'), undefined);
    assert.equal(decodePoolIdentity('jobservice/xyz/1/1@h'), undefined);
  });

  it('prunes executions beyond each history limit, oldest first, counting the one that is ending', () => {
    const e = (id: string, startedAt: number, succeeded: boolean) => ({ id, startedAt, succeeded });
    const closed = [e('s1', 1, true), e('f2', 2, false), e('s3', 3, true), e('f4', 4, false), e('s5', 5, true)];
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), { successful: 2, failed: 1 }).sort(), ['f2', 's1', 's3']);
    assert.deepEqual(selectPrunable(closed, e('f6', 6, false), { successful: 2, failed: 1 }).sort(), ['f2', 'f4', 's1']);
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), { failed: 0 }).sort(), ['f2', 'f4'], 'no successful limit keeps them all');
    assert.deepEqual(selectPrunable(closed, e('s6', 6, true), {}), []);
    // The ending execution never deletes itself, even with a limit of 0, and is never listed twice.
    assert.deepEqual(selectPrunable([...closed, e('s6', 6, true)], e('s6', 6, true), { successful: 0 }).sort(), ['s1', 's3', 's5']);
  });

  it('builds Harbor hook events: execution ids in the <id>@<epoch> form, check-in only when given', () => {
    const base = {
      status: 'Running',
      name: 'NOOP',
      kind: 'Scheduled',
      unique: false,
      ref_link: '',
      enqueue_time: 1,
      update_time: 1,
      parameters: {},
      revision: 1,
    } as const;
    const execution = hookEvent({ ...base, id: '0123456789abcdef01234567-2026-11-23T10:00:05Z' }, '50%');
    assert.equal(execution.job_id, `0123456789abcdef01234567@${Date.parse('2026-11-23T10:00:05Z') / 1000}`);
    assert.equal(execution.check_in, '50%');
    assert.equal(execution.metadata.id, '0123456789abcdef01234567-2026-11-23T10:00:05Z');
    const plain = hookEvent({ ...base, id: '0123456789abcdef01234567', status: 'Success' });
    assert.equal(plain.job_id, '0123456789abcdef01234567');
    assert.equal(plain.status, 'Success');
    assert.ok(!('check_in' in plain));
  });

  it('backs hook retries off exponentially from the initial delay to the cap', () => {
    const t = { ...DEFAULT_HOOK_TIMINGS, initialRetryMs: 100, maxRetryMs: 1000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => hookRetryDelayMs(t, n)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });
});
