/**
 * A tiny HTTP/1.1 client over node:http for the HTTP tests: raw header pairs (to compare responses
 * byte for byte), raw bodies, chunked uploads, repeated headers. Loopback only.
 */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined as Node does. */
  readonly headers: http.IncomingHttpHeaders;
  /** [name, value, name, value, …] exactly as received. */
  readonly rawHeaders: readonly string[];
  readonly body: string;
  json(): any;
}

export interface RequestOptions {
  readonly method?: string;
  /** Header values; an array sends the header several times. */
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  /** Send the body in pieces with `Transfer-Encoding: chunked` (no Content-Length). */
  readonly chunked?: boolean;
}

export function request(url: string, options: RequestOptions = {}): Promise<RawResponse> {
  const { method = 'GET', headers = {}, body, chunked = false } = options;
  return new Promise((resolve, reject) => {
    const outgoing: Record<string, string | string[]> = { ...headers };
    if (body !== undefined && !chunked) outgoing['content-length'] = String(Buffer.byteLength(body));
    const req = http.request(url, { method, headers: outgoing, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: text,
          json: () => JSON.parse(text),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) {
      req.end();
    } else if (chunked) {
      const buffer = Buffer.from(body);
      const step = 4096;
      for (let i = 0; i < buffer.length; i += step) req.write(buffer.subarray(i, i + step));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** `application/x-www-form-urlencoded` body from fields. */
export function form(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  return params.toString();
}

export const FORM = 'application/x-www-form-urlencoded';
export const JSON_TYPE = 'application/json';
