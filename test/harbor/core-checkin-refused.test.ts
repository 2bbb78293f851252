/**
 * Harbor core compatibility: a stand-in for Harbor core's status hook handler
 * (src/pkg/task/hook.go HookHandler.Handle, src/pkg/task/dao/task.go UpdateStatus,
 * src/pkg/scheduler/callback.go triggerCallback) whose SCHEDULER callback fails: the replication
 * callback of a scheduled policy that is disabled (412), or core's EXECUTION_SWEEP, GC and
 * PURGE_AUDIT_LOG callbacks against this service (they submit jobs it answers 400 to: 500). Core
 * answers such a check-in with the error and rolls its transaction back.
 *
 * Harbor's jobservice sends each event on its own and drops a failed check-in once a later status
 * of the same revision is acknowledged, so core's SCHEDULER task still gets the execution's final
 * status and ends final; core's unschedule (UnScheduleByID: StopAndWait 10 s, then Delete, which
 * refuses tasks that are not final) then succeeds.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deleteSchedules } from '../helpers/schedules.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import type { HookEvent } from '../../src/shared/hook-event.js';

/** Harbor's job.Status.Code(). */
const CODE: Record<string, number> = { Pending: 0, Scheduled: 1, Running: 2, Stopped: 3, Error: 3, Success: 3 };

interface CoreTask {
  jobId: string;
  status: string;
  code: number;
  revision: number;
  runCount: number;
}

/** Harbor core's task table and hook handler, for one SCHEDULER task whose callback always fails. */
async function startCore({ callbackFails = true } = {}) {
  const task: CoreTask = { jobId: '', status: 'Pending', code: 0, revision: 0, runCount: 0 };
  let scheduleRevision = 0;
  const seen: { job_id: string; status: string; check_in?: string; revision: number; answered: number }[] = [];
  let callbacks = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const sc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HookEvent;
      const answer = (status: number, body = '') => {
        seen.push({ job_id: sc.job_id, status: sc.status, check_in: sc.check_in, revision: sc.metadata.revision, answered: status });
        res.writeHead(status).end(body);
      };
      const jobId = sc.metadata.upstream_job_id || sc.job_id;
      // The task row is found by the job id core got from the submit (not committed yet: 404).
      if (!task.jobId || jobId !== task.jobId) return answer(404, `task with job ID ${sc.job_id} not found`);
      if (sc.check_in) {
        // triggerCallback: UpdateRevision(check_in_at), then the callback, in one transaction.
        if ((sc.metadata.check_in_at ?? 0) <= scheduleRevision) return answer(200);
        callbacks += 1;
        if (!callbackFails) {
          scheduleRevision = sc.metadata.check_in_at ?? 0;
          return answer(200);
        }
        // The callback fails, e.g. REPLICATION_CALLBACK of a scheduled policy the user disabled
        // (controller/replication/execution.go Start: PreconditionCode), answered by libhttp.SendError
        // as 412; the transaction, revision update included, rolls back.
        return answer(412, '{"errors":[{"code":"PRECONDITION","message":"the policy 1 is disabled"}]}');
      }
      // taskDAO.UpdateStatus
      const rev = sc.metadata.revision;
      const code = CODE[sc.status] ?? -1;
      if (task.revision < rev) task.runCount += 1;
      if ((task.revision === rev && task.code < code) || task.revision < rev) {
        Object.assign(task, { status: sc.status, code, revision: rev });
      }
      return answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/service/notifications/tasks/1`,
    task,
    seen,
    callbacks: () => callbacks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Harbor core whose SCHEDULER callback fails', () => {
  let h: Harness;
  const schedules: string[] = [];
  before(async () => {
    h = await createHarness();
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
  });

  it("control: with core's callback succeeding, core's unschedule finds its task final", async () => {
    const core = await startCore({ callbackFails: false });
    try {
      await unscheduleAfterFirstFiring(core);
    } finally {
      await core.close();
    }
  });

  it("a refused check-in does not hold back the execution's final status: core's unschedule finds its task final", async () => {
    const core = await startCore();
    try {
      await unscheduleAfterFirstFiring(core);
    } finally {
      await core.close();
    }
  });

  async function unscheduleAfterFirstFiring(core: Awaited<ReturnType<typeof startCore>>): Promise<void> {
    const job = await h.submit({
      name: 'SCHEDULER',
      parameters: null,
      status_hook: core.url,
      metadata: { kind: 'Periodic', cron_spec: '*/2 * * * * *', unique: false },
    });
    schedules.push(job.id);
    core.task.jobId = job.id;
    // The first firing checks in; core's callback fails.
    const deadline = Date.now() + 30_000;
    while (core.callbacks() < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(core.callbacks() >= 1, 'no check-in reached core');

    // Core's UnScheduleByID: stop the task's job, then wait up to 10 s for the execution to be final.
    const stop = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
    assert.equal(stop.status, 204);
    const waitUntil = Date.now() + 10_000;
    while (CODE[core.task.status] !== 3 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));

    const executions = (await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as {
      job: { id: string; status: string };
    }[];
    const summary = JSON.stringify({
      core_task: core.task,
      callbacks: core.callbacks(),
      executions_in_jobservice: executions.map((e) => `${e.job.id}:${e.job.status}`),
      hooks_core_saw: core.seen,
    });
    // Then execMgr.Delete, which refuses a task that is not final (412): the unschedule fails.
    assert.equal(CODE[core.task.status], 3, `core's SCHEDULER task is ${core.task.status} 10 s after the stop: ${summary}`);
  }
});
