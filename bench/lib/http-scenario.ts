import { postJob } from './http-post.js';
import { paced, pool, spawnNode, stop, until } from './processes.js';
import { cpuSeconds, machineStat, ownCpuSeconds, round } from './stats.js';

/**
 * The submit's HTTP hop alone: the REST facade (bench/http-only-api.ts) with a Temporal client
 * whose start answers at once, driven by this process's client, saturated by `callers` and then
 * paced at `rate`/s. CPU per request of the API process, the client and the whole machine; the
 * machine's figure has what it spends idle meanwhile (the bench's server and API are still up)
 * taken out, measured over a window as long before the paced part.
 */
export async function httpScenario(o: { n: number; callers: number; secret: string; rate: number; seconds: number }) {
  const api = spawnNode('bench/http-only-api.ts', [], { CORE_SECRET: o.secret });
  try {
    let port = 0;
    await until(
      async () => {
        const line = api.output.join('').match(/\{"port":(\d+)\}/);
        if (line) port = Number(line[1]);
        return port > 0;
      },
      60_000,
      'the HTTP-only API',
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${api.output.join('').slice(-2000)}`);
    });
    const url = `http://127.0.0.1:${port}/api/v1/jobs`;
    const headers = { authorization: `Harbor-Secret ${o.secret}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
    const submit = async () => {
      await postJob(url, headers, body);
    };
    // JIT and connections warm before anything is counted.
    await pool(Math.min(o.n, 2000), o.callers, submit);
    const saturated = await metered(api.pid!, o.n, () => pool(o.n, o.callers, submit));
    const total = Math.max(1, Math.round(o.rate * o.seconds));
    const idleBefore = machineStat().busy;
    await new Promise((resolve) => setTimeout(resolve, o.seconds * 1000));
    const idlePerS = (machineStat().busy - idleBefore) / o.seconds;
    const atRate = await metered(api.pid!, total, () => paced(total, o.rate, submit));
    return {
      n: o.n,
      callers: o.callers,
      saturated_per_s: saturated.perS,
      saturated_api_cpu_us_per_request: saturated.apiUs,
      saturated_client_cpu_us_per_request: saturated.clientUs,
      saturated_machine_cpu_us_per_request: saturated.machineUs,
      paced_rate_per_s: round(o.rate),
      paced_api_cpu_us_per_request: atRate.apiUs,
      paced_client_cpu_us_per_request: atRate.clientUs,
      paced_machine_cpu_us_per_request: round(atRate.machineUs - (idlePerS * atRate.seconds * 1e6) / total),
      idle_machine_cpu_ms_per_s: round(idlePerS * 1000),
    };
  } finally {
    await stop(api);
  }
}

async function metered(apiPid: number, requests: number, run: () => Promise<void>) {
  const before = { api: cpuSeconds(apiPid), client: ownCpuSeconds(), machine: machineStat().busy, at: performance.now() };
  await run();
  const perRequestUs = (seconds: number) => round((seconds * 1e6) / requests);
  const seconds = (performance.now() - before.at) / 1000;
  return {
    seconds,
    perS: round(requests / seconds),
    apiUs: perRequestUs(cpuSeconds(apiPid) - before.api),
    clientUs: perRequestUs(ownCpuSeconds() - before.client),
    machineUs: perRequestUs(machineStat().busy - before.machine),
  };
}
