/**
 * Raw HTTP/1.1 exchanges for the HTTP campaign: the bytes of a request go out as they are (so a
 * malformed request really is malformed), and the first response is read back, or the connection's
 * end without one, or nothing within the time limit.
 */
import * as net from 'net';

/** What came back for one request. */
export type Exchange =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'closed'; received: string }
  | { kind: 'refused'; error: string }
  | { kind: 'timeout'; received: string };

/** Sends `request` (all at once, or only its first `stallAfter` bytes) and reads the first response. */
export function exchange(port: number, request: Buffer, timeoutMs: number, stallAfter?: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let settled = false;
    const finish = (e: Exchange): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(e);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', received: data.toString('latin1').slice(0, 200) }), timeoutMs);
    socket.on('connect', () => socket.write(stallAfter === undefined ? request : request.subarray(0, stallAfter)));
    socket.on('error', (e) => (data.length === 0 ? finish({ kind: 'refused', error: e.message }) : undefined));
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const parsed = parse(data, false);
      if (parsed) finish(parsed);
    });
    socket.on('close', () => finish(parse(data, true) ?? { kind: 'closed', received: data.toString('latin1').slice(0, 200) }));
  });
}

/** The first complete response in `data`, or undefined while more is to come. */
function parse(data: Buffer, ended: boolean): Exchange | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1];
  if (!status) return ended ? { kind: 'closed', received: lines[0].slice(0, 200) } : undefined;
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const body = data.subarray(end + 4);
  if (length !== undefined && body.length < length && !ended) return undefined;
  if (length === undefined && !ended && headers['transfer-encoding'] === 'chunked' && !body.includes('0\r\n\r\n')) return undefined;
  return { kind: 'response', status: Number(status), headers, body: body.subarray(0, length ?? body.length).toString('utf8') };
}
