import { Agent, request } from 'node:http';

/**
 * The load generator's POST: node:http on kept-alive sockets. The bench shares two cores with the
 * server and the API it measures, and undici's fetch cost it about 1.7 ms of CPU per submit
 * (the API's own handling is about as much), so a heavy client would count against the API.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string; serverTiming?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const timing = res.headers['server-timing'];
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          ...(typeof timing === 'string' ? { serverTiming: timing } : {}),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Submit a job body; its id, or an error naming the answer. */
export async function postJob(url: string, headers: Record<string, string>, body: string): Promise<string> {
  return (await postJobTimed(url, headers, body)).id;
}

/** The same, with the submit's time inside the API (its Server-Timing `submit;dur=`), if it said. */
export async function postJobTimed(url: string, headers: Record<string, string>, body: string): Promise<{ id: string; apiMs?: number }> {
  const { status, text, serverTiming } = await postJson(url, headers, body);
  if (status !== 202) throw new Error(`submit answered ${status}: ${text}`);
  const dur = serverTiming?.match(/submit;dur=([\d.]+)/)?.[1];
  return { id: (JSON.parse(text) as { job: { id: string } }).job.id, ...(dur ? { apiMs: Number(dur) } : {}) };
}
