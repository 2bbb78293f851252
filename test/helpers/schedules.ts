import type { Client } from '@temporalio/client';

/** Delete the schedules a test created (ones an operator or the test already deleted are fine). */
export async function deleteSchedules(client: Client, ids: Iterable<string>): Promise<void> {
  for (const id of ids) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  }
}
