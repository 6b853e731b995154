import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { parseFleetAlert, SiteAlerts } from '../../../lib/fleet/heartbeat-alerts';
import { BeatSequence, PublishedVersions, buildHeartbeat } from '../../../lib/fleet/heartbeat-beat';
import { HeartbeatCanary } from '../../../lib/fleet/heartbeat-canary';
import type { CanaryResult } from '../../../lib/fleet/heartbeat-format';
import { parseHeartbeatSettings } from '../../../lib/fleet/heartbeat-settings';
import { ProbeBoard } from '../../../lib/fleet/probe-board';
import { NodeCounters, CounterStore } from '../../../lib/metrics/counters';
import { StageTally } from '../../../lib/metrics/stage-tally';

describe('fleet: heartbeat settings', () => {
  const none = (): undefined => undefined;
  const cases: Array<[string, Record<string, string>, Record<string, string>, unknown]> = [
    ['defaults', {}, {}, { intervalMs: 30_000 }],
    ['an interval from the environment', {}, { TECTONIC_HEARTBEAT_SECONDS: '5' }, { intervalMs: 5_000 }],
    ['the setting wins over the environment', { interval: '0.5' }, { TECTONIC_HEARTBEAT_SECONDS: '5' }, { intervalMs: 500 }],
    ['a template from the environment', {}, { TECTONIC_TEMPLATE_NAME: 'site-agent', TECTONIC_TEMPLATE_VERSION: '2.0.0' }, { intervalMs: 30_000, template: { name: 'site-agent', version: '2.0.0' } }],
    ['probes', { probeEvery: '4', probeRecord: '{"a":1}' }, {}, { intervalMs: 30_000, probe: { every: 4, deadlineMs: 10_000, record: { a: 1 } } }],
    ['probe every 0 is none', { probeEvery: '0', probeRecord: 'junk' }, {}, { intervalMs: 30_000 }],
  ];
  for (const [what, config, env, expected] of cases) {
    it(what, () => assert.deepEqual(parseHeartbeatSettings(config, (n) => env[n]), { ok: true, value: expected }));
  }
  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ['an interval of 0', { interval: '0' }, /interval must be a number of seconds/],
    ['an interval that is not a number', { interval: 'soon' }, /got "soon"/],
    ['a template name without a version', { templateName: 'x' }, /both a name and a version/],
    ['probe every 1.5', { probeEvery: '1.5', probeRecord: '{}' }, /whole number of beats/],
    ['a probe record that is not JSON', { probeEvery: '1', probeRecord: '{' }, /probe record must be a JSON object/],
    ['a probe record with a prototype key', { probeEvery: '1', probeRecord: '{"__proto__":{"x":1}}' }, /probe record must be a JSON object/],
  ];
  for (const [what, config, problem] of refusals) {
    it(`refuses ${what}`, () => {
      const parsed = parseHeartbeatSettings(config, none);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.problem, problem);
    });
  }
});

describe('fleet: heartbeat sequence, beat and published versions', () => {
  it('seq is 0 at each new session and counts up within one', () => {
    const seq = new BeatSequence();
    assert.deepEqual([seq.next(3), seq.next(3), seq.next(3), seq.next(4), seq.next(4)], [0, 1, 2, 0, 1]);
  });

  it('builds the contract shape, optional members only when there is something to say', () => {
    const beat = buildHeartbeat(
      { site: 'fra', session: 2, intervalMs: 30_000, now: new Date('2026-12-07T10:00:30Z'), startedAt: Date.parse('2026-12-07T10:00:00Z'), stages: {}, outboxDepth: 0, versions: { pack: '0.1.0', nodeRed: '4.1.15', node: '20.19.0' }, cdmPublished: [], fingerprint: 'f' },
      5,
    );
    assert.deepEqual(beat, { format: 1, site: 'fra', session: 2, seq: 5, sentAt: '2026-12-07T10:00:30.000Z', intervalMs: 30_000, uptimeSeconds: 30, stages: {}, outboxDepth: 0, versions: { pack: '0.1.0', nodeRed: '4.1.15', node: '20.19.0' }, cdmPublished: [], flows: { fingerprint: 'f' } });
  });

  it('published versions: each once, sorted, emptied at each take; junk envelopes ignored', () => {
    const v = new PublishedVersions();
    for (const cdm of [{ entity: 's', version: '1.1.0' }, { entity: 's', version: '1.1.0' }, { entity: 'l', version: '1.0.0' }, null, 'x', { entity: 1, version: '1' }, { entity: 's', version: '1.1.0' }]) v.noteEnvelope(cdm);
    assert.deepEqual(v.take(), ['l@1.0.0', 's@1.1.0']);
    assert.deepEqual(v.take(), []);
    v.noteEnvelope({ entity: 's', version: '1.1.0' });
    assert.deepEqual(v.take(), ['s@1.1.0']);
  });
});

describe('fleet: synthetic transactions', () => {
  function rig(every = 2): { canary: HeartbeatCanary; board: ProbeBoard; results: CanaryResult[]; clock: { t: number }; fire: () => void } {
    const clock = { t: 1_000 };
    const board = new ProbeBoard(() => clock.t);
    const results: CanaryResult[] = [];
    let timer: (() => void) | undefined;
    const canary = new HeartbeatCanary({ every, deadlineMs: 500, record: { a: 1 }, settled: (r) => results.push(r), board, now: () => clock.t, setTimer: (fn) => ((timer = fn), () => (timer = undefined)) });
    return { canary, board, results, clock, fire: () => timer?.() };
  }

  it('a probe every `every` beats, one at a time, a fresh nonce and record copy each', () => {
    const { canary } = rig(2);
    assert.equal(canary.due(), true);
    const first = canary.start();
    assert.match(first.probe, /^probe-[0-9a-f-]{36}$/);
    assert.equal(canary.due(), false);
    assert.equal(canary.due(), false, 'still on its way');
  });

  it('success: end-to-end and per-stage latency from the stages stamps; counters leave the probe out', () => {
    const { canary, board, results, clock } = rig();
    const store = new CounterStore();
    const map = new NodeCounters('m', 'cdm-map', 'map');
    store.add(map);
    canary.due();
    const { probe } = canary.start();
    const tally = new StageTally(map, 'map', board);
    clock.t = 1_002;
    board.stamp(probe, 'map', 1_002);
    assert.equal(tally.in({ probe }), probe);
    board.stamp(probe, 'validate', 1_005);
    board.stamp(probe, 'publish', 1_009);
    clock.t = 1_020;
    canary.arrived('another');
    canary.arrived(probe);
    assert.deepEqual(results, [{ ok: true, at: new Date(1_020).toISOString(), nonce: probe, latencyMs: 20, stagesMs: { map: 3, validate: 4, publish: 11 } }]);
    assert.deepEqual(store.byStage(), { map: { in: 0, out: 0, rejected: {} } });
    assert.equal(board.size, 0, 'the board forgets a settled probe');
  });

  it("success settled by bus-publish's report of the broker's acknowledgement (the board's taken), once", () => {
    const { canary, board, results, clock } = rig();
    canary.due();
    const { probe } = canary.start();
    board.stamp(probe, 'map', 1_001);
    board.stamp(probe, 'publish', 1_004);
    const publish = new StageTally(new NodeCounters('p', 'bus-publish', 'publish'), 'publish', board);
    publish.taken('probe-of-another-heartbeat');
    assert.deepEqual(results, []);
    clock.t = 1_012;
    publish.taken(probe);
    board.taken(probe, 1_050);
    assert.deepEqual(results, [{ ok: true, at: new Date(1_012).toISOString(), nonce: probe, latencyMs: 12, stagesMs: { map: 3, publish: 8 } }]);
    assert.equal(board.size, 0);
  });

  it('refused by a stage: failure naming the stage and the first reason', () => {
    const { canary, board, results } = rig();
    canary.due();
    const { probe } = canary.start();
    const tally = new StageTally(new NodeCounters('v', 'cdm-validate', 'validate'), 'validate', board);
    tally.rejected(probe, { stage: 'cdm-validate', reasons: [{ path: '', rule: 'unknown-version', message: 'shipment@9.9.9 is not in the catalog' }] });
    assert.equal(results.length, 1);
    assert.deepEqual({ ...results[0], at: '' }, { ok: false, at: '', nonce: probe, stage: 'validate', reason: 'unknown-version: shipment@9.9.9 is not in the catalog' });
    assert.equal(tally.counters.rejected, 0);
  });

  it('refused as transient (no catalog yet): no verdict, and a probe is due again at the next beat', () => {
    const { canary, board, results } = rig(5);
    canary.due();
    const { probe } = canary.start();
    new StageTally(new NodeCounters('v', 'cdm-validate', 'validate'), 'validate', board).rejected(probe, { stage: 'cdm-validate', reasons: [{ path: '', rule: 'no-catalog', message: 'not yet' }], transient: true });
    assert.deepEqual(results, []);
    assert.equal(canary.pending, undefined);
    assert.equal(canary.due(), true);
  });

  it('overdue: failure at the stage after the last that saw it', () => {
    const { canary, board, results, fire } = rig();
    canary.due();
    const { probe } = canary.start();
    board.stamp(probe, 'map');
    board.stamp(probe, 'validate');
    fire();
    assert.equal(results[0]?.ok, false);
    assert.equal(results[0]?.ok === false && results[0].stage, 'policy');
    assert.match(results[0]?.ok === false ? results[0].reason : '', /deadline: not back on the bus after 500 ms; validate saw it last/);
    canary.arrived(probe);
    assert.equal(results.length, 1, 'settled once');
  });
});

describe('fleet: what the centre says', () => {
  const alert = { site: 'fra', kind: 'drift', severity: 'warning', since: '2026-12-07T10:00:00Z', reason: 'flows differ from site-agent@2.0.0' };
  it('reads an alert, refuses what is not one', () => {
    assert.deepEqual(parseFleetAlert(Buffer.from(JSON.stringify(alert))), alert);
    for (const junk of ['{', '[]', '{"site":"fra"}', JSON.stringify({ ...alert, kind: 'nonsense' }), JSON.stringify({ ...alert, severity: 'apocalyptic' }), '{"__proto__":{}}']) {
      assert.equal(parseFleetAlert(Buffer.from(junk)), undefined, junk);
    }
  });
  it('keeps the open alerts, the worst first; a recovery closes its kind', () => {
    const open = new SiteAlerts();
    open.note(alert as never);
    open.note({ ...alert, kind: 'canary-failed', severity: 'critical' } as never);
    assert.equal(open.worst?.kind, 'canary-failed');
    open.note({ ...alert, kind: 'recovered', of: 'canary-failed', severity: 'info' } as never);
    assert.equal(open.worst?.kind, 'drift');
    assert.equal(open.count, 1);
  });
});
