import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_BUNDLER_OPTIONS, WORKFLOWS_PATH } from '../../src/worker/create-worker.js';
import { installQuietRuntime } from '../../src/temporal/install-runtime.js';

const DIR = 'test/replay/histories';
const WORKFLOWS_DIR = 'src/workflows';
const WORKFLOW_TYPES = ['GenericJob', 'ScheduledJob', 'HookDelivery', 'JobQueue'];

type PatchDetail = { payloads?: { data?: string }[] };
type HistoryJson = { events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[] };

/**
 * Histories recorded from real runs of earlier versions (record-histories.ts) replay against
 * today's workflow code: a change that would break a workflow still running fails here.
 */
describe('replay of recorded histories', () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const histories = files.map((file) => ({ file, json: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as HistoryJson }));

  it('covers every workflow type', () => {
    const types = new Set(histories.map(({ json }) => json.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
    for (const type of WORKFLOW_TYPES) assert.ok(types.has(type), `no recorded history of ${type}`);
  });

  it('covers every patch the workflows take, but for those whose paths a recording cannot reach or replay', () => {
    // A patch's new path replays only if some history took it: record one (record-histories.ts)
    // with the change that adds the patch.
    const notRecorded = new Map([
      ['final-job-outlives-cancel', 'a workflow cancel that lands while a final job still hands its hooks over'],
      ['hook-retries-wait-over-budget', 'a job whose history passed its event budget with a hook still failing'],
      ['stop-overtaking-a-hand-over-ends-the-fan-out', 'a stop that lands while a fan-out job hands over to its next run'],
      // A recording replays under the run id its history started with: a reset run replays as the
      // run it replaced, so its patch is never taken in a replay (test/jobs/queue-closed.test.ts runs it).
      ['reset-run-outwaits-replaced', "an operator's reset of a job of a limited type"],
      // As above (test/batch/fan-out-reset.test.ts runs it).
      ['reset-fan-out-winds-up-replaced-targets', "an operator's reset of a fan-out job"],
      ['closed-target-read-for-its-summary', "an operator cancelling or terminating a fan-out job's target"],
      // As above (test/jobs/queue-closed.test.ts runs it).
      ['reset-run-drops-replaced-place', "an operator's reset of a job waiting in its type's queue"],
      // As above (test/schedules/periodic-reset.test.ts runs it).
      ['reset-run-asks-as-its-job-starts', "an operator's reset of a running job past its start"],
      // test/retention/retention-operator.test.ts runs it.
      ['cancel-reaches-fan-out-children-at-once', 'a workflow cancel of a fan-out job while its child jobs run'],
      // test/batch/batch-stop-race.test.ts runs it.
      ['late-targets-published', 'a stopped fan-out job whose targets outlast the stop grace'],
      // test/jobs/hook-coalesce-in-flight.test.ts runs it.
      ['in-flight-check-in-kept', 'a check-in arriving while the one behind a parked check-in is in flight'],
    ]);
    const taken = new Set<string>();
    for (const { json } of histories) {
      for (const event of json.events as {
        markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, PatchDetail> };
      }[]) {
        const marker = event.markerRecordedEventAttributes;
        const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
        if (data) taken.add((JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id);
      }
    }
    const patches = new Set<string>();
    for (const file of readdirSync(WORKFLOWS_DIR)) {
      const source = readFileSync(join(WORKFLOWS_DIR, file), 'utf8');
      // An id given as a constant of the same module (`const X = '…'; patched(X)`) counts too.
      const constants = new Map([...source.matchAll(/const ([A-Z0-9_]+) = '([a-z0-9-]+)'/g)].map((m) => [m[1]!, m[2]!]));
      for (const match of source.matchAll(/patched\((?:'([a-z0-9-]+)'|([A-Z0-9_]+))\)/g)) {
        const id = match[1] ?? constants.get(match[2]!);
        assert.ok(id, `${file}: patched(${match[2]}) names no string constant of its module`);
        patches.add(id);
      }
    }
    assert.ok(patches.size > 0, 'no patched() call found: the pattern is stale');
    const missing = [...patches].filter((id) => !taken.has(id) && !notRecorded.has(id));
    assert.deepEqual(missing, [], 'patches no recorded history takes');
    // An exception whose path a recording has since reached is taken off the list.
    assert.deepEqual(
      [...notRecorded.keys()].filter((id) => taken.has(id) || !patches.has(id)),
      [],
    );
  });

  it('replays each without a nondeterminism error', async () => {
    installQuietRuntime('ERROR');
    const bundle = process.env.JOBSERVICE_WORKFLOW_BUNDLE;
    const source =
      bundle && existsSync(bundle)
        ? { workflowBundle: { codePath: bundle } }
        : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLER_OPTIONS };
    // A workflow that derives ids from its own (a compact input leaves its id out: the hook
    // hand-over's child) replays under the id it ran with; histories from older servers lack it.
    const fileOf = new Map<string, string>();
    const results = Worker.runReplayHistories(
      source,
      histories.map(({ file, json }) => {
        const started = json.events[0]?.workflowExecutionStartedEventAttributes as { workflowId?: string } | undefined;
        const workflowId = started?.workflowId && !fileOf.has(started.workflowId) ? started.workflowId : file;
        fileOf.set(workflowId, file);
        return { workflowId, history: json };
      }),
    );
    let replayed = 0;
    for await (const result of results) {
      assert.equal(result.error, undefined, `${fileOf.get(result.workflowId) ?? result.workflowId}: ${String(result.error)}`);
      replayed += 1;
    }
    assert.equal(replayed, histories.length);
    assert.ok(replayed >= WORKFLOW_TYPES.length);
  });
});
