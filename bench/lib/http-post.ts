import { connect, type Socket } from 'node:net';

/**
 * The load generator's POST: HTTP/1.1 written straight to kept-alive TCP sockets, as wrk and
 * autocannon do. The bench shares two cores with the server and the API it measures, so the
 * client's own CPU counts against the API: undici's fetch cost about 1.7 ms per submit and
 * node:http's client about 0.8 ms, as much as the API's own HTTP handling.
 */
interface Answer {
  status: number;
  text: string;
  serverTiming?: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** One kept-alive connection: one request at a time, its answer parsed as it arrives. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | undefined;
  closed = false;
  /** Whether any of the current request's answer arrived. */
  heardBack = false;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.heardBack = true;
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.parse();
    });
    const fail = (err: Error) => {
      this.closed = true;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the API closed the connection before it answered')));
  }

  /** Idle connections must not keep the bench's process alive. */
  idle(isIdle: boolean): void {
    if (isIdle) this.socket.unref();
    else this.socket.ref();
  }

  send(request: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.heardBack = false;
      this.socket.write(request);
    });
  }

  private parse(): void {
    if (!this.pending) return;
    const end = this.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]?.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const bodyStart = end + HEADER_END.length;
    let body: Buffer;
    let rest: Buffer;
    if (headers.get('transfer-encoding')?.includes('chunked')) {
      const decoded = dechunk(this.buffer.subarray(bodyStart));
      if (!decoded) return;
      [body, rest] = decoded;
    } else {
      const length = Number(headers.get('content-length') ?? 0);
      if (this.buffer.length < bodyStart + length) return;
      body = this.buffer.subarray(bodyStart, bodyStart + length);
      rest = this.buffer.subarray(bodyStart + length);
    }
    this.buffer = rest;
    if (headers.get('connection')?.toLowerCase() === 'close') {
      this.closed = true;
      this.socket.end();
    }
    const pending = this.pending;
    this.pending = undefined;
    const timing = headers.get('server-timing');
    pending.resolve({ status, text: body.toString('utf8'), ...(timing !== undefined ? { serverTiming: timing } : {}) });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** A chunked body and what follows it, or undefined while it is incomplete. */
function dechunk(data: Buffer): [Buffer, Buffer] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (size === 0) {
      const trailerEnd = data.indexOf(HEADER_END, lineEnd);
      if (trailerEnd < 0 && data.length < lineEnd + 4) return undefined;
      const after = trailerEnd < 0 ? lineEnd + 4 : trailerEnd + 4;
      return [Buffer.concat(parts), data.subarray(after)];
    }
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Idle connections per host:port. */
const idle = new Map<string, Connection[]>();

function open(host: string, port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.off('error', reject);
      resolve(new Connection(socket));
    });
    socket.once('error', reject);
  });
}

export async function postJson(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const target = new URL(url);
  const key = target.host;
  const payload = Buffer.from(body, 'utf8');
  let head = `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += `content-length: ${payload.length}\r\n\r\n`;
  const request = Buffer.concat([Buffer.from(head, 'latin1'), payload]);
  const pool = idle.get(key) ?? [];
  idle.set(key, pool);
  let reused = pool.pop();
  while (reused?.closed) reused = pool.pop();
  for (let attempt = 0; ; attempt++) {
    const connection = (attempt === 0 ? reused : undefined) ?? (await open(target.hostname, Number(target.port || 80)));
    connection.idle(false);
    try {
      const answer = await connection.send(request);
      if (!connection.closed) {
        connection.idle(true);
        pool.push(connection);
      }
      return answer;
    } catch (err) {
      connection.destroy();
      // A kept-alive connection the API closed as it was reused never carried the request: once more, on a new one.
      if (attempt > 0 || connection !== reused || connection.heardBack) throw err;
    }
  }
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
