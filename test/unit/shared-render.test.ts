import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedRender } from '../../src/api/shared-render.js';

describe('a /metrics render shared by its scrapes', () => {
  it('gives concurrent callers one render, reuses it for its time, then renders again; a failure is not kept', async () => {
    let clock = 0;
    let renders = 0;
    let fail = false;
    const release: (() => void)[] = [];
    const render = sharedRender(
      () =>
        new Promise<string>((resolve, reject) => {
          renders++;
          release.push(() => (fail ? reject(new Error('temporal unreachable')) : resolve(`render ${renders}`)));
        }),
      2_000,
      () => clock,
    );
    const a = render();
    const b = render();
    assert.equal(renders, 1, 'a second scrape while the first renders waits for it');
    release.shift()!();
    assert.deepEqual(await Promise.all([a, b]), ['render 1', 'render 1']);
    clock = 1_999;
    assert.equal(await render(), 'render 1');
    clock = 2_000;
    const c = render();
    assert.equal(renders, 2);
    release.shift()!();
    assert.equal(await c, 'render 2');
    clock = 10_000;
    fail = true;
    const d = render();
    release.shift()!();
    await assert.rejects(d, /temporal unreachable/);
    fail = false;
    const e = render();
    assert.equal(renders, 4, 'the failure was not kept');
    release.shift()!();
    assert.equal(await e, 'render 4');
  });
});
