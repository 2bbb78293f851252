import { connect, isIP, type Socket } from 'node:net';

/** RFC 1928's reply codes, for an error that says why. */
const REPLIES: Record<number, string> = {
  1: 'general failure',
  2: 'not allowed by its rules',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Whether a proxy URL names a SOCKS5 proxy, which Go's transport (Harbor's) takes as `socks5://`. */
export function isSocks5(proxy: URL): boolean {
  return proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:';
}

/**
 * A TCP connection to `host:port` through a SOCKS5 proxy (RFC 1928, CONNECT), as Go's transport
 * makes one for a `socks5://` proxy: a name goes to the proxy to resolve, and the proxy URL's
 * user and password, if any, as RFC 1929 asks.
 */
export function socks5Connect(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  const user = Buffer.from(decodeURIComponent(proxy.username));
  const password = Buffer.from(decodeURIComponent(proxy.password));
  const withCredentials = user.length > 0 || password.length > 0;
  const where = `the SOCKS5 proxy ${proxy.host}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(proxy.port || 1080), proxy.hostname.replace(/^\[(.*)\]$/, '$1'));
    let received = Buffer.alloc(0);
    let step: 'method' | 'credentials' | 'connect' = 'method';
    const cleanup = () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData).off('error', fail).off('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const onClose = () => fail(new Error(`${where} closed the connection`));
    const requestConnect = () => {
      step = 'connect';
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16BE(port);
      socket.write(Buffer.concat([Buffer.from([5, 1, 0]), addressBytes(host), portBytes]));
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (step === 'method') {
        if (received.length < 2) return;
        const method = received[1];
        received = received.subarray(2);
        if (method === 0) requestConnect();
        else if (method === 2 && withCredentials) {
          step = 'credentials';
          socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([password.length]), password]));
        } else return fail(new Error(`${where} takes none of the authentication methods offered`));
      }
      if (step === 'credentials') {
        if (received.length < 2) return;
        if (received[1] !== 0) return fail(new Error(`${where} refused the user and password of its URL`));
        received = received.subarray(2);
        requestConnect();
      }
      if (step === 'connect') {
        if (received.length < 5) return;
        const type = received[3];
        const length = type === 1 ? 4 : type === 4 ? 16 : type === 3 ? 1 + received[4]! : -1;
        if (received[1] !== 0)
          return fail(new Error(`${where} answered "${REPLIES[received[1]!] ?? `code ${received[1]}`}" to CONNECT ${host}:${port}`));
        if (length < 0) return fail(new Error(`${where} answered an address of unknown type ${type}`));
        if (received.length < 4 + length + 2) return;
        const rest = received.subarray(4 + length + 2);
        cleanup();
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData).once('error', fail).once('close', onClose);
    socket.once('connect', () => socket.write(Buffer.from(withCredentials ? [5, 2, 0, 2] : [5, 1, 0])));
  });
}

/** The destination as RFC 1928 writes it: IPv4, IPv6, or a name for the proxy to resolve. */
function addressBytes(host: string): Buffer {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 4) return Buffer.from([1, ...bare.split('.').map(Number)]);
  if (isIP(bare) === 6) return Buffer.concat([Buffer.from([4]), ipv6Bytes(bare)]);
  const name = Buffer.from(bare);
  if (name.length > 255) throw new Error(`host name ${bare} is too long for SOCKS5`);
  return Buffer.concat([Buffer.from([3, name.length]), name]);
}

function ipv6Bytes(address: string): Buffer {
  // An embedded IPv4 tail (::ffff:1.2.3.4) as its two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = v4
    ? address.slice(0, v4.index) + `${((+v4[1]! << 8) | +v4[2]!).toString(16)}:${((+v4[3]! << 8) | +v4[4]!).toString(16)}`
    : address;
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
