/**
 * `npm run chaos`: faults injected into a real running service while it works, on both profiles,
 * with a table of what every case cost. For each case: jobs accepted (202), lost (accepted but
 * never Success; must be 0), duplicated completions of a job's code (counted from its log: more
 * than one "run finished"), hooks delivered/expected, and seconds to recover.
 *
 *   npm run chaos                      every case, bursts of 1,000, the hook receiver down 10 minutes
 *   npm run chaos -- --quick           bursts of 200, receiver down 20 s
 *   npm run chaos -- --cases server-kill,api-kill --n 500
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startHookReceiver, type HookReceiver } from '../test/helpers/hook-receiver.js';
import { SECRET, startCluster, startEmbedded, type ClusterTarget, type EmbeddedTarget, type Target } from './targets.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    'hook-down-s': { type: 'string' },
    cases: { type: 'string' },
    profiles: { type: 'string', default: 'embedded,cluster' },
  },
});
const N = Number(values.n ?? (values.quick ? 200 : 1000));
const HOOK_DOWN_S = Number(values['hook-down-s'] ?? (values.quick ? 20 : 600));
const SETTLE_MS = 10 * 60_000;

interface Row {
  profile: string;
  case: string;
  accepted: number;
  lost: number;
  duplicated: number | '-';
  hooks: string;
  /** First 202 after the fault. */
  first_ok_s: number | '-';
  recovered_s: number;
  note: string;
}

// ---------------------------------------------------------------------------------------------
// Driving the service

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { Authorization: `Harbor-Secret ${SECRET}`, 'Content-Type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, json: await response.json().catch(() => undefined) };
}

interface Burst {
  accepted: string[];
  /** When the fault went in (ms). */
  faultAt: number;
  /** First 202 after the fault (ms), if any. */
  firstOkAfterFault?: number;
}

/**
 * Submits `n` NOOP jobs with 8 callers, each a caller as a client would be: a refused or failed
 * call is tried again (on the next API) until it is accepted. `fault` runs once half are accepted.
 */
async function burst(target: Target, n: number, fault: () => Promise<void>, hook?: HookReceiver): Promise<Burst> {
  const accepted: string[] = [];
  const result: Burst = { accepted, faultAt: 0 };
  let next = 0;
  let faulted: Promise<void> | undefined;
  let api = 0;
  const caller = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      for (;;) {
        const url = target.apiUrls[api++ % target.apiUrls.length]!;
        // A 202 counts as recovery only for a request sent after the fault: one in flight as it went in was answered by what the fault hit.
        const sentAt = Date.now();
        const job = { name: 'NOOP', parameters: { duration_ms: 50 }, metadata: { kind: 'Generic' } } as Record<string, unknown>;
        if (hook) job.status_hook = hook.url(`chaos-${i}`);
        const answer = await call(url, 'POST', '/jobs', { job }).catch(() => undefined);
        if (answer?.status === 202) {
          accepted.push((answer.json as { job: { id: string } }).job.id);
          if (result.faultAt && sentAt >= result.faultAt && !result.firstOkAfterFault) result.firstOkAfterFault = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      if (!faulted && accepted.length >= n / 2) {
        result.faultAt = Date.now();
        faulted = fault();
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, caller));
  await faulted;
  return result;
}

/** Waits until every accepted job is Success (or the deadline); answers the ones that never got there and when the last got there. */
async function settle(target: Target, ids: string[]): Promise<{ lost: string[]; doneAt: number }> {
  const deadline = Date.now() + SETTLE_MS;
  let open = [...ids];
  while (open.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const id of open) {
      const url = target.apiUrls[Math.floor(Math.random() * target.apiUrls.length)]!;
      const answer = await call(url, 'GET', `/jobs/${id}`).catch(() => undefined);
      const status = (answer?.json as { job?: { status?: string } } | undefined)?.job?.status;
      if (status !== 'Success') still.push(id);
    }
    open = still;
    if (open.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  return { lost: open, doneAt: Date.now() };
}

/** Completions of a job's code beyond the first, from its log. */
function duplicated(target: Target, ids: string[]): number {
  let extra = 0;
  for (const id of ids) {
    const file = join(target.jobLogDir, `${id}.log`);
    // A job that finished has a log: without it this count would be a check that cannot fail.
    if (!existsSync(file)) throw new Error(`no log for job ${id} in ${target.jobLogDir}`);
    const finished = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('run finished')).length;
    extra += Math.max(0, finished - 1);
  }
  return extra;
}

async function hooksDelivered(hook: HookReceiver, n: number, deadlineMs: number): Promise<number> {
  const deadline = Date.now() + deadlineMs;
  const count = () =>
    Array.from({ length: n }, (_, i) => hook.accepted(`chaos-${i}`)).filter((events) => events.some((e) => e.status === 'Success')).length;
  while (count() < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
  return count();
}

async function measure(
  target: Target,
  name: string,
  fault: () => Promise<void>,
  options: { hook?: HookReceiver; note?: string; hookBackAfterMs?: number } = {},
): Promise<Row> {
  console.log(`- ${target.profile}: ${name}`);
  const run = await burst(target, N, fault, options.hook);
  const { lost, doneAt } = await settle(target, run.accepted);
  // Hooks get 5 minutes from when the receiver is back (their retries back off to at most a minute).
  const hookDeadline = run.faultAt + (options.hookBackAfterMs ?? 0) + 5 * 60_000 - Date.now();
  const delivered = options.hook ? await hooksDelivered(options.hook, run.accepted.length, Math.max(0, hookDeadline)) : undefined;
  const hooks = delivered === undefined ? '-' : `${delivered}/${run.accepted.length}`;
  const backAt = run.faultAt + (options.hookBackAfterMs ?? 0);
  const hookNote = delivered === undefined ? '' : `last hook ${Math.round((Date.now() - backAt) / 1000)} s after the receiver was back`;
  const row: Row = {
    profile: target.profile,
    case: name,
    accepted: run.accepted.length,
    lost: lost.length,
    // Only jobs that finished have a log that says so; lost ones are counted above.
    duplicated: duplicated(
      target,
      run.accepted.filter((id) => !lost.includes(id)),
    ),
    first_ok_s: run.firstOkAfterFault ? Math.round((run.firstOkAfterFault - run.faultAt) / 100) / 10 : '-',
    hooks,
    recovered_s: Math.round((doneAt - run.faultAt) / 100) / 10,
    note: [options.note, hookNote].filter(Boolean).join('; '),
  };
  console.log(`  ${JSON.stringify(row)}`);
  return row;
}

function kill9(pid: number | undefined, what: string): void {
  if (!pid) throw new Error(`${what}: no process to kill`);
  process.kill(pid, 'SIGKILL');
}

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

// ---------------------------------------------------------------------------------------------
// The cases

type Case<T extends Target> = { name: string; run(target: T): Promise<Row> };

const embeddedCases: Case<EmbeddedTarget>[] = [
  {
    name: 'worker-kill',
    run: (t) =>
      measure(t, 'kill -9 a worker mid-burst, start it again', async () => {
        kill9(t.extraWorker.pid, 'extra worker');
        t.restartExtraWorker();
      }),
  },
  {
    name: 'server-kill',
    run: (t) =>
      measure(
        t,
        'kill -9 the embedded Temporal server mid-burst',
        async () => {
          const before = t.serverPid();
          kill9(before, 'embedded server');
          await until('the supervisor to restart the server', () => {
            const now = t.serverPid();
            return now !== undefined && now !== before;
          });
        },
        { note: 'npm start restarts it' },
      ),
  },
  {
    name: 'hook-down',
    run: (t) =>
      hookDown(t, () => {
        kill9(t.extraWorker.pid, 'extra worker');
        t.restartExtraWorker();
      }),
  },
  { name: 'server-sigstop', run: (t) => sigstopPastAFire(t, 'the server', () => t.serverPid()) },
];

/** The hook receiver answers 503 for HOOK_DOWN_S while `killWorker` kills and restarts a worker. */
async function hookDown(t: Target, killWorker: () => void): Promise<Row> {
  const hook = await startHookReceiver();
  try {
    hook.setDown(true);
    return await measure(
      t,
      `hook receiver down ${HOOK_DOWN_S} s, a worker killed and started again meanwhile`,
      async () => {
        killWorker();
        setTimeout(() => hook.setDown(false), HOOK_DOWN_S * 1000);
      },
      { hook, hookBackAfterMs: HOOK_DOWN_S * 1000 },
    );
  } finally {
    await hook.close();
  }
}

/** A periodic job every 5 s; `what` is frozen (SIGSTOP) for 12 s across two fires, then thawed. */
async function sigstopPastAFire(t: Target, what: string, pidOf: () => number | undefined): Promise<Row> {
  console.log(`- ${t.profile}: SIGSTOP ${what} past a schedule fire`);
  const url = t.apiUrls[0]!;
  const created = await call(url, 'POST', '/jobs', {
    job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '*/5 * * * * *' } },
  });
  const id = (created.json as { job: { id: string } }).job.id;
  const executions = async () => {
    const answer = await call(url, 'GET', `/jobs/${id}/executions?page_size=100`).catch(() => undefined);
    return ((answer?.json as { job: { id: string; status: string } }[] | undefined) ?? []).map((r) => r.job);
  };
  await until('a first fire', async () => (await executions()).length > 0, 30_000);
  const pid = pidOf()!;
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 12_000));
  process.kill(pid, 'SIGCONT');
  const thawedAt = Date.now();
  // Every nominal fire time from just before the freeze to just after it must get an execution.
  const expected: number[] = [];
  for (let at = Math.ceil((stoppedAt - 5000) / 5000) * 5000; at <= thawedAt; at += 5000) expected.push(at);
  const nominal = (e: { id: string }) => Date.parse(e.id.slice(id.length + 1));
  let seen = new Set<number>();
  const deadline = Date.now() + 90_000;
  while (expected.some((at) => !seen.has(at)) && Date.now() < deadline) {
    seen = new Set((await executions()).map(nominal));
    await new Promise((r) => setTimeout(r, 250));
  }
  const recoveredAt = Date.now();
  const missed = expected.filter((at) => !seen.has(at));
  await call(url, 'POST', `/jobs/${id}`, { action: 'stop' });
  const row: Row = {
    profile: t.profile,
    case: `SIGSTOP ${what} 12 s across schedule fires (every 5 s)`,
    accepted: expected.length,
    lost: missed.length,
    duplicated: '-',
    hooks: '-',
    first_ok_s: '-',
    recovered_s: Math.round((recoveredAt - thawedAt) / 100) / 10,
    note: `fires expected ${expected.length}, executed ${expected.length - missed.length} (catch-up window 60 s)`,
  };
  console.log(`  ${JSON.stringify(row)}`);
  return row;
}

const clusterCases: Case<ClusterTarget>[] = [
  {
    name: 'worker-kill',
    run: (t) =>
      measure(t, 'kill -9 a worker mid-burst, start it again', async () => {
        const [worker] = t.workers();
        kill9(worker!.child.pid, 'worker');
        t.cluster.restartApp(worker!);
      }),
  },
  {
    name: 'history-kill',
    run: (t) =>
      measure(t, 'kill -9 the history service mid-burst, start it again', async () => {
        kill9(t.service('history')?.pid, 'history service');
        await new Promise((r) => setTimeout(r, 2000));
        t.cluster.temporal.startService('history');
      }),
  },
  {
    name: 'api-kill',
    run: (t) =>
      measure(
        t,
        'kill -9 one of two APIs while callers keep submitting',
        async () => {
          const [api] = t.apis();
          kill9(api!.child.pid, 'api');
          // It stays down 20 s while callers find the other one, then comes back.
          await new Promise((r) => setTimeout(r, 20_000));
          t.cluster.restartApp(api!);
        },
        { note: 'callers retry on the other API' },
      ),
  },
  {
    name: 'hook-down',
    run: (t) =>
      hookDown(t, () => {
        const [worker] = t.workers();
        kill9(worker!.child.pid, 'worker');
        t.cluster.restartApp(worker!);
      }),
  },
  { name: 'server-sigstop', run: (t) => sigstopPastAFire(t, 'the history service', () => t.service('history')?.pid) },
  {
    name: 'postgres-restart',
    run: (t) =>
      measure(t, 'restart PostgreSQL mid-burst', async () => {
        await t.cluster.postgres.stop();
        await t.cluster.postgres.start();
      }),
  },
];

async function main(): Promise<void> {
  const wanted = values.cases ? new Set(values.cases.split(',')) : undefined;
  const profiles = values.profiles!.split(',');
  const rows: Row[] = [];
  const work = mkdtempSync(join(tmpdir(), 'jobservice-chaos-'));
  // The cluster's PostgreSQL runs as its own user and must reach its data directory in here.
  chmodSync(work, 0o755);
  // Ctrl-C or SIGTERM: the profile running now is stopped and the work directory removed (the
  // embedded profile's npm start runs in a process group of its own, out of reach of the signal).
  let current: Target | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the profile under test`);
    void (current?.stop() ?? Promise.resolve())
      .catch(() => undefined)
      .finally(() => {
        rmSync(work, { recursive: true, force: true });
        process.exit(130);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    /** Starts one profile, runs its wanted cases in order, and stops it whatever happens. */
    const runProfile = async <T extends Target>(start: () => Promise<T>, cases: Case<T>[]) => {
      const target = await start();
      current = target;
      try {
        for (const c of cases) if (!wanted || wanted.has(c.name)) rows.push(await c.run(target));
      } finally {
        current = undefined;
        await target.stop();
      }
    };
    if (profiles.includes('embedded')) await runProfile(() => startEmbedded(join(work, 'embedded')), embeddedCases);
    if (profiles.includes('cluster')) await runProfile(() => startCluster(join(work, 'cluster')), clusterCases);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(rows);
  const lost = rows.reduce((sum, r) => sum + r.lost, 0);
  const hooksShort = rows.filter((r) => r.hooks !== '-' && r.hooks.split('/')[0] !== r.hooks.split('/')[1]);
  console.log(JSON.stringify({ chaos: rows, n: N, hook_down_s: HOOK_DOWN_S, lost, hooks_short: hooksShort.length }));
  if (lost > 0 || hooksShort.length > 0) process.exitCode = 1;
}

function printTable(rows: Row[]): void {
  const head = ['profile', 'case', 'accepted', 'lost', 'duplicated', 'hooks', 'first_ok_s', 'recovered_s', 'note'] as const;
  const cells = rows.map((r) => head.map((k) => String(r[k])));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: readonly string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}

await main();
