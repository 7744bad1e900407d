import { connect, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 keep-alive client for load benchmarks: one request at a time per connection,
 * the request written as one buffer, the response read by Content-Length. It costs the machine
 * about a quarter of what a general-purpose client (undici) does per request — on a two-core
 * machine that CPU would otherwise be missing from the service being measured. It is not a
 * general client: no chunked responses, no redirects, no TLS.
 */
export interface LoadConnection {
  /** Sends one request and resolves with the response status and body. */
  send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<LoadResponse>;
  close(): void;
}

export interface LoadResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Status and Content-Length of a response head, or an error naming what this client cannot read. */
const parseHead = (head: string): { status: number; length: number } => {
  const status = Number(head.slice(9, 12));
  if (!head.startsWith('HTTP/1.1 ') || !Number.isInteger(status))
    throw new Error(`not an HTTP/1.1 response: ${head.slice(0, 40)}`);
  const match = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (!match)
    throw new Error('the response has no Content-Length (chunked responses are not supported by the load client)');
  return { status, length: Number(match[1]) };
};

export const openLoadConnection = (host: string, port: number): Promise<LoadConnection> =>
  new Promise((resolveOpen, rejectOpen) => {
    const socket: Socket = connect({ host, port, noDelay: true });
    let buffered: Buffer = Buffer.alloc(0);
    let pending: { resolve: (response: LoadResponse) => void; reject: (error: Error) => void } | undefined;
    let head: { status: number; length: number; bodyStart: number } | undefined;

    const fail = (error: Error) => {
      const waiting = pending;
      pending = undefined;
      waiting?.reject(error);
    };
    socket.once('connect', () => {
      socket.off('error', rejectOpen);
      socket.on('error', fail);
      resolveOpen({ send, close: () => socket.destroy() });
    });
    socket.once('error', rejectOpen);
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!head) {
        const end = buffered.indexOf(HEADER_END);
        if (end < 0) return;
        try {
          head = { ...parseHead(buffered.toString('latin1', 0, end)), bodyStart: end + HEADER_END.length };
        } catch (error) {
          socket.destroy();
          fail(error as Error);
          return;
        }
      }
      const bodyEnd = head.bodyStart + head.length;
      if (buffered.length < bodyEnd) return;
      const response = { status: head.status, body: buffered.subarray(head.bodyStart, bodyEnd) };
      buffered = buffered.subarray(bodyEnd);
      head = undefined;
      const waiting = pending;
      pending = undefined;
      waiting?.resolve(response);
    });

    const send: LoadConnection['send'] = (method, path, headers, body) =>
      new Promise((resolve, reject) => {
        if (pending) {
          reject(new Error('one request at a time per connection'));
          return;
        }
        pending = { resolve, reject };
        let text = `${method} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n`;
        for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
        if (body !== undefined) text += `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
        else text += '\r\n';
        socket.write(text);
      });
  });
