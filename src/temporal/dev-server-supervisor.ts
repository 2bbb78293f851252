import { startDevServer, temporalAnswers, type DevServer, type DevServerOptions } from './dev-server.js';

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Restarts allowed within `windowMs` before the supervisor gives up. @defaultValue 5 */
  maxRestarts?: number;
  /** @defaultValue 10 minutes */
  windowMs?: number;
  /** First backoff, doubled per restart in the window up to `maxBackoffMs`. @defaultValue 1 s */
  initialBackoffMs?: number;
  /** @defaultValue 30 s */
  maxBackoffMs?: number;
  /** How often the running server is asked whether it answers. @defaultValue 10 s */
  probeEveryMs?: number;
  /** Probes in a row it leaves unanswered (5 s each) before it is killed and restarted. @defaultValue 3 */
  unansweredProbes?: number;
}

const PROBE_TIMEOUT_MS = 5000;

export interface SupervisedDevServer {
  address: string;
  uiUrl?: string;
  /** Restarts so far. */
  restarts(): number;
  /** The server process running now (a test kills it). */
  current(): DevServer;
  /** Rejects when the server keeps dying: `npm start` exits non-zero then, for a process manager to take over. */
  gaveUp: Promise<never>;
  stop(): Promise<void>;
}

/**
 * The embedded server, kept alive: when it dies, it is started again on the same port and SQLite
 * file (every accepted job is in that file), with backoff. Workers and clients reconnect on their
 * own; the API answers 503 with Retry-After meanwhile. A server that keeps dying (a corrupt file,
 * a full disk) is given up on after `maxRestarts` in `windowMs`, so a human or supervisor sees it.
 */
export async function superviseDevServer(options: DevServerOptions, supervisor: SupervisorOptions): Promise<SupervisedDevServer> {
  const { log } = supervisor;
  const maxRestarts = supervisor.maxRestarts ?? 5;
  const windowMs = supervisor.windowMs ?? 10 * 60_000;
  const initialBackoffMs = supervisor.initialBackoffMs ?? 1000;
  const maxBackoffMs = supervisor.maxBackoffMs ?? 30_000;

  let server = await startDevServer(options);
  let stopping = false;
  let restarts = 0;
  const recent: number[] = [];
  let giveUp: (err: Error) => void = () => undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    giveUp = reject;
  });
  // Nobody may be listening yet; the rejection is still seen by whoever awaits it later.
  gaveUp.catch(() => undefined);

  let restarting: Promise<void> | undefined;
  let backoffTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeBackoff: (() => void) | undefined;

  const onDeath = (code: number | null, signal: NodeJS.Signals | null) => {
    if (stopping) return;
    log(`Temporal dev server exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting it on ${options.dbFile ?? 'memory'}`);
    restarting = restart().finally(() => {
      restarting = undefined;
    });
  };
  const watch = (current: DevServer) => {
    // It may have died between its last health check and now.
    if (current.process.exitCode !== null || current.process.signalCode !== null) {
      onDeath(current.process.exitCode, current.process.signalCode);
      return;
    }
    current.process.once('exit', onDeath);
  };

  const restart = async (): Promise<void> => {
    for (;;) {
      const now = Date.now();
      while (recent.length > 0 && recent[0]! < now - windowMs) recent.shift();
      if (recent.length >= maxRestarts) {
        giveUp(
          new Error(
            `the Temporal dev server keeps dying (${recent.length} restarts in the last ${Math.round(windowMs / 1000)} s); giving up`,
          ),
        );
        return;
      }
      const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** recent.length);
      recent.push(now);
      await new Promise<void>((resolve) => {
        wakeBackoff = resolve;
        backoffTimer = setTimeout(resolve, backoff);
      });
      if (stopping) return;
      try {
        const started = await startDevServer(options);
        // stop() came while it started: it must not outlive the supervisor.
        if (stopping) {
          await started.stop();
          return;
        }
        server = started;
        restarts += 1;
        log(`Temporal dev server is back at ${server.address} (restart ${restarts})`);
        watch(server);
        return;
      } catch (err) {
        // The server's last lines say why (a corrupt file, a port taken): the first line alone does not.
        const lines = (err as Error).message.split('\n').filter((l) => l.trim());
        log(`Temporal dev server did not come back: ${[lines[0], ...lines.slice(1).slice(-5)].join('\n  ')}`);
      }
    }
  };

  watch(server);
  // A server that runs but answers nothing (frozen: SIGSTOP, a deadlock) is as down for every
  // client as a dead one, and never exits: after a few probes in a row without an answer it is
  // killed, and restarted as a dead one is.
  const probeEveryMs = supervisor.probeEveryMs ?? 10_000;
  const unansweredProbes = supervisor.unansweredProbes ?? 3;
  let unanswered = 0;
  let probing = false;
  const probe = setInterval(() => {
    if (stopping || restarting || probing) return;
    probing = true;
    const current = server;
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), PROBE_TIMEOUT_MS).unref());
    void Promise.race([temporalAnswers(current.address), timedOut])
      .then((answered) => {
        if (stopping || current !== server) return;
        unanswered = answered ? 0 : unanswered + 1;
        if (unanswered < unansweredProbes) return;
        unanswered = 0;
        log(`Temporal dev server has not answered for ${Math.round((unansweredProbes * probeEveryMs) / 1000)} s; killing it to restart it`);
        current.process.kill('SIGKILL');
      })
      .finally(() => {
        probing = false;
      });
  }, probeEveryMs);
  probe.unref();
  const supervised: SupervisedDevServer = {
    address: server.address,
    restarts: () => restarts,
    current: () => server,
    gaveUp,
    async stop() {
      stopping = true;
      clearInterval(probe);
      clearTimeout(backoffTimer);
      wakeBackoff?.();
      await restarting;
      await server.stop();
    },
  };
  if (server.uiUrl) supervised.uiUrl = server.uiUrl;
  return supervised;
}
