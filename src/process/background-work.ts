/**
 * Work a process starts and answers without waiting for: the sweep of stopped periodic jobs after
 * a stop, the deletion of an execution once it has closed, the refresh of schedules as the API
 * starts, a request whose client a closing API has cut. Whoever owns the Temporal connection
 * closes this first: it asks the work to end at its next step and waits for it. A call still
 * going when its connection closes may be retried by the client's gRPC retry timer after the
 * close, which throws where nothing catches it (an `uncaughtException` that ends the process).
 */
export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();
  private readonly controller = new AbortController();

  /** Aborted once `close()` is called: background work checks it between its steps. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** How many tasks are still going. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Runs `task` without waiting for it; its failure goes to `onError` (best-effort work has no one
   * to answer to). Refused, with nothing run, once closed. Returns whether it ran.
   */
  run(task: (signal: AbortSignal) => Promise<unknown>, onError: (err: unknown) => void = () => undefined): boolean {
    if (this.controller.signal.aborted) return false;
    const settled: Promise<void> = Promise.resolve()
      .then(() => task(this.controller.signal))
      .then(
        () => undefined,
        (err: unknown) => onError(err),
      )
      .finally(() => this.pending.delete(settled));
    this.pending.add(settled);
    return true;
  }

  /** Counts `work` someone else awaits (a request's handler) as a task until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    );
    const tracked = settled.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return work;
  }

  /** Settles once no task is left. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Asks every task to end, refuses new ones, and waits until none is left. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.idle();
  }
}
