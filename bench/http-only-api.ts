import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { jobTimings } from '../src/api/serve-app.js';
import { loadConfig } from '../src/config/load-config.js';
import { defaultJobRegistry } from '../src/jobs/index.js';
import { stubFacade } from './lib/stub-facade.js';

/** The REST facade with no Temporal behind it (lib/stub-facade.ts), for the bench's `http` scenario. */
const app = stubFacade(defaultJobRegistry(), jobTimings(loadConfig()), process.env.CORE_SECRET!);
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.once('SIGTERM', () => server.close());
