import { maskUrlPasswords } from '../redact-url';

/**
 * What one conditional GET found. `unchanged` is a 304 to the remembered
 * ETag; `aborted` means the source was closed mid-request and has nothing
 * to report. A `too-large` failure carries the size as words (`2048`, or
 * `more than 1024` when the body was cut off while streaming) and the URL
 * the body came from after redirects, so each source can word its own
 * refusal.
 */
export type FetchOutcome =
  | { kind: 'unchanged' }
  | { kind: 'aborted' }
  | { kind: 'body'; bytes: Buffer; etag?: string }
  | { kind: 'failed'; rule: 'http-status' | 'timeout' | 'fetch-failed'; message: string }
  | { kind: 'failed'; rule: 'too-large'; message: string; size: string; url: string };

export interface ConditionalFetchOptions {
  url: string;
  /** Bound for one request, headers and body; default 30 s. */
  timeoutMs?: number;
  maxBytes: number;
  /** Request headers, `accept` included; `if-none-match` is added from the remembered ETag. */
  headers: Record<string, string>;
}

/**
 * A GET that sends the ETag of the last body its owner accepted, so an
 * unchanged resource costs one small 304 round trip. The owner decides when
 * an ETag is worth remembering (a catalog only once its bundle decoded, a
 * policy for any body handed over whole): a body that was refused must be
 * fetched again in full.
 */
export class ConditionalFetch {
  private readonly aborter = new AbortController();
  private etag: string | undefined;

  constructor(private readonly options: ConditionalFetchOptions) {}

  remember(etag: string | undefined): void {
    this.etag = etag;
  }

  /** Aborts a request in flight; every later `get()` answers `aborted`. */
  abort(): void {
    this.aborter.abort();
  }

  async get(): Promise<FetchOutcome> {
    const { url, maxBytes } = this.options;
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const signal = AbortSignal.any([this.aborter.signal, AbortSignal.timeout(timeoutMs)]);
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.etag !== undefined) headers['if-none-match'] = this.etag;
    try {
      const res = await fetch(url, { headers, signal, redirect: 'follow' });
      if (res.status === 304) {
        await res.body?.cancel();
        return { kind: 'unchanged' };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return { kind: 'failed', rule: 'http-status', message: maskUrlPasswords(`${url} answered ${res.status} ${res.statusText}`) };
      }
      const body = await readCapped(res, maxBytes);
      if (!body.ok) return { kind: 'failed', rule: 'too-large', message: maskUrlPasswords(`${res.url} sent ${body.size} bytes, more than the limit of ${maxBytes}`), size: body.size, url: maskUrlPasswords(res.url) };
      return { kind: 'body', bytes: body.bytes, etag: res.headers.get('etag') ?? undefined };
    } catch (err) {
      if (this.aborter.signal.aborted) return { kind: 'aborted' };
      const e = err as Error;
      if (e.name === 'TimeoutError') return { kind: 'failed', rule: 'timeout', message: maskUrlPasswords(`${url} did not answer within ${timeoutMs} ms`) };
      const cause = (e.cause as Error | undefined)?.message;
      return { kind: 'failed', rule: 'fetch-failed', message: maskUrlPasswords(`cannot fetch ${url}: ${cause ?? e.message}`) };
    }
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<{ ok: true; bytes: Buffer } | { ok: false; size: string }> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    return { ok: false, size: String(declared) };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body) {
    // Counted as it streams: a server may send no Content-Length, or lie in it.
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        return { ok: false, size: `more than ${maxBytes}` };
      }
      chunks.push(Buffer.from(value));
    }
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}
