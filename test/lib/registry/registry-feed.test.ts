import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'mocha';
import type { MessageHandler } from '../../../lib/bus/bus-client';
import { encodeEntry, registryTopic } from '../../../lib/registry/entry-format';
import { checkOnce } from '../../../lib/registry/health-check';
import { RegistryFeed } from '../../../lib/registry/registry-feed';

/** An in-process stand-in for the bus's subscription table: which filters are subscribed, and a way to deliver. */
class FilterTable {
  readonly subscribed = new Map<string, MessageHandler>();
  readonly log: string[] = [];
  subscribe(filter: string, _qos: 0 | 1 | 2, handler: MessageHandler): Promise<() => Promise<void>> {
    this.log.push(`+${filter}`);
    this.subscribed.set(filter, handler);
    return Promise.resolve(() => {
      this.log.push(`-${filter}`);
      this.subscribed.delete(filter);
      return Promise.resolve();
    });
  }
  deliver(filter: string, topic: string, payload: string): void {
    this.subscribed.get(filter)?.(topic, Buffer.from(payload), {} as never, () => () => undefined);
  }
}

describe('registry: the feed shared by the lookups of one bus', () => {
  it('one subscription per service and one to the site states, whatever the number of users; the last to leave unsubscribes', async () => {
    const bus = new FilterTable();
    const feed = new RegistryFeed(bus, { now: () => Date.now() }, {}, 0);
    const a = feed.use('pricing');
    const b = feed.use('pricing');
    const c = feed.use('stock');
    await Promise.all([a.ready, b.ready, c.ready]);
    assert.deepEqual(bus.log, ['+tectonic/health/+/state', '+tectonic/registry/pricing/#', '+tectonic/registry/stock/#']);
    const fields = { service: 'pricing', site: 'hq', instance: 'main', url: 'http://hq.example/', metadata: {}, weight: 1, ttl: 30 };
    bus.deliver('tectonic/registry/pricing/#', registryTopic('pricing', 'hq', 'main'), encodeEntry(fields, Date.now()));
    assert.deepEqual(feed.view.healthy('pricing').map((e) => e.key), ['hq/main']);
    bus.deliver('tectonic/health/+/state', 'tectonic/health/hq/state', JSON.stringify({ state: 'offline', session: 1, since: new Date().toISOString() }));
    assert.deepEqual(feed.view.healthy('pricing'), []);
    await a.release();
    await a.release();
    assert.equal(bus.subscribed.size, 3);
    await b.release();
    await c.release();
    assert.deepEqual(bus.log.slice(3).sort(), ['-tectonic/health/+/state', '-tectonic/registry/pricing/#', '-tectonic/registry/stock/#']);
    assert.ok(feed.idle);
  });

  it('a refused subscription to the site states fails `ready`, and entries are still kept (bounded by their TTL)', async () => {
    const bus = new FilterTable();
    const refusing = {
      subscribe: (filter: string, qos: 0 | 1 | 2, handler: MessageHandler) =>
        filter.startsWith('tectonic/health/') ? Promise.reject(new Error('not authorised')) : bus.subscribe(filter, qos, handler),
    };
    const feed = new RegistryFeed(refusing, { now: () => Date.now() }, {}, 0);
    const use = feed.use('pricing');
    await assert.rejects(use.ready, /not authorised/);
    const fields = { service: 'pricing', site: 'hq', instance: 'main', url: 'http://hq.example/', metadata: {}, weight: 1, ttl: 30 };
    bus.deliver('tectonic/registry/pricing/#', registryTopic('pricing', 'hq', 'main'), encodeEntry(fields, Date.now()));
    assert.deepEqual(feed.view.healthy('pricing').map((e) => e.key), ['hq/main']);
    await use.release();
  });

  it('reports malformed entries to its listeners', async () => {
    const bus = new FilterTable();
    const feed = new RegistryFeed(bus, { now: () => Date.now() }, {}, 0);
    const refused: string[] = [];
    feed.onRefusal((topic, reasons) => refused.push(`${topic} ${reasons[0]?.rule ?? ''}`));
    await feed.use('pricing').ready;
    bus.deliver('tectonic/registry/pricing/#', 'tectonic/registry/pricing/hq/main', '{"__proto__":{}}');
    assert.deepEqual(refused, ['tectonic/registry/pricing/hq/main prototype-key']);
  });
});

describe('registry: one health check GET', () => {
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end('ok');
      else if (req.url === '/slow') setTimeout(() => res.end('late'), 1_000).unref();
      else { res.statusCode = 503; res.end('down'); }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));

  it('2xx is healthy; a 503, a timeout and a refused connection are not, each with why', async () => {
    assert.deepEqual(await checkOnce(`${base}/ok`, 500), { healthy: true });
    assert.deepEqual(await checkOnce(`${base}/down`, 500), { healthy: false, why: 'HTTP 503' });
    assert.deepEqual(await checkOnce(`${base}/slow`, 100), { healthy: false, why: 'no answer within 100 ms' });
    const refused = await checkOnce('http://127.0.0.1:9/', 500);
    assert.equal(refused.healthy, false);
  });
});
