import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { FleetAlert } from '../../../lib/fleet/alert-format';
import { AlertDamper } from '../../../lib/fleet/damping';
import { healthScore } from '../../../lib/fleet/health-score';
import { FleetMonitor } from '../../../lib/fleet/monitor';
import { MONITOR_DEFAULTS, parseMonitorSettings } from '../../../lib/fleet/monitor-settings';
import { ManualClock } from '../../support/manual-clock';

const raise = (site: string): FleetAlert => ({ site, kind: 'offline', severity: 'critical', since: 'now', reason: 'will' });
const recover = (site: string): FleetAlert => ({ site, kind: 'recovered', of: 'offline', severity: 'info', since: 'now', reason: 'back' });

describe('fleet: monitor damping, score and settings', () => {
  it('a site flapping 20 times in a window: the first 6 alerts go out at once, then one reconciling alert at the window end', () => {
    const clock = new ManualClock();
    const out: FleetAlert[] = [];
    const damper = new AlertDamper({ maxAlertsPerWindow: 6, windowMs: 60_000 }, clock, (a) => out.push(a));
    for (let i = 0; i < 20; i += 1) {
      damper.offer(raise('fra'));
      clock.advance(100);
      if (i < 19) damper.offer(recover('fra'));
      clock.advance(100);
    }
    // Ends offline: 6 out, the 33 others held.
    assert.equal(out.length, 6);
    assert.equal(out.at(-1)?.kind, 'recovered', 'the sixth was a recovery: the outside now thinks it is online');
    clock.advance(60_000);
    assert.equal(out.length, 7);
    assert.equal(out[6]?.kind, 'offline', 'the reconciling alert tells where it stands');
    assert.equal(out[6]?.held, 33);
    assert.equal(damper.heldTotal, 33);
  });

  it('nothing is sent at the window end when the outside already knows where the site stands', () => {
    const clock = new ManualClock();
    const out: FleetAlert[] = [];
    const damper = new AlertDamper({ maxAlertsPerWindow: 2, windowMs: 1000 }, clock, (a) => out.push(a));
    damper.offer(raise('fra'));
    damper.offer(recover('fra'));
    damper.offer(raise('fra'));
    damper.offer(recover('fra'));
    clock.advance(1000);
    assert.equal(out.length, 2);
  });

  it('each site has its own budget: a flapping site does not silence another', () => {
    const clock = new ManualClock();
    const out: FleetAlert[] = [];
    const damper = new AlertDamper({ maxAlertsPerWindow: 1, windowMs: 1000 }, clock, (a) => out.push(a));
    damper.offer(raise('fra'));
    damper.offer(recover('fra'));
    damper.offer(raise('ber'));
    assert.deepEqual(out.map((a) => a.site), ['fra', 'ber']);
    damper.close();
    assert.equal(clock.pending, 0);
  });

  it('through the monitor: a flapping site gives at most maxAlerts per window', () => {
    const clock = new ManualClock();
    const out: FleetAlert[] = [];
    const monitor = new FleetMonitor({ settings: { ...MONITOR_DEFAULTS, damping: { maxAlertsPerWindow: 4, windowMs: 10_000 } }, clock, alert: (a) => out.push(a) });
    for (let s = 1; s <= 10; s += 1) {
      monitor.handleState('fra', JSON.stringify({ state: 'online', session: s, since: '2026-12-07T10:00:00Z' }));
      monitor.handleState('fra', JSON.stringify({ state: 'offline', session: s, since: '2026-12-07T10:00:00Z', reason: 'connection-lost' }));
    }
    assert.equal(out.length, 4);
    monitor.close();
  });

  it('score weights add to 100 and a healthy site scores 100', () => {
    assert.deepEqual(healthScore({ liveness: { kind: 'up' }, rejectRate: 0, outboxDepth: 0, versionProblems: [] }), { score: 100, lost: [] });
    const worst = healthScore({ liveness: { kind: 'down', reason: 'offline' }, canaryFailure: 'c', rejectRate: 1, outboxDepth: 1e6, versionProblems: [{ reason: 'a', severe: true }, { reason: 'b', severe: true }], drift: 'd' });
    assert.equal(worst.score, 0);
    assert.equal(worst.lost.reduce((s, l) => s + l.points, 0), 100);
  });

  const settingsCases: Array<[string, Record<string, string>, boolean]> = [
    ['defaults', {}, true],
    ['seconds', { checkPeriod: '0.5', missingAfter: '2', defaultInterval: '5' }, true],
    ['expected list', { expected: 'fra, ber\nmad' }, true],
    ['bad site id', { expected: 'fra/x' }, false],
    ['check period too short', { checkPeriod: '0.001' }, false],
    ['not a number', { missingAfter: 'three' }, false],
  ];
  for (const [name, config, ok] of settingsCases) {
    it(`settings: ${name} ${ok ? 'parse' : 'are refused with a reason'}`, () => {
      const parsed = parseMonitorSettings(config);
      assert.equal(parsed.ok, ok);
      if (!parsed.ok) assert.ok(parsed.reasons[0]?.message);
    });
  }

  it('settings: seconds become milliseconds; the expected list is split and deduplicated', () => {
    const parsed = parseMonitorSettings({ checkPeriod: '0.5', expected: 'fra ber,fra' });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.checkPeriodMs, 500);
    assert.deepEqual(parsed.value.expected, ['fra', 'ber']);
  });
});
