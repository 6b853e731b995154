// The mechanism the catalog and policy URL sources share: the URL check, a
// conditional GET that remembers only the ETag its owner hands it, a body
// capped while it streams, and a poll loop that never overlaps itself.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import { ConditionalFetch, type FetchOutcome } from '../../../lib/sources/conditional-fetch';
import { checkHttpUrl } from '../../../lib/sources/http-url';
import { PollLoop } from '../../../lib/sources/poll-loop';

describe('checkHttpUrl', () => {
  const cases: Array<[string, string | undefined]> = [
    ['https://hq.example/cdm.json', undefined],
    [' http://127.0.0.1:8080/p ', undefined],
    ['file:///etc/passwd', 'a thing URL must be http or https, got file:'],
    ['data:,x', 'a thing URL must be http or https, got data:'],
    ['not a url', '"not a url" is not a URL'],
  ];
  for (const [text, message] of cases) {
    it(`${JSON.stringify(text)} -> ${message ?? 'accepted'}`, () => {
      const checked = checkHttpUrl(text, 'thing');
      if (message === undefined) assert.equal(checked.ok, true);
      else assert.deepEqual(checked, { ok: false, reason: { path: 'url', rule: 'invalid-url', message } });
    });
  }
});

describe('ConditionalFetch', () => {
  let server: Server;
  let base = '';
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const seen: Array<string | undefined> = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers['if-none-match']);
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const strip = (got: FetchOutcome): unknown => (got.kind === 'body' ? { ...got, bytes: got.bytes.toString() } : got);

  it('sends the remembered ETag, and only once remembered; 304 is unchanged', async () => {
    seen.length = 0;
    handler = (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304).end();
      else res.writeHead(200, { etag: '"v1"' }).end('hello');
    };
    const fetcher = new ConditionalFetch({ url: `${base}/x`, maxBytes: 100, headers: {} });
    assert.deepEqual(strip(await fetcher.get()), { kind: 'body', bytes: 'hello', etag: '"v1"' });
    assert.deepEqual(strip(await fetcher.get()), { kind: 'body', bytes: 'hello', etag: '"v1"' });
    fetcher.remember('"v1"');
    assert.deepEqual(await fetcher.get(), { kind: 'unchanged' });
    assert.deepEqual(seen, [undefined, undefined, '"v1"']);
  });

  it('non-200, a body over the cap (declared or streamed), a timeout, an abort', async () => {
    const url = `${base}/y`;
    handler = (_req, res) => res.writeHead(503, 'Busy').end();
    assert.deepEqual(await new ConditionalFetch({ url, maxBytes: 100, headers: {} }).get(), { kind: 'failed', rule: 'http-status', message: `${url} answered 503 Busy` });

    handler = (_req, res) => res.writeHead(200, { 'content-length': '200' }).end('x'.repeat(200));
    assert.deepEqual(await new ConditionalFetch({ url, maxBytes: 100, headers: {} }).get(), { kind: 'failed', rule: 'too-large', message: `${url} sent 200 bytes, more than the limit of 100`, size: '200', url });

    handler = (_req, res) => {
      res.writeHead(200);
      res.end('x'.repeat(200));
    };
    const streamed = await new ConditionalFetch({ url, maxBytes: 100, headers: {} }).get();
    assert.equal(streamed.kind === 'failed' && streamed.rule === 'too-large' ? streamed.size : streamed.kind, 'more than 100');

    handler = () => undefined;
    assert.deepEqual(await new ConditionalFetch({ url, timeoutMs: 50, maxBytes: 100, headers: {} }).get(), { kind: 'failed', rule: 'timeout', message: `${url} did not answer within 50 ms` });

    const fetcher = new ConditionalFetch({ url, maxBytes: 100, headers: {} });
    const pending = fetcher.get();
    setTimeout(() => fetcher.abort(), 20);
    assert.deepEqual(await pending, { kind: 'aborted' });
    server.closeAllConnections();
  });

  it('an unreachable host is fetch-failed', async () => {
    const got = await new ConditionalFetch({ url: 'http://127.0.0.1:1/z', maxBytes: 100, headers: {} }).get();
    assert.equal(got.kind === 'failed' ? got.rule : got.kind, 'fetch-failed');
  });
});

describe('PollLoop', () => {
  it('runs again after each run ends, never two at once; stop waits for the run in progress', async () => {
    const loop = new PollLoop(5);
    let running = 0;
    let runs = 0;
    let overlapped = false;
    loop.start(async () => {
      running += 1;
      overlapped ||= running > 1;
      runs += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      running -= 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 80));
    await loop.stop();
    assert.equal(running, 0);
    assert.equal(overlapped, false);
    assert.ok(runs >= 2, `ran ${runs} times`);
    const runsAtStop = runs;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(runs, runsAtStop);
  });

  it('an interval of 0 runs once; a loop stopped before it starts runs at most once', async () => {
    let runs = 0;
    const once = new PollLoop(0);
    once.start(() => Promise.resolve(void (runs += 1)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(runs, 1);
    const stopped = new PollLoop(5);
    await stopped.stop();
    stopped.start(() => Promise.resolve(void (runs += 1)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(runs, 2);
  });
});
