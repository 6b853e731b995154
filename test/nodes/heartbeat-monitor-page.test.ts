// The fleet page's data when more than one heartbeat-monitor runs: one fleet,
// each site once, worst health first, the bill of materials summed.
import should from 'should';
import { describe, it } from 'mocha';
import type { FleetSiteView, FleetView } from '../../lib/fleet/monitor-view';
import { mergeViews } from '../../nodes/support/fleet-page';

function site(name: string, score: number): FleetSiteView {
  return {
    site: name, expected: false, state: 'online', restarts: 0, gaps: 0, missedBeats: 0,
    rates: { inPerSecond: 0, outPerSecond: 0, rejectedPerSecond: 0, rejectRate: 0 }, history: [], rejects: {}, outboxDepth: 0,
    cdmPublished: [], health: { score, lost: [] }, alerts: [],
  };
}

function view(sites: FleetSiteView[], bom: FleetView['bom'], held = 0): FleetView {
  return { generatedAt: '2026-12-07T10:00:00.000Z', weights: {}, current: {}, sites, bom, templates: [], recentAlerts: [], heldAlerts: held, ignoredSites: 0 };
}

describe('fleet page: views of several monitors', () => {
  it('no monitor: no view (the endpoint answers 404)', () => {
    should(mergeViews([])).be.undefined();
  });

  it('one fleet: each site once (the first monitor\'s), worst first, counts summed', () => {
    const merged = mergeViews([
      view([site('fra', 90), site('ber', 100)], { pack: { '0.1.0': 2 } }, 1),
      view([site('ber', 40), site('mad', 60)], { pack: { '0.1.0': 1, '0.2.0': 1 } }, 2),
    ]);
    should(merged?.sites.map((s) => `${s.site}:${s.health.score}`)).eql(['mad:60', 'fra:90', 'ber:100']);
    should(merged?.bom).eql({ pack: { '0.1.0': 3, '0.2.0': 1 } });
    should(merged?.heldAlerts).equal(3);
  });
});
