import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { FleetAlert } from '../../../lib/fleet/alert-format';
import type { Heartbeat } from '../../../lib/fleet/heartbeat-format';
import { type CurrentVersions, FleetMonitor } from '../../../lib/fleet/monitor';
import { MONITOR_DEFAULTS, type MonitorSettings } from '../../../lib/fleet/monitor-settings';
import { ManualClock } from '../../support/manual-clock';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');

function beat(site: string, session: number, seq: number, at: number, extra: Partial<Heartbeat> = {}): string {
  const hb: Heartbeat = {
    format: 1,
    site,
    session,
    seq,
    sentAt: new Date(at).toISOString(),
    intervalMs: 1000,
    uptimeSeconds: seq,
    stages: { map: { in: seq * 10, out: seq * 10, rejected: {} }, publish: { in: seq * 10, out: seq * 10, rejected: {} } },
    outboxDepth: 0,
    versions: { pack: '0.1.0', nodeRed: '4.1.15', node: 'v20.20.0', catalog: 'sha256:5d0c81e2aaaa', policy: 'central-default@7' },
    cdmPublished: ['shipment@1.1.0'],
    flows: { fingerprint: 'f'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } },
    ...extra,
  };
  return JSON.stringify(hb);
}

function setup(settings: Partial<MonitorSettings> = {}, current: CurrentVersions = {}): { clock: ManualClock; monitor: FleetMonitor; alerts: FleetAlert[]; kinds: () => string[] } {
  const clock = new ManualClock();
  clock.time = T0;
  const alerts: FleetAlert[] = [];
  const monitor = new FleetMonitor({ settings: { ...MONITOR_DEFAULTS, checkPeriodMs: 250, ...settings }, clock, alert: (a) => alerts.push(a), current: () => current });
  monitor.start();
  const kinds = (): string[] => alerts.map((a) => (a.kind === 'recovered' ? `recovered:${a.of ?? ''}` : `${a.kind}`));
  return { clock, monitor, alerts, kinds };
}

const online = (session: number): string => JSON.stringify({ state: 'online', session, since: new Date(T0).toISOString() });
const offline = (session: number, why = 'connection-lost'): string => JSON.stringify({ state: 'offline', session, since: new Date(T0).toISOString(), reason: why });

describe('fleet: heartbeat monitor', () => {
  it('offline on the will, at once, critical; recovered when it is back; the new session is a restart', () => {
    const { monitor, alerts, kinds, clock } = setup();
    assert.ok(monitor.handleState('fra', online(1)).ok);
    assert.deepEqual(kinds(), [], 'a first online is no news');
    monitor.handleState('fra', offline(1));
    assert.deepEqual(kinds(), ['offline']);
    assert.equal(alerts[0]?.severity, 'critical');
    assert.match(alerts[0]?.reason ?? '', /last will/);
    monitor.handleState('fra', online(2));
    assert.deepEqual(kinds(), ['offline', 'restart', 'recovered:offline']);
    // The restart clears once the site has been up for one interval.
    clock.advance(31_000);
    assert.deepEqual(kinds().slice(3), ['recovered:restart']);
  });

  it('a regional hub that dies makes its sites unreachable through it (offline, naming the hub); they clear when it is back, a site offline on its own stays', () => {
    const { monitor, alerts, kinds } = setup();
    monitor.handleState('hub-north', online(1));
    for (const site of ['ra', 'rb', 'rc']) monitor.handleState(site, online(1));
    assert.ok(monitor.handle('tectonic/health/hub-north/sites', JSON.stringify({ hub: 'hub-north', sites: ['ra', 'rb', 'rc'] }), true).ok);
    monitor.handleState('rc', offline(1));
    assert.deepEqual(kinds(), ['offline']);
    monitor.handleState('hub-north', offline(1));
    const unreachable = alerts.filter((a) => a.kind === 'offline' && /regional hub hub-north/.test(a.reason)).map((a) => a.site);
    assert.deepEqual(unreachable.sort(), ['ra', 'rb']);
    monitor.handleState('hub-north', online(2));
    const recovered = alerts.filter((a) => a.kind === 'recovered' && a.of === 'offline').map((a) => a.site);
    assert.deepEqual(recovered.sort(), ['hub-north', 'ra', 'rb'], 'rc was offline on its own: it stays offline');
  });

  it('a hub sites list that is not one is refused with a reason', () => {
    const { monitor } = setup();
    for (const bad of ['[]', '{"hub":"h","sites":["a/b"]}', '{"__proto__":{}}', 'x'.repeat(70_000)]) assert.equal(monitor.handle('tectonic/health/h/sites', bad, true).ok, false, bad.slice(0, 30));
    assert.ok(monitor.handle('tectonic/health/h/sites', '', true).ok, 'an empty retained message withdraws the list');
  });

  it('a clean shutdown is offline with severity warning', () => {
    const { monitor, alerts } = setup();
    monitor.handleState('fra', offline(3, 'shutdown'));
    assert.equal(alerts[0]?.severity, 'warning');
    assert.match(alerts[0]?.reason ?? '', /shut down cleanly/);
  });

  it('missing after 3 of the site’s intervals with no beat (found by the periodic check), recovered by the next beat', () => {
    const { monitor, alerts, kinds, clock } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0), false);
    clock.advance(2_900);
    assert.deepEqual(kinds(), []);
    clock.advance(400);
    assert.deepEqual(kinds(), ['missing']);
    assert.equal(alerts[0]?.since, new Date(T0).toISOString(), 'silent since its last beat');
    monitor.handleHeartbeat('fra', beat('fra', 1, 1, clock.time), false);
    assert.deepEqual(kinds(), ['missing', 'recovered:missing']);
  });

  it('a missing beat is not raised while the site is offline: offline says it already', () => {
    const { monitor, kinds, clock } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0), false);
    monitor.handleState('fra', offline(1));
    clock.advance(10_000);
    assert.deepEqual(kinds(), ['offline']);
  });

  it('an expected site never heard from is missing after the default threshold; recovered when it appears', () => {
    const { monitor, alerts, kinds, clock } = setup({ expected: ['ber'], defaultIntervalMs: 1000 });
    clock.advance(2_900);
    assert.deepEqual(kinds(), []);
    clock.advance(200);
    assert.deepEqual(kinds(), ['missing']);
    assert.match(alerts[0]?.reason ?? '', /never heard/);
    assert.equal(monitor.view().sites[0]?.expected, true);
    monitor.handleState('ber', online(1));
    assert.deepEqual(kinds(), ['missing', 'recovered:missing']);
  });

  it('a gap within one session names the missing sequence numbers; a new session is a restart, not a gap', () => {
    const { monitor, alerts, kinds } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 4, 0, T0), false);
    monitor.handleHeartbeat('fra', beat('fra', 4, 1, T0 + 1000), false);
    monitor.handleHeartbeat('fra', beat('fra', 4, 5, T0 + 5000), false);
    assert.deepEqual(kinds(), ['gap']);
    assert.match(alerts[0]?.reason ?? '', /3 heartbeat\(s\) missing in session 4: seq 2 to 4/);
    monitor.handleHeartbeat('fra', beat('fra', 5, 0, T0 + 6000), false);
    assert.deepEqual(kinds(), ['gap', 'restart']);
    const view = monitor.view().sites[0];
    assert.equal(view?.gaps, 1);
    assert.equal(view?.missedBeats, 3);
    assert.equal(view?.restarts, 1);
  });

  it('a beat seen again (or older) changes nothing', () => {
    const { monitor, kinds } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 3, T0), false);
    monitor.handleHeartbeat('fra', beat('fra', 1, 3, T0), true);
    monitor.handleHeartbeat('fra', beat('fra', 1, 2, T0), false);
    assert.deepEqual(kinds(), []);
  });

  it('canary ok:false raises canary-failed naming the stage and reason; ok:true recovers', () => {
    const { monitor, alerts, kinds } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0, { canary: { ok: false, at: new Date(T0).toISOString(), nonce: 'n1', stage: 'validate', reason: 'no schema shipment@9.9.9' } }), false);
    assert.deepEqual(kinds(), ['canary-failed']);
    assert.equal(alerts[0]?.details?.stage, 'validate');
    assert.match(alerts[0]?.reason ?? '', /stage validate: no schema shipment@9.9.9/);
    monitor.handleHeartbeat('fra', beat('fra', 1, 1, T0 + 1000, { canary: { ok: false, at: new Date(T0).toISOString(), nonce: 'n2', stage: 'validate', reason: 'again' } }), false);
    assert.deepEqual(kinds(), ['canary-failed'], 'raised once while it lasts');
    monitor.handleHeartbeat('fra', beat('fra', 1, 2, T0 + 2000, { canary: { ok: true, at: new Date(T0).toISOString(), nonce: 'n3', latencyMs: 42, stagesMs: { map: 1 } } }), false);
    assert.deepEqual(kinds(), ['canary-failed', 'recovered:canary-failed']);
    assert.equal(monitor.view().sites[0]?.canary?.ok, true);
  });

  it('drift when the flows fingerprint differs from the template’s retained one, either order; recovered when it matches', () => {
    const { monitor, alerts, kinds } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0, { flows: { fingerprint: 'a'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } } }), false);
    assert.deepEqual(kinds(), [], 'no template known yet: no judgement');
    monitor.handleTemplate('tectonic/templates/site-agent', JSON.stringify({ name: 'site-agent', version: '1.0.0', fingerprint: 'b'.repeat(64) }));
    assert.deepEqual(kinds(), ['drift']);
    assert.match(alerts[0]?.reason ?? '', /template site-agent@1.0.0/);
    assert.equal(monitor.view().sites[0]?.drift?.drifting, true);
    monitor.handleHeartbeat('fra', beat('fra', 1, 1, T0 + 1000, { flows: { fingerprint: 'b'.repeat(64), template: { name: 'site-agent', version: '1.0.0' } } }), false);
    assert.deepEqual(kinds(), ['drift', 'recovered:drift']);
  });

  it('version lag: another catalog digest, a lower policy version of the same bundle; a higher one is no lag', () => {
    const current: CurrentVersions = { catalog: 'sha256:5d0c81e2' + 'a'.repeat(56), policy: 'central-default@7' };
    const { monitor, alerts, kinds } = setup({}, current);
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0), false);
    assert.deepEqual(kinds(), [], 'the short digest names the same catalog');
    monitor.handleHeartbeat('ber', beat('ber', 1, 0, T0, { versions: { pack: '0.1.0', nodeRed: '4.1.15', node: 'v20', catalog: 'sha256:0000aaaa', policy: 'central-default@6' } }), false);
    assert.deepEqual(kinds(), ['version-lag']);
    assert.match(alerts[0]?.reason ?? '', /catalog sha256:0000aaaa, current .*; policy central-default@6, current central-default@7/);
    monitor.handleHeartbeat('mad', beat('mad', 1, 0, T0, { versions: { pack: '0.1.0', nodeRed: '4.1.15', node: 'v20', policy: 'central-default@8' } }), false);
    assert.deepEqual(kinds(), ['version-lag']);
    current.policy = 'central-default@6';
    current.catalog = 'sha256:0000aaaa';
    monitor.currentChanged();
    assert.ok(kinds().includes('recovered:version-lag'));
  });

  it('sunset: within the warning window is a warning, past it critical; the sunset day itself is not past', () => {
    const sunsets = new Map([['shipment@1.0.0', '2026-12-20']]);
    const { monitor, alerts, clock } = setup({ sunsetWarnDays: 30 }, { sunsets });
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0, { cdmPublished: ['shipment@1.0.0'] }), false);
    assert.equal(alerts[0]?.kind, 'sunset');
    assert.equal(alerts[0]?.severity, 'warning');
    assert.match(alerts[0]?.reason ?? '', /shipment@1.0.0, sunset 2026-12-20 \(in 13 day/);
    const late = setup({}, { sunsets });
    late.clock.time = Date.parse('2026-12-20T23:59:00Z');
    late.monitor.handleHeartbeat('fra', beat('fra', 1, 0, late.clock.time, { cdmPublished: ['shipment@1.0.0'] }), false);
    assert.equal(late.alerts[0]?.severity, 'warning');
    const past = setup({}, { sunsets });
    past.clock.time = Date.parse('2026-12-21T00:00:00Z');
    past.monitor.handleHeartbeat('fra', beat('fra', 1, 0, past.clock.time, { cdmPublished: ['shipment@1.0.0'] }), false);
    assert.equal(past.alerts[0]?.severity, 'critical');
    assert.match(past.alerts[0]?.reason ?? '', /past its sunset/);
    // No longer published (for 3 intervals): recovered.
    monitor.handleHeartbeat('fra', beat('fra', 1, 1, clock.time, { cdmPublished: [] }), false);
    for (let i = 2; i < 6; i += 1) {
      clock.advance(1000);
      monitor.handleHeartbeat('fra', beat('fra', 1, i, clock.time, { cdmPublished: ['shipment@1.1.0'] }), false);
    }
    assert.equal(alerts.at(-1)?.kind, 'recovered');
    assert.equal(alerts.at(-1)?.of, 'sunset');
  });

  it('a stale retained beat (sent long before it arrived) is marked stale and does not count as alive', () => {
    const { monitor, kinds, clock } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 9, T0 - 600_000), true);
    const view = monitor.view().sites[0];
    assert.equal(view?.heartbeat?.stale, true);
    assert.ok((view?.heartbeat?.ageSeconds ?? 0) >= 600);
    clock.advance(250);
    assert.deepEqual(kinds(), ['missing']);
  });

  it('clock skew from live beats is measured and reported beyond the setting', () => {
    const { monitor } = setup({ skewWarnMs: 2000 });
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0 + 5000), false);
    monitor.handleHeartbeat('ber', beat('ber', 1, 0, T0 - 500), false);
    const byId = new Map(monitor.view().sites.map((s) => [s.site, s]));
    assert.equal(byId.get('fra')?.heartbeat?.skewMs, 5000);
    assert.equal(byId.get('fra')?.heartbeat?.skewReported, true);
    assert.equal(byId.get('ber')?.heartbeat?.skewReported, false);
  });

  it('rates and reject rate from consecutive beats of one session, with a history for the chart', () => {
    const { monitor } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0, { stages: { map: { in: 0, out: 0, rejected: {} } } }), false);
    monitor.handleHeartbeat('fra', beat('fra', 1, 1, T0 + 2000, { stages: { map: { in: 100, out: 80, rejected: { type: 20 } } } }), false);
    const site = monitor.view().sites[0];
    assert.deepEqual(site?.rates, { inPerSecond: 50, outPerSecond: 40, rejectedPerSecond: 10, rejectRate: 0.2 });
    assert.deepEqual(site?.history, [40]);
    assert.deepEqual(site?.rejects, { type: 20 });
    assert.ok(site?.health.lost.some((l) => l.factor === 'rejects' && l.points === 10));
  });

  it('the health score names a reason for every point lost', () => {
    const { monitor } = setup();
    monitor.handleTemplate('tectonic/templates/site-agent', JSON.stringify({ name: 'site-agent', version: '1.0.0', fingerprint: 'b'.repeat(64) }));
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0, { outboxDepth: 500, canary: { ok: false, at: '2026-12-07T10:00:00Z', nonce: 'x', stage: 'policy', reason: 'denied' } }), false);
    monitor.handleState('fra', offline(1));
    const health = monitor.view().sites[0]?.health;
    assert.equal(health?.score, 100 - 40 - 20 - 5 - 10);
    assert.deepEqual(health?.lost.map((l) => l.factor), ['liveness', 'canary', 'outbox', 'drift']);
    for (const l of health?.lost ?? []) assert.ok(l.reason.length > 0);
  });

  it('bad input is refused with reasons, never thrown: not JSON, wrong site, a prototype key, oversize', () => {
    const { monitor } = setup();
    const bad = [
      monitor.handleHeartbeat('fra', 'not json', false),
      monitor.handleHeartbeat('fra', beat('ber', 1, 0, T0), false),
      monitor.handleHeartbeat('fra', '{"__proto__":{"x":1},"format":1}', false),
      monitor.handleHeartbeat('fra', 'x'.repeat(300_000), false),
      monitor.handleState('fra', '{"state":"maybe"}'),
      monitor.handleTemplate('tectonic/templates/x', '[1]'),
    ];
    for (const result of bad) assert.equal(result.ok, false);
    assert.equal(monitor.view().sites.length, 0);
  });

  it('tracks at most maxSites sites, counting the rest', () => {
    const { monitor } = setup({ maxSites: 2 });
    monitor.handleState('a', online(1));
    monitor.handleState('b', online(1));
    const refused = monitor.handleState('c', online(1));
    assert.equal(refused.ok, false);
    assert.equal(monitor.siteCount, 2);
    assert.equal(monitor.view().ignoredSites, 1);
  });

  it('the view has a bill of materials of the fleet', () => {
    const { monitor } = setup();
    monitor.handleHeartbeat('fra', beat('fra', 1, 0, T0), false);
    monitor.handleHeartbeat('ber', beat('ber', 1, 0, T0, { versions: { pack: '0.2.0', nodeRed: '4.1.15', node: 'v20.20.0' } }), false);
    const { bom } = monitor.view();
    assert.deepEqual(bom.pack, { '0.1.0': 1, '0.2.0': 1 });
    assert.deepEqual(bom.nodeRed, { '4.1.15': 2 });
  });

  it('close releases the check timer', () => {
    const { monitor, clock } = setup();
    assert.equal(clock.pending, 1);
    monitor.close();
    assert.equal(clock.pending, 0);
  });
});
