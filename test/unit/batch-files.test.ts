import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchFilePath, openBatchFile, saveBatchFile } from '../../src/jobs/batch/batch-files.js';

const ID = '0123456789abcdef01234567';

describe('batch target files', () => {
  it('a reader that has the file open (a download under way) keeps the whole file while the target saves it again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batch-files-'));
    const first = 'a'.repeat(100_000);
    await saveBatchFile(dir, ID, 'report.csv', Buffer.from(first));
    // A download holds the file open, as openBatchFile's stream does, and has read nothing yet.
    const reader = await open(batchFilePath(dir, ID, 'report.csv')!, 'r');
    try {
      await saveBatchFile(dir, ID, 'report.csv', Buffer.from('b'.repeat(10)));
      const read = (await reader.readFile()).toString();
      assert.equal(read.length, first.length, 'the download would end short');
      assert.equal(read, first);
    } finally {
      await reader.close();
    }
    // The next download gets the new file, and nothing written aside is left behind.
    const next = await openBatchFile(dir, ID, 'report.csv');
    assert.equal(Buffer.from(await new Response(next!.body).arrayBuffer()).toString(), 'b'.repeat(10));
    assert.deepEqual(readdirSync(join(dir, 'files', ID)), ['report.csv']);
  });
});
