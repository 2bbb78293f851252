import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of a sample (p in 0..1). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return round(kb / 1024);
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds a process has spent so far, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU spent per job by each process from now on: the server, the process running the jobs (the
 * API + worker, or a raw worker) and the bench itself, which drives the submits. Where a burst's
 * CPU goes is what separates one variant from another on a machine of two cores.
 */
export function cpuMeter(server: number, app: number) {
  const bench = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const start = { server: cpuSeconds(server), app: cpuSeconds(app), bench: bench() };
  return (jobs: number) => ({
    server_cpu_ms_per_job: round(((cpuSeconds(server) - start.server) * 1000) / jobs, 2),
    app_cpu_ms_per_job: round(((cpuSeconds(app) - start.app) * 1000) / jobs, 2),
    bench_cpu_ms_per_job: round(((bench() - start.bench) * 1000) / jobs, 2),
  });
}
