import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { procStatFields } from './stats.js';

/** A node child running one of our TypeScript entry points, its output kept for failure reports. */
export function spawnNode(entry: string, args: string[], env: Record<string, string>): ChildProcess & { output: string[] } {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  // Diagnostics Node refuses in NODE_OPTIONS (--trace-gc), for the children only.
  profile.push(...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean));
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  const keep = (chunk: Buffer) => {
    child.output.push(chunk.toString());
    if (child.output.length > 50) child.output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A diagnostic: each child's whole output in a file of its own (with BENCH_NODE_FLAGS=--trace-gc, its GC pauses).
  const logDir = process.env.BENCH_CHILD_LOG_DIR;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    const file = createWriteStream(join(logDir, `${basename(entry, '.ts')}-${child.pid}.log`));
    file.on('error', (err) => console.error(`BENCH_CHILD_LOG_DIR: ${err.message}`));
    // Two streams into one file: it ends when the child has closed both, not when the first ends.
    child.stdout?.pipe(file, { end: false });
    child.stderr?.pipe(file, { end: false });
    child.once('close', () => file.end());
  }
  stopOnExit(child);
  return child;
}

/** The children still running, each with its start time (for the reaper: a pid can be reused). */
const live = new Map<ChildProcess, string>();

/** A child the bench started goes down with it (see the 'exit' handler below). */
export function stopOnExit(child: ChildProcess): void {
  if (child.pid === undefined) return;
  let started = '';
  try {
    started = procStatFields(child.pid)[19] ?? ''; // starttime, in clock ticks since boot
  } catch {
    // already gone
  }
  live.set(child, started);
  child.once('exit', () => live.delete(child));
}

// As the bench exits (done, failed or killed), its children go too: SIGTERM, so an `npm start` child
// stops the dev server it started (SIGKILL would orphan it) and redis closes its file, then SIGKILL
// from a detached shell for any that has not gone 15 s later; the bench cannot wait in an 'exit' handler.
process.on('exit', () => {
  const children = [...live].filter(([child, started]) => child.pid !== undefined && started !== '');
  for (const [child] of live) child.kill('SIGTERM');
  if (children.length === 0) return;
  // Only a pid that is still the same process (same start time) is killed: it may have been reused meanwhile.
  const checks = children.map(
    ([child, started]) =>
      `[ "$(sed 's/.*) //' /proc/${child.pid}/stat 2>/dev/null | cut -d' ' -f20)" = ${started} ] && kill -9 ${child.pid}`,
  );
  spawn('sh', ['-c', `sleep 15; ${checks.join('; ')}`], { detached: true, stdio: 'ignore' }).unref();
});

export async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Poll until `check` holds or the deadline passes. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Run `task` for indices 0..n-1 open loop: one every 1/rate s, whatever the answers; resolves when
 * all have, and rejects with the first failure (never as an unhandled rejection before that).
 */
export async function paced(n: number, rate: number, task: (i: number) => Promise<void>): Promise<void> {
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sent = task(i);
    sent.catch(() => undefined);
    inFlight.push(sent);
  }
  await Promise.all(inFlight);
}

/** Run `task` for indices 0..n-1 with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}
