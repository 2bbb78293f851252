/**
 * Resolves on the first SIGINT or SIGTERM, so entry points can close what they opened. Call it as
 * the process starts: a signal during start-up is then a shutdown too, not Node's default death
 * (which skips the `exit` handlers that stop an embedded server). A second signal while shutting
 * down ends the process at once, its `exit` handlers still run.
 */
export function runUntilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first !== undefined) {
        console.error(`${signal} while shutting down: exiting now`);
        process.exit(130);
      }
      first = signal;
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * The end of an entry point: once it has closed what it opened, the process exits, whatever the
 * job code of an abandoned run still has pending (its timers would otherwise keep it alive, and
 * its work would go on beside the retry Temporal gives the run elsewhere).
 */
export function exitWhenDone(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
