import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { JobStatus } from '../../src/shared/job-model.js';
import { JOB_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';
import { scheduleSearchAttributes } from '../../src/api/periodic-record.js';
import { registerSearchAttributes } from '../../src/temporal/register-search-attributes.js';
import { testTemporalAddress } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { temporalCli } from '../helpers/temporal-cli.js';

/**
 * A namespace without the job search attributes (an existing one, or a data directory from before
 * an attribute was added): every process registers them as it starts, and may use them at once.
 */
describe('registering the job search attributes', () => {
  let connection: Connection;
  let client: Client;
  const namespace = `attrs-${randomBytes(4).toString('hex')}`;
  before(async () => {
    connection = await Connection.connect({ address: testTemporalAddress() });
    temporalCli(testTemporalAddress(), 'operator', 'namespace', 'create', '--namespace', namespace);
    client = new Client({ connection, namespace });
    // A namespace takes a moment to be served after it is registered.
    await waitFor(
      () => client.workflow.count(''),
      () => true,
      { what: `namespace ${namespace} to be served` },
    );
  });
  after(async () => {
    await connection.close();
  });

  it('adds the missing ones and returns only once a schedule may carry them', async () => {
    const listed = async () => Object.keys((await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {});
    assert.ok(!(await listed()).includes('JobTaskQueue'), 'a fresh namespace has none');
    await registerSearchAttributes(client);
    const id = randomBytes(12).toString('hex');
    await client.schedule.create({
      scheduleId: id,
      spec: { intervals: [{ every: '365 days' }] },
      action: { type: 'startWorkflow', workflowType: 'ScheduledJob', workflowId: id, taskQueue: 'attrs', args: [] },
      state: { paused: true },
      typedSearchAttributes: scheduleSearchAttributes('NOOP', JobStatus.Scheduled, 'attrs'),
    });
    await client.schedule.getHandle(id).delete();
    for (const key of JOB_SEARCH_ATTRIBUTES) assert.ok((await listed()).includes(key.name), key.name);
    // Again, with nothing missing: returns at once.
    await registerSearchAttributes(client);
  });
});
