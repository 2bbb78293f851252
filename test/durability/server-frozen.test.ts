import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { superviseDevServer, type SupervisedDevServer } from '../../src/temporal/dev-server-supervisor.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, testConfig, testTemporalCli, type Harness } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * npm start's supervisor against a frozen (SIGSTOP) embedded server: the process exists but answers
 * nothing, the same outage for every client as a dead server, and it never exits. The supervisor
 * only watched for its exit, so it was never restarted.
 */
describe('the supervised embedded server frozen with SIGSTOP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jobservice-frozen-'));
  let supervised: SupervisedDevServer | undefined;
  let h: Harness | undefined;
  let frozenPid: number | undefined;
  after(async () => {
    if (frozenPid) {
      try {
        process.kill(frozenPid, 'SIGCONT');
      } catch {
        // Killed and restarted, as it should be.
      }
    }
    await h?.close({ keepJobs: true }).catch(() => undefined);
    await supervised?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is killed once it leaves probes unanswered, and restarted on the same file: its jobs are still there', async () => {
    const lines: string[] = [];
    supervised = await superviseDevServer(
      { cli: testTemporalCli(), ip: '127.0.0.1', port: await freePort(), dbFile: join(dir, 'temporal.db') },
      { log: (line) => lines.push(line), initialBackoffMs: 200, probeEveryMs: 1000, unansweredProbes: 3 },
    );
    h = await createHarness({ config: testConfig({ temporal: { address: supervised.address } }) });
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-frozen', step_ms: 0, hold_ms: 0 },
      metadata: { kind: 'Generic' },
    });
    await h.waitForStatus(job.id, ['Success']);

    frozenPid = supervised.current().process.pid!;
    process.kill(frozenPid, 'SIGSTOP');
    await waitFor(
      async () => supervised!.restarts(),
      (n) => n > 0,
      { timeoutMs: 45_000, intervalMs: 500, what: `the frozen server restarted; the supervisor said ${JSON.stringify(lines)}` },
    );
    assert.ok(
      lines.some((l) => /has not answered for 3 s; killing it/.test(l)),
      JSON.stringify(lines),
    );
    // The restarted server has the job, and takes new ones.
    assert.equal((await h.waitForStatus(job.id, ['Success'], 60_000)).status, 'Success');
    const next = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    assert.equal((await h.waitForStatus(next.id, ['Success'], 60_000)).status, 'Success');
  });
});
