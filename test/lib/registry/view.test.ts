import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'mocha';
import { encodeEntry, registryTopic } from '../../../lib/registry/entry-format';
import { RegistryView } from '../../../lib/registry/view';
import { ManualClock } from '../../support/manual-clock';

const START = Date.parse('2026-12-07T10:00:00Z');

describe('registry: the local view', () => {
  let clock: ManualClock;
  let view: RegistryView;
  const announce = (site: string, instance: string, weight: number, options: { ttl?: number; session?: number; at?: number } = {}): void => {
    const fields = { service: 'pricing', site, instance, url: `http://${site}.example/${instance}`, metadata: {}, weight, ttl: options.ttl ?? 30, ...(options.session === undefined ? {} : { session: options.session }) };
    const parsed = view.receiveEntry(registryTopic('pricing', site, instance), encodeEntry(fields, options.at ?? clock.now()));
    assert.ok(parsed.ok);
  };
  const state = (site: string, s: 'online' | 'offline', session: number): void => {
    view.receiveSiteState(site, JSON.stringify({ state: s, session, since: new Date(clock.now()).toISOString() }));
  };
  const healthy = (): string[] => view.healthy('pricing').map((e) => e.key);

  beforeEach(() => {
    clock = new ManualClock();
    clock.time = START;
    view = new RegistryView(clock);
    view.keep('pricing');
  });

  it('lists healthy endpoints heaviest first, then by key', () => {
    announce('dr', 'main', 50);
    announce('hq', 'b', 100);
    announce('hq', 'a', 100);
    assert.deepEqual(healthy(), ['hq/a', 'hq/b', 'dr/main']);
  });

  it('ignores services it does not keep, and forgets one it stops keeping', () => {
    const fields = { service: 'billing', site: 'hq', instance: 'main', url: 'http://x.example/', metadata: {}, weight: 1, ttl: 30 };
    assert.ok(view.receiveEntry(registryTopic('billing', 'hq', 'main'), encodeEntry(fields, clock.now())).ok);
    assert.deepEqual(view.healthy('billing'), []);
    announce('hq', 'main', 1);
    view.forget('pricing');
    assert.deepEqual(view.healthy('pricing'), []);
  });

  it('an empty retained message deletes the entry', () => {
    announce('hq', 'main', 100);
    view.receiveEntry(registryTopic('pricing', 'hq', 'main'), Buffer.alloc(0));
    assert.deepEqual(healthy(), []);
  });

  it('expires an entry one TTL after it was received, by our clock; a refresh keeps it', () => {
    announce('hq', 'main', 100, { ttl: 10 });
    clock.advance(9_999);
    assert.deepEqual(healthy(), ['hq/main']);
    announce('hq', 'main', 100, { ttl: 10 });
    clock.advance(9_999);
    assert.deepEqual(healthy(), ['hq/main'], 'refreshed');
    clock.advance(1);
    assert.deepEqual(healthy(), [], 'expired at received + TTL');
  });

  it('an entry announced long ago (a stale retained one) arrives expired: its own expiresAt plus the skew tolerance bounds it', () => {
    announce('hq', 'main', 100, { ttl: 10, at: START - 60_000 });
    assert.deepEqual(healthy(), []);
    // Its own expiry passed 25 s ago, within the tolerance (30 s) for a late announcer clock: up for the 5 s left of it.
    announce('dr', 'main', 50, { ttl: 10, at: START - 35_000 });
    assert.deepEqual(healthy(), ['dr/main']);
    clock.advance(4_999);
    assert.deepEqual(healthy(), ['dr/main']);
    clock.advance(1);
    assert.deepEqual(healthy(), []);
  });

  it('an announcer clock far ahead cannot keep an entry beyond one TTL of ours', () => {
    announce('hq', 'main', 100, { ttl: 10, at: START + 3_600_000 });
    clock.advance(10_000);
    assert.deepEqual(healthy(), []);
  });

  const liveness: Array<[string, number | undefined, Array<['online' | 'offline', number]>, boolean]> = [
    ['no state known', 3, [], true],
    ['online in its session', 3, [['online', 3]], true],
    ['offline in its session (the will)', 3, [['offline', 3]], false],
    ['offline in an earlier session (a late will), entry newer', 4, [['offline', 3]], true],
    ['online in a later session, not re-announced', 3, [['online', 4]], false],
    ['offline then back online in the same session number it announced', 4, [['offline', 3], ['online', 4]], true],
    ['no session in the entry, site offline', undefined, [['offline', 9]], false],
    ['no session in the entry, site online', undefined, [['online', 9]], true],
  ];
  for (const [what, session, states, up] of liveness) {
    it(`site liveness: ${what} → ${up ? 'up' : 'offline'}`, () => {
      announce('hq', 'main', 100, { session });
      for (const [s, n] of states) state('hq', s, n);
      assert.deepEqual(healthy(), up ? ['hq/main'] : []);
      assert.equal(view.snapshot().services[0]?.endpoints[0]?.state, up ? 'up' : 'offline');
    });
  }

  it('an offline site drops at once from a cached list, and comes back with its state', () => {
    announce('hq', 'main', 100, { session: 1 });
    announce('dr', 'main', 50, { session: 1 });
    assert.deepEqual(healthy(), ['hq/main', 'dr/main']);
    state('hq', 'offline', 1);
    assert.deepEqual(healthy(), ['dr/main']);
    state('hq', 'online', 2);
    announce('hq', 'main', 100, { session: 2 });
    assert.deepEqual(healthy(), ['hq/main', 'dr/main']);
  });

  it('a malformed site state forgets the site state rather than guess', () => {
    announce('hq', 'main', 100, { session: 1 });
    state('hq', 'offline', 1);
    assert.ok(!view.receiveSiteState('hq', '{"state":"maybe"}').ok);
    assert.deepEqual(healthy(), ['hq/main']);
  });

  it('forgets an entry ten minutes after it expired (shown as expired until then)', () => {
    announce('hq', 'main', 100, { ttl: 10 });
    clock.advance(10_000);
    assert.deepEqual(healthy(), []);
    assert.equal(view.snapshot().services[0]?.endpoints[0]?.state, 'expired');
    clock.advance(10 * 60_000);
    assert.deepEqual(healthy(), []);
    assert.deepEqual(view.snapshot().services[0]?.endpoints, []);
  });

  it('a reported failure skips the endpoint (by key or URL) for the cool-down', () => {
    announce('hq', 'main', 100);
    announce('dr', 'main', 50);
    assert.deepEqual(view.markFailed('pricing', 'http://hq.example/main', 5_000).map((e) => e.key), ['hq/main']);
    assert.deepEqual(healthy(), ['dr/main']);
    assert.deepEqual(view.snapshot().services[0]?.endpoints.map((e) => e.state), ['failed', 'up']);
    clock.advance(4_999);
    assert.deepEqual(healthy(), ['dr/main']);
    clock.advance(1);
    assert.deepEqual(healthy(), ['hq/main', 'dr/main']);
    assert.deepEqual(view.markFailed('pricing', 'dr/main', 1_000).map((e) => e.key), ['dr/main']);
    assert.deepEqual(view.markFailed('pricing', 'nowhere', 1_000), []);
  });

  it('refuses malformed entries and keeps what it had', () => {
    announce('hq', 'main', 100);
    const refused = view.receiveEntry(registryTopic('pricing', 'hq', 'main'), '{"service":"pricing"}');
    assert.ok(!refused.ok);
    assert.deepEqual(healthy(), ['hq/main']);
  });

  it('hands out one frozen endpoint object per entry, so a lookup allocates nothing', () => {
    announce('hq', 'main', 100);
    const a = view.healthy('pricing')[0];
    const b = view.healthy('pricing')[0];
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.ok(Object.isFrozen(view.healthy('pricing')));
  });

  it('snapshots each endpoint with its state and expiry', () => {
    announce('hq', 'main', 100, { ttl: 10 });
    announce('dr', 'main', 50, { ttl: 20 });
    clock.advance(15_000);
    assert.deepEqual(view.snapshot(), {
      services: [{
        service: 'pricing',
        endpoints: [
          { site: 'hq', instance: 'main', url: 'http://hq.example/main', weight: 100, state: 'expired', expiresAt: new Date(START + 10_000).toISOString() },
          { site: 'dr', instance: 'main', url: 'http://dr.example/main', weight: 50, state: 'up', expiresAt: new Date(START + 20_000).toISOString() },
        ],
      }],
    });
  });
});
