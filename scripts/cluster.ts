/**
 * `npm run cluster`: the scale-out profile on one machine — PostgreSQL, Temporal's frontend,
 * history, matching and worker services as separate processes, two job workers and two APIs.
 * Ctrl-C (or SIGTERM) stops everything it started. Options: --workers N --apis N --api-port P.
 */
import { parseArgs } from 'node:util';
import { startClusterProfile } from '../src/cluster/cluster-profile.js';
import { runUntilSignal } from '../src/process/run-until-signal.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    apis: { type: 'string', default: '2' },
    'api-port': { type: 'string', default: '8180' },
    dir: { type: 'string', default: 'data/cluster' },
  },
});
const log = (line: string) => console.log(`${new Date().toISOString()} cluster: ${line}`);
const coreSecret = process.env.CORE_SECRET ?? 'cluster-dev-secret';
const started = Date.now();
// Listening from the start: Ctrl-C or SIGTERM while the profile starts stops it once it is up,
// where Node's default death left PostgreSQL and Temporal's services running.
const stopAsked = runUntilSignal();
const profile = await startClusterProfile({
  dir: values.dir,
  workers: Number(values.workers),
  apis: Number(values.apis),
  apiPort: Number(values['api-port']),
  coreSecret,
  log,
});
log(
  `ready in ${((Date.now() - started) / 1000).toFixed(1)}s: Temporal frontend at ${profile.address}, PostgreSQL on 127.0.0.1:${profile.postgres.port}`,
);
for (const url of profile.apiUrls) log(`API: ${url}/api/v1`);
log(`logs in ${values.dir}/logs and ${values.dir}/temporal/logs; CORE_SECRET=${process.env.CORE_SECRET ? '(yours)' : coreSecret}`);
log('Ctrl-C stops everything.');
await stopAsked;
log('stopping…');
await profile.stop();
log('stopped');
