import { readFileSync } from 'node:fs';

/** A process's /proc/<pid>/stat fields from the third (its state) on, past the command's parenthesis; undefined without one. */
export function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Whether a process runs; one that has exited and waits to be reaped (a zombie: its parent gone, PID 1 slow to reap) does not. */
export function running(pid: number): boolean {
  const fields = procStat(pid);
  if (fields) return fields[0] !== 'Z';
  // No /proc (not Linux), or no such process: ask the kernel.
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
