import { readFileSync, readdirSync } from 'node:fs';

/** Nearest-rank percentile of a sample (p in 0..1). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

/** The median: the middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
  const { user, system } = procStat(pid);
  return user + system;
}

/**
 * The fields of /proc/<pid>/stat after the command's closing parenthesis, from the third (state)
 * on: `[n]` is field n + 3 (minflt 10th, utime and stime 14th and 15th, starttime 22nd).
 */
export function procStatFields(pid: number): string[] {
  return statFields(`/proc/${pid}/stat`);
}

/** The same fields of any such file (a process's, or a thread's `/proc/<pid>/task/<tid>/stat`). */
function statFields(file: string): string[] {
  const stat = readFileSync(file, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's CPU seconds (user, system) and minor page faults so far, from /proc/<pid>/stat. */
function procStat(pid: number): { user: number; system: number; minorFaults: number } {
  const fields = procStatFields(pid);
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100, minorFaults: Number(fields[7]) };
}

/**
 * This process's CPU seconds so far by thread name (/proc/self/task/<tid>/comm), threads of one
 * name summed: which thread a variant's CPU lands on. Node names its event loop, worker threads,
 * V8's helpers and libuv's pool all `node`: the event loop is `main`, the rest `node`. Threads that
 * ended are not counted.
 */
export function ownThreadCpuSeconds(): Record<string, number> {
  const byName: Record<string, number> = {};
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const name = Number(tid) === process.pid ? 'main' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const fields = statFields(`/proc/self/task/${tid}/stat`);
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

/** This process's CPU seconds so far (user and system). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** The whole machine's busy CPU seconds so far (every CPU, all but idle, iowait and steal) and softirq's share, from /proc/stat. */
export function machineStat(): { busy: number; softirq: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …, in clock ticks of 1/100 s; steal is other
  // guests' time on the host, not this machine's work.
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return { busy: (user + nice + system + irq + softirq) / 100, softirq: softirq / 100 };
}

/**
 * CPU spent per job by each process from now on: the server, the process running the jobs (the
 * API + worker, or a raw worker) and the bench itself, which drives the submits. Where a burst's
 * CPU goes is what separates one variant from another on a machine of two cores.
 */
export function cpuMeter(server: number, app: number) {
  const start = { server: procStat(server), app: cpuSeconds(app), bench: ownCpuSeconds(), machine: machineStat() };
  return (jobs: number) => {
    const now = procStat(server);
    const machine = machineStat();
    return {
      // Everything the machine did meanwhile, whoever it is charged to: network softirqs on loopback
      // are charged to whichever process the CPU was running, so per-process figures blur an HTTP hop.
      machine_cpu_ms_per_job: round(((machine.busy - start.machine.busy) * 1000) / jobs, 2),
      machine_softirq_ms_per_job: round(((machine.softirq - start.machine.softirq) * 1000) / jobs, 2),
      server_cpu_ms_per_job: round(((now.user + now.system - start.server.user - start.server.system) * 1000) / jobs, 2),
      // The server's share in the kernel, and the fresh pages it touched: a Go heap still growing
      // toward its memory budget faults in (and the kernel zeroes) new pages, a grown one reuses them.
      server_sys_ms_per_job: round(((now.system - start.server.system) * 1000) / jobs, 2),
      server_page_faults_per_job: round((now.minorFaults - start.server.minorFaults) / jobs, 1),
      app_cpu_ms_per_job: round(((cpuSeconds(app) - start.app) * 1000) / jobs, 2),
      bench_cpu_ms_per_job: round(((ownCpuSeconds() - start.bench) * 1000) / jobs, 2),
    };
  };
}
