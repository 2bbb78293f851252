import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/process/free-port.js';
import { exited } from '../helpers/worker-process.js';
import { waitFor } from '../helpers/wait-for.js';

describe('Ctrl-C on npm start (SIGINT to the terminal’s foreground process group)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'npm-start-ctrl-c-'));
  let child: ChildProcess | undefined;
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    if (child) await exited(child);
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops the embedded server last, without restarting it, and exits though a job ignores its stop', async () => {
    const [port, temporalPort] = [await freePort(), await freePort()];
    const configPath = join(dir, 'start.yaml');
    const secret = 'npm-start-ctrl-c-secret-0123456789';
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        core_secret: secret,
        job_loggers: [{ name: 'FILE', settings: { base_dir: join(dir, 'logs') } }],
        loggers: [{ name: 'STD_OUTPUT', level: 'INFO' }],
        job: { sealing_keys: ['npm-start-ctrl-c-sealing-key-0123'] },
        temporal: { dev_server: { port: temporalPort, ui_port: await freePort(), db_file: join(dir, 'temporal.db') } },
      }),
    );
    const { TEMPORAL_ADDRESS: _address, ...env } = process.env;
    // A process group of its own, as a shell gives `npm start` in a terminal.
    child = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...env, JOB_SERVICE_CONFIG: configPath, TEMPORAL_CLI: process.env.TEST_TEMPORAL_CLI },
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const base = `http://127.0.0.1:${port}/api/v1`;
    const headers = { authorization: `Harbor-Secret ${secret}`, 'content-type': 'application/json' };
    await waitFor(
      () =>
        fetch(`${base}/stats`).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200 || child?.exitCode !== null,
      { timeoutMs: 120_000, what: 'npm start to answer' },
    );
    // A job that ignores its stop and would run for minutes: its timers must not keep the process up.
    const submitted = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        job: {
          name: 'DEMO',
          parameters: { image: 'demo-ctrl-c', step_ms: 0, hold_ms: 300_000, ignore_stop: true },
          metadata: { kind: 'Generic' },
        },
      }),
    });
    assert.equal(submitted.status, 202);
    const { id } = ((await submitted.json()) as { job: { id: string } }).job;
    await waitFor(
      async () => ((await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { job: { status: string } }).job.status,
      (status) => status === 'Running',
      { what: 'the job to run' },
    );
    const sentAt = Date.now();
    process.kill(-child.pid!, 'SIGINT');
    // The worker gives runs 5 s, cancels them and lets go of them 10 s later.
    const gone = await Promise.race([exited(child).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 45_000))]);
    assert.ok(gone, `npm start still runs ${Math.round((Date.now() - sentAt) / 1000)} s after Ctrl-C:\n${output}`);
    assert.equal(child.exitCode, 0, output);
    assert.doesNotMatch(output, /restarting it on/, 'the supervisor restarted the server during the shutdown');
    assert.match(output, /stopping…/);
  });

  it('a SIGKILL of npm start (a process manager’s) takes the embedded server with it, though it runs in a group of its own', async () => {
    const [port, temporalPort] = [await freePort(), await freePort()];
    const configPath = join(dir, 'start-kill.yaml');
    const dbFile = join(dir, 'kill', 'temporal.db');
    writeFileSync(
      configPath,
      JSON.stringify({
        port,
        core_secret: 'npm-start-kill-secret-0123456789',
        job_loggers: [{ name: 'FILE', settings: { base_dir: join(dir, 'kill-logs') } }],
        loggers: [{ name: 'STD_OUTPUT', level: 'ERROR' }],
        job: { sealing_keys: ['npm-start-kill-sealing-key-0123'] },
        temporal: { dev_server: { port: temporalPort, ui_port: await freePort(), db_file: dbFile } },
      }),
    );
    const { TEMPORAL_ADDRESS: _address, ...env } = process.env;
    const killed = spawn(process.execPath, ['--import', 'tsx', 'src/start.ts'], {
      stdio: 'ignore',
      detached: true,
      env: { ...env, JOB_SERVICE_CONFIG: configPath, TEMPORAL_CLI: process.env.TEST_TEMPORAL_CLI },
    });
    try {
      await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/api/v1/stats`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200 || killed.exitCode !== null,
        { timeoutMs: 120_000, what: 'npm start to answer' },
      );
      const { pid: serverPid } = JSON.parse(readFileSync(`${dbFile}.server-pid`, 'utf8')) as { pid: number };
      assert.ok(alive(serverPid), 'the server runs');
      // Its own process group (out of the Ctrl-C's reach), in npm start's session (where a process
      // manager finds it, as `pgrep -s <npm start>` does).
      const [sid, pgid] = execFileSync('ps', ['-o', 'sid=,pgid=', '-p', String(serverPid)], { encoding: 'utf8' })
        .trim()
        .split(/\s+/)
        .map(Number);
      assert.equal(sid, killed.pid, 'the server is in npm start’s session');
      assert.notEqual(pgid, killed.pid, 'the server has a process group of its own');
      killed.kill('SIGKILL');
      await exited(killed);
      await waitFor(
        async () => alive(serverPid),
        (running) => !running,
        { what: 'the server to end with npm start', timeoutMs: 20_000 },
      );
    } finally {
      if (killed.exitCode === null && killed.signalCode === null) process.kill(-killed.pid!, 'SIGKILL');
    }
  });
});

/** Whether a process runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
