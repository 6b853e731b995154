import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { EndpointPicker } from '../../../lib/registry/strategies';
import type { Endpoint } from '../../../lib/registry/view';

const endpoint = (site: string, weight: number, region?: string): Endpoint => ({ service: 's', site, instance: 'i', key: `${site}/i`, url: `http://${site}.example/`, weight, metadata: {}, ...(region === undefined ? {} : { region }) });
// As the view hands them over: heaviest first.
const healthy = [endpoint('hq', 100, 'eu'), endpoint('dr', 50, 'us'), endpoint('store-1', 10, 'us')];

describe('registry: strategies', () => {
  const cases: Array<[string, EndpointPicker, readonly Endpoint[], Array<string | undefined>]> = [
    ['failover takes the primary every time', new EndpointPicker('failover'), healthy, ['hq', 'hq', 'hq']],
    ['failover takes the backup when the primary is gone', new EndpointPicker('failover'), healthy.slice(1), ['dr', 'dr']],
    ['round robin turns through them', new EndpointPicker('round-robin'), healthy, ['hq', 'dr', 'store-1', 'hq']],
    ['same-site prefers its own site', new EndpointPicker('same-site', { site: 'store-1' }), healthy, ['store-1', 'store-1']],
    ['same-site falls back to failover', new EndpointPicker('same-site', { site: 'store-9' }), healthy, ['hq']],
    ['same-region prefers the heaviest in its region', new EndpointPicker('same-region', { region: 'us' }), healthy, ['dr']],
    ['same-region falls back to failover', new EndpointPicker('same-region', { region: 'ap' }), healthy, ['hq']],
    ['nothing healthy is nothing', new EndpointPicker('round-robin'), [], [undefined]],
  ];
  for (const [what, picker, list, expected] of cases) {
    it(what, () => {
      assert.deepEqual(expected.map(() => picker.pick(list)?.site), expected);
    });
  }

  it('round robin keeps turning when the list shrinks', () => {
    const picker = new EndpointPicker('round-robin');
    picker.pick(healthy);
    picker.pick(healthy);
    assert.equal(picker.pick(healthy.slice(0, 2))?.site, 'hq');
  });
});
