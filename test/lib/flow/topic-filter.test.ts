// checkTopicFilter: the records kind's topic field, checked against the MQTT
// rules for filters before the broker sees it.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { checkTopicFilter } from '../../../lib/flow/topic-filter';

describe('checkTopicFilter', () => {
  const valid: Array<[string, { filter: string; group?: string; match: string }]> = [
    ['site/fra/wms/#', { filter: 'site/fra/wms/#', match: 'site/fra/wms/#' }],
    ['site/+/wms/orders', { filter: 'site/+/wms/orders', match: 'site/+/wms/orders' }],
    ['#', { filter: '#', match: '#' }],
    ['+', { filter: '+', match: '+' }],
    ['/leading/slash', { filter: '/leading/slash', match: '/leading/slash' }],
    ['  site/fra  ', { filter: 'site/fra', match: 'site/fra' }],
    ['$SYS/broker/#', { filter: '$SYS/broker/#', match: '$SYS/broker/#' }],
    ['$share/wms-workers/site/fra/wms/#', { filter: '$share/wms-workers/site/fra/wms/#', group: 'wms-workers', match: 'site/fra/wms/#' }],
    ['werk/Köln/°C', { filter: 'werk/Köln/°C', match: 'werk/Köln/°C' }],
  ];
  for (const [text, value] of valid) {
    it(`accepts "${text}"`, () => assert.deepEqual(checkTopicFilter(text), { ok: true, value }));
  }

  const invalid: Array<[string, string, RegExp]> = [
    ['', 'required', /is empty/],
    ['   ', 'required', /is empty/],
    ['site/#/wms', 'pattern', /"#" must be the whole last level/],
    ['site/fra#', 'pattern', /"#" must be the whole last level/],
    ['site/fra+/wms', 'pattern', /"\+" must be a whole level/],
    ['site/\u0000', 'pattern', /NUL/],
    ['$share/', 'pattern', /\$share\/\{group\}\/\{filter\}/],
    ['$share/group-only', 'pattern', /\$share\/\{group\}\/\{filter\}/],
    ['$share//site/#', 'pattern', /the group "" must be/],
    ['$share/a+b/site/#', 'pattern', /the group "a\+b" must be/],
    ['$share/g/', 'required', /the filter after \$share\/g\/ is empty/],
    ['$share/g/site/#/x', 'pattern', /"#" must be the whole last level/],
    ['x'.repeat(65_536), 'maxLength', /longer than 65535 bytes/],
  ];
  for (const [text, rule, message] of invalid) {
    it(`refuses "${text.length > 40 ? `${text.slice(0, 10)}... (${text.length} characters)` : text}"`, () => {
      const checked = checkTopicFilter(text);
      assert.equal(checked.ok, false);
      if (checked.ok) return;
      assert.equal(checked.reasons[0]?.path, 'topic');
      assert.equal(checked.reasons[0]?.rule, rule);
      assert.match(checked.reasons[0]?.message ?? '', message);
    });
  }
});
