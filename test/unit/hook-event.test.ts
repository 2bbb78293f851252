import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hookEvent } from '../../src/shared/hook-event.js';

const base = {
  status: 'Running',
  name: 'NOOP',
  kind: 'Scheduled',
  unique: false,
  ref_link: '',
  enqueue_time: 1,
  update_time: 1,
  parameters: {},
  revision: 1,
} as const;

describe('status hook events', () => {
  it('builds Harbor hook events: execution ids in the <id>@<epoch> form, check-in only when given', () => {
    const execution = hookEvent({ ...base, id: '0123456789abcdef01234567-2026-11-23T10:00:05Z' }, '50%');
    assert.equal(execution.job_id, `0123456789abcdef01234567@${Date.parse('2026-11-23T10:00:05Z') / 1000}`);
    assert.equal(execution.check_in, '50%');
    // One id form per payload: the stats in metadata name the execution as job_id does.
    assert.equal(execution.metadata.id, execution.job_id);
    assert.equal(execution.metadata.ref_link, `/api/v1/jobs/${execution.job_id}`);
    const plain = hookEvent({ ...base, id: '0123456789abcdef01234567', status: 'Success' });
    assert.equal(plain.job_id, '0123456789abcdef01234567');
    assert.equal(plain.status, 'Success');
    assert.ok(!('check_in' in plain));
  });

  it('leaves out of metadata what grows with a fan-out (results, sub jobs, executions): GET has them', () => {
    const fanOut = hookEvent({
      ...base,
      id: '0123456789abcdef01234567',
      status: 'Success',
      name: 'RETENTION',
      kind: 'Generic',
      results: { 'proj/app': { job_id: 'fedcba9876543210fedcba98', status: 'Success' } },
      sub_jobs: ['fedcba9876543210fedcba98'],
      executions: ['fedcba9876543210fedcba98'],
      multiple_executions: true,
    } as Parameters<typeof hookEvent>[0]);
    assert.deepEqual(
      ['results', 'sub_jobs', 'executions'].filter((key) => key in fanOut.metadata),
      [],
    );
    assert.equal(fanOut.metadata.multiple_executions, true);
    assert.equal(fanOut.metadata.revision, 1);
  });

  it("keeps StatsInfo's web_hook_url in metadata, without GET's copy of it under the seed README's hook_status", () => {
    const event = hookEvent({
      ...base,
      id: '0123456789abcdef01234567',
      status: 'Running',
      web_hook_url: 'http://h/',
      hook_status: 'http://h/',
    });
    assert.equal(event.metadata.web_hook_url, 'http://h/');
    assert.ok(!('hook_status' in event.metadata));
  });
});
