// parseMapSettings: cdm-map's config in, the compiled mapping and the envelope's origin or the problem out, in the node's words.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type MapConfig, parseMapSettings } from '../../../lib/mapping/map-settings';

const rules = [{ to: 'shipmentId', from: 'shp_no' }];
const env: Record<string, string> = { SITE_ID: 'site-fra', EMPTY: '' };
const read = (name: string): string | undefined => env[name];

describe('parseMapSettings', () => {
  const accepted: Array<[string, MapConfig, { site: string; source: string }]> = [
    ['a typed site, the default source', { entity: 'shipment', version: '1.0.0', site: 'site-a', rules }, { site: 'site-a', source: 'urn:tectonic:site-a:node-red' }],
    ['a site from the environment', { entity: 'shipment', version: '1.0.0', site: 'SITE_ID', siteType: 'env', rules }, { site: 'site-fra', source: 'urn:tectonic:site-fra:node-red' }],
    ['a source of its own, trimmed', { entity: 'shipment', version: '1.0.0', site: 'site-a', source: ' urn:tectonic:site-a:wms ', rules }, { site: 'site-a', source: 'urn:tectonic:site-a:wms' }],
    ['a blank source is the default', { entity: 'shipment', version: '1.0.0', site: 'site-a', source: '  ', rules }, { site: 'site-a', source: 'urn:tectonic:site-a:node-red' }],
  ];
  for (const [name, config, expected] of accepted) {
    it(name, () => {
      const outcome = parseMapSettings(config, read);
      assert.ok(outcome.ok, JSON.stringify(outcome));
      assert.deepEqual(outcome.settings.origin, { entity: 'shipment', version: '1.0.0', ...expected });
      assert.equal(outcome.settings.mapping.entity, 'shipment');
      assert.deepEqual(outcome.settings.mapping.map({ shp_no: 'SHP-1' }), { ok: true, value: { shipmentId: 'SHP-1' } });
    });
  }

  describe('Id from: the spec\'s id.from as comma-separated paths', () => {
    const cases: Array<[string, string | undefined, boolean, string | undefined]> = [
      ['absent: no id', undefined, false, undefined],
      ['blank: no id', '  ', false, undefined],
      ['one path', 'shp_no', true, '"SHP-1"'],
      ['two paths, blanks around them', ' shp_no ,  dt ', true, '"SHP-1","24/11/2026"'],
    ];
    for (const [name, idFrom, keyed, key] of cases) {
      it(name, () => {
        const outcome = parseMapSettings({ entity: 'shipment', version: '1.0.0', site: 'site-a', rules, ...(idFrom === undefined ? {} : { idFrom }) }, read);
        assert.ok(outcome.ok, JSON.stringify(outcome));
        assert.equal(outcome.settings.mapping.keyed, keyed);
        const result = outcome.settings.mapping.map({ shp_no: 'SHP-1', dt: '24/11/2026' });
        assert.deepEqual(result, { ok: true, value: { shipmentId: 'SHP-1' }, ...(key === undefined ? {} : { key }) });
      });
    }

    it('a path that is not valid is named like any spec mistake', () => {
      const outcome = parseMapSettings({ entity: 'shipment', version: '1.0.0', site: 'site-a', rules, idFrom: 'shp_no,,dt' }, read);
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.match(outcome.problem, /^the mapping spec does not compile: .*id\.from\[1\].*must not be empty/);
    });
  });

  const refused: Array<[string, MapConfig, RegExp | string]> = [
    ['no site id', { entity: 'shipment', version: '1.0.0', site: '', rules }, 'no site id configured'],
    ['no site member at all', { entity: 'shipment', version: '1.0.0', rules }, 'no site id configured'],
    ['an env site that is not set', { entity: 'shipment', version: '1.0.0', site: 'SITE_UNSET', siteType: 'env', rules }, 'environment variable SITE_UNSET (the site id) is not set'],
    ['an env site set empty', { entity: 'shipment', version: '1.0.0', site: 'EMPTY', siteType: 'env', rules }, 'environment variable EMPTY (the site id) is not set'],
    ['a spec that does not compile', { entity: 'shipment', version: '1.0.0', site: 'site-a', rules: [{ to: '__proto__.polluted', value: true }] }, /^the mapping spec does not compile: /],
    ['a spec that does not compile is named before a missing site', { entity: 'shipment', version: '1.0.0', rules: 'none' }, /^the mapping spec does not compile: /],
  ];
  for (const [name, config, problem] of refused) {
    it(name, () => {
      const outcome = parseMapSettings(config, read);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      if (typeof problem === 'string') assert.equal(outcome.problem, problem);
      else assert.match(outcome.problem, problem);
    });
  }
});
