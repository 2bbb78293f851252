import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGcLine, submitsDuringGc, withGcTrace } from '../../bench/lib/server-gc.js';

const LINE =
  'gc 1 @75.023s 0%: 0.21+149+0.013 ms clock, 0.43+188/80/23+0.026 ms cpu, 1829->1829->117 MB, 1825 MB goal, 4 MB stacks, 0 MB globals, 2 P';

describe('the bench reads the dev server’s gctrace', () => {
  it('parses a collection: its window ends as the line arrives, and its assists', () => {
    const gc = parseGcLine(LINE, 100_000);
    assert.ok(gc);
    assert.equal(gc.endMs, 100_000);
    assert.ok(Math.abs(gc.startMs - (100_000 - 149.223)) < 1e-6);
    assert.equal(gc.markMs, 149);
    assert.equal(gc.assistMs, 188);
    assert.equal(gc.heapBeforeMb, 1829);
    assert.equal(gc.liveMb, 117);
    assert.equal(parseGcLine('time=2026-12-04 level=INFO msg="started"', 1), undefined);
    assert.equal(parseGcLine(`${LINE} (forced)`, 5)?.markMs, 149);
  });

  it('tells the submits in flight during a collection from the others', () => {
    const gc = parseGcLine(LINE, 10_000)!; // about 9,850 to 10,000
    const sent: [number, number][] = [
      [1_000, 5],
      [9_800, 60], // answered at 9,860: in flight as it began
      [9_900, 150], // sent during it
      [9_990, 4], // fast although during it
      [10_300, 45], // in its aftermath, while the server catches up
      [10_600, 30], // slow, but after that
      [12_000, 6],
    ];
    const r = submitsDuringGc(sent, [gc, parseGcLine(LINE, 500_000)!], 20)!;
    assert.equal(r.collections, 1, 'only collections within the submits’ window count');
    assert.equal(r.slowDuring, 3);
    assert.deepEqual(r.outside, [5, 30, 6]);
    assert.equal(r.assistMs, 188);
  });

  it('takes the window from the earliest send, whatever order the answers came in', () => {
    const gc = parseGcLine(LINE, 10_000)!;
    // The first submit sent is answered last (recorded last), during the collection.
    const r = submitsDuringGc(
      [
        [9_990, 5],
        [9_700, 400],
      ],
      [gc],
      20,
    )!;
    assert.equal(r.collections, 1);
    assert.equal(r.slowDuring, 1);
  });

  it('adds gctrace to GODEBUG without losing the operator’s other settings', () => {
    assert.equal(withGcTrace(undefined), 'gctrace=1');
    assert.equal(withGcTrace('madvdontneed=1,gctrace=2'), 'madvdontneed=1,gctrace=1');
  });
});
