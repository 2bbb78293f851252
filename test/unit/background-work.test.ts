import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BackgroundWork } from '../../src/process/background-work.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('BackgroundWork: what a process leaves going ends before its connection closes', () => {
  it('close asks every task to end and settles only once the last one has', async () => {
    const work = new BackgroundWork();
    const step = deferred();
    let sawAbort = false;
    let ended = false;
    assert.equal(
      work.run(async (signal) => {
        await step.promise;
        sawAbort = signal.aborted;
        ended = true;
      }),
      true,
    );
    assert.equal(work.size, 1);
    let closed = false;
    const closing = work.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'close settled while a task was still going');
    step.resolve();
    await closing;
    assert.equal(ended, true);
    assert.equal(sawAbort, true, 'the task saw the abort at its next step');
    assert.equal(work.size, 0);
  });

  it('a failing task goes to its error handler, never to an unhandled rejection', async () => {
    const work = new BackgroundWork();
    const errors: string[] = [];
    work.run(
      async () => {
        throw new Error('Temporal is gone');
      },
      (err) => errors.push((err as Error).message),
    );
    // Its task throwing synchronously is the same.
    work.run(
      () => {
        throw new Error('at once');
      },
      (err) => errors.push((err as Error).message),
    );
    await work.idle();
    assert.deepEqual(errors.sort(), ['Temporal is gone', 'at once']);
  });

  it('after close nothing new starts', async () => {
    const work = new BackgroundWork();
    await work.close();
    let ran = false;
    assert.equal(
      work.run(async () => {
        ran = true;
      }),
      false,
    );
    await work.idle();
    assert.equal(ran, false);
  });

  it('tracked work (a request a closing API cut) is waited for, and its outcome is the caller’s', async () => {
    const work = new BackgroundWork();
    const handler = deferred();
    const tracked = work.track(handler.promise);
    let closed = false;
    const closing = work.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false);
    handler.reject(new Error('503'));
    await assert.rejects(tracked, /503/);
    await closing;
    assert.equal(work.size, 0);
  });
});
