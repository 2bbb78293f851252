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
});
