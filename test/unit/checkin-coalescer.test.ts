import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCheckInCoalescer } from '../../src/activities/checkin-coalescer.js';

describe('check-in coalescer', () => {
  it('sends the first at once, holds back the rest, and always sends the last, in order', async () => {
    const sent: string[] = [];
    const coalescer = createCheckInCoalescer(
      60_000,
      async (m) => void sent.push(m),
      (err) => assert.fail(String(err)),
    );
    for (let i = 1; i <= 100; i++) coalescer.push(`${i}`);
    await Promise.resolve();
    assert.deepEqual(sent, ['1']);
    await coalescer.flush();
    assert.deepEqual(sent, ['1', '100']);
  });

  it('sends everything when the interval is zero', async () => {
    const sent: string[] = [];
    const coalescer = createCheckInCoalescer(
      0,
      async (m) => void sent.push(m),
      (err) => assert.fail(String(err)),
    );
    for (const m of ['a', 'b', 'c']) coalescer.push(m);
    await coalescer.flush();
    assert.deepEqual(sent, ['a', 'b', 'c']);
  });

  it('reports a failed send and keeps going', async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const coalescer = createCheckInCoalescer(
      0,
      async (m) => {
        if (m === 'bad') throw new Error('down');
        sent.push(m);
      },
      (err) => errors.push(err),
    );
    coalescer.push('bad');
    coalescer.push('good');
    await coalescer.flush();
    assert.equal(errors.length, 1);
    assert.deepEqual(sent, ['good']);
  });

  it('flushing with nothing pending sends nothing', async () => {
    let calls = 0;
    const coalescer = createCheckInCoalescer(
      10,
      async () => void calls++,
      (err) => assert.fail(String(err)),
    );
    await coalescer.flush();
    assert.equal(calls, 0);
  });

  it('while a send is out (a slow workflow), holds only the newest: what is left at the end is one send, not a backlog', async () => {
    const sent: string[] = [];
    let release: (() => void) | undefined;
    const coalescer = createCheckInCoalescer(
      10,
      (m) =>
        new Promise<void>((resolve) => {
          sent.push(m);
          release = resolve;
        }),
      (err) => assert.fail(String(err)),
    );
    coalescer.push('1');
    // The first send hangs; a hundred intervals' worth of check-ins come meanwhile.
    for (let i = 2; i <= 100; i++) {
      coalescer.push(`${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.deepEqual(sent, ['1']);
    const flushed = coalescer.flush();
    release!();
    await new Promise((resolve) => setTimeout(resolve, 0));
    release!();
    await flushed;
    assert.deepEqual(sent, ['1', '100']);
  });
});
