// Canonical topics cdm/{entity}/v{major}/{site}, the filters a subscriber
// asks for, and MQTT topic matching [MQTT-4.7] including $share [MQTT-4.8.2].
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  type SubscriptionSelection,
  canonicalTopic,
  parseCanonicalTopic,
  parseMajors,
  subscriptionFilters,
  topicDisagreement,
  topicMatches,
} from '../../../lib/envelope/topics';

describe('canonicalTopic', () => {
  const cases: Array<[{ entity: string; version: string; site: string }, string]> = [
    [{ entity: 'shipment', version: '1.2.0', site: 'site-a' }, 'cdm/shipment/v1/site-a'],
    [{ entity: 'order', version: '0.9.1', site: 'b' }, 'cdm/order/v0/b'],
    [{ entity: 'order', version: '12.0.0-rc.1', site: 'b.c' }, 'cdm/order/v12/b.c'],
  ];
  for (const [envelope, topic] of cases) {
    it(`${envelope.entity}@${envelope.version} at ${envelope.site} -> ${topic}`, () => {
      assert.equal(canonicalTopic(envelope), topic);
    });
  }
});

describe('parseCanonicalTopic', () => {
  const cases: Array<[string, ReturnType<typeof parseCanonicalTopic>]> = [
    ['cdm/shipment/v1/site-a', { entity: 'shipment', major: 1, site: 'site-a' }],
    ['cdm/order/v0/b', { entity: 'order', major: 0, site: 'b' }],
    ['cdm/order/v12/b.c', { entity: 'order', major: 12, site: 'b.c' }],
    ['cdm/shipment/1/site-a', undefined],
    ['cdm/shipment/v1', undefined],
    ['cdm/shipment/v1/site-a/extra', undefined],
    ['cdm//v1/site-a', undefined],
    ['cdm/shipment/v1/', undefined],
    ['cdm/shipment/vx/site-a', undefined],
    ['other/shipment/v1/site-a', undefined],
    ['/cdm/shipment/v1/site-a', undefined],
    ['', undefined],
  ];
  for (const [topic, expected] of cases) {
    it(`"${topic}"`, () => assert.deepEqual(parseCanonicalTopic(topic), expected));
  }

  it('round trips canonicalTopic', () => {
    assert.deepEqual(parseCanonicalTopic(canonicalTopic({ entity: 'shipment', version: '3.1.4', site: 'x' })), { entity: 'shipment', major: 3, site: 'x' });
  });
});

describe('subscriptionFilters', () => {
  const accepted: Array<[SubscriptionSelection, string[]]> = [
    [{}, ['cdm/+/+/+']],
    [{ entity: '', majors: [], site: '', group: '' }, ['cdm/+/+/+']],
    [{ entity: 'shipment' }, ['cdm/shipment/+/+']],
    [{ site: 'site-a' }, ['cdm/+/+/site-a']],
    [{ entity: ' shipment ', site: ' site-a ' }, ['cdm/shipment/+/site-a']],
    [{ entity: 'shipment', majors: [1] }, ['cdm/shipment/v1/+']],
    [{ entity: 'shipment', majors: [2, 1, 2, 0] }, ['cdm/shipment/v0/+', 'cdm/shipment/v1/+', 'cdm/shipment/v2/+']],
    [{ entity: 'shipment', majors: [1], site: 'a', group: 'workers' }, ['$share/workers/cdm/shipment/v1/a']],
    [{ majors: [1, 2], group: 'g' }, ['$share/g/cdm/+/v1/+', '$share/g/cdm/+/v2/+']],
  ];
  for (const [selection, filters] of accepted) {
    it(`${JSON.stringify(selection)} -> ${filters.join(', ')}`, () => {
      assert.deepEqual(subscriptionFilters(selection), { ok: true, value: filters });
    });
  }

  const refused: Array<[SubscriptionSelection, Array<[string, string]>]> = [
    [{ entity: 'ship/ment' }, [['entity', 'pattern']]],
    [{ entity: '#' }, [['entity', 'pattern']]],
    [{ entity: '+' }, [['entity', 'pattern']]],
    [{ site: 'a+b' }, [['site', 'pattern']]],
    [{ site: '$SYS' }, [['site', 'pattern']]],
    [{ group: 'a/b' }, [['group', 'pattern']]],
    [{ majors: [-1] }, [['versions', 'type']]],
    [{ majors: [1.5] }, [['versions', 'type']]],
    [{ majors: [Number.NaN] }, [['versions', 'type']]],
    [{ entity: 'a b', site: '#', group: '+', majors: [-2] }, [['entity', 'pattern'], ['site', 'pattern'], ['group', 'pattern'], ['versions', 'type']]],
  ];
  for (const [selection, expected] of refused) {
    it(`refuses ${JSON.stringify(selection)}`, () => {
      const checked = subscriptionFilters(selection);
      assert.equal(checked.ok, false);
      if (!checked.ok) assert.deepEqual(checked.reasons.map((r) => [r.path, r.rule]), expected);
    });
  }

  it('every filter it builds matches the canonical topic it selects', () => {
    const checked = subscriptionFilters({ entity: 'shipment', majors: [1, 2], site: 'site-a', group: 'g' });
    assert.ok(checked.ok);
    const topic = canonicalTopic({ entity: 'shipment', version: '2.0.0', site: 'site-a' });
    assert.deepEqual(checked.value.map((f) => topicMatches(f, topic)), [false, true]);
  });
});

describe('parseMajors', () => {
  const accepted: Array<[string, number[]]> = [
    ['', []],
    ['   ', []],
    ['1', [1]],
    ['1, 2', [1, 2]],
    ['1,2', [1, 2]],
    ['v1 V2\t3', [1, 2, 3]],
    [' ,1,, 2 ,', [1, 2]],
    ['0', [0]],
    ['999999', [999999]],
    ['2, 1, 2', [2, 1, 2]],
  ];
  for (const [list, majors] of accepted) {
    it(`"${list}" -> [${majors.join(', ')}]`, () => assert.deepEqual(parseMajors(list), { ok: true, value: majors }));
  }

  const refused: Array<[string, string]> = [
    ['1.2', '1.2'],
    ['x', 'x'],
    ['1, -2', '-2'],
    ['1000000', '1000000'],
    ['1;2', '1;2'],
    ['vv1', 'vv1'],
  ];
  for (const [list, part] of refused) {
    it(`refuses "${list}"`, () => {
      const checked = parseMajors(list);
      assert.equal(checked.ok, false);
      if (checked.ok) return;
      assert.equal(checked.reasons.length, 1);
      assert.equal(checked.reasons[0]?.path, 'versions');
      assert.equal(checked.reasons[0]?.rule, 'format');
      assert.ok(checked.reasons[0]?.message.includes(`"${part}"`), checked.reasons[0]?.message);
    });
  }
});

describe('topicMatches [MQTT-4.7]', () => {
  // [filter, topic, matches]; the non-normative examples of MQTT 3.1.1 section 4.7 among them.
  const cases: Array<[string, string, boolean]> = [
    ['sport/tennis/player1', 'sport/tennis/player1', true],
    ['sport/tennis/player1', 'sport/tennis/player2', false],
    ['sport/tennis/player1', 'sport/tennis', false],
    ['sport/tennis', 'sport/tennis/player1', false],
    ['Sport', 'sport', false],
    // Multi-level wildcard [MQTT-4.7.1-2]: the parent level too.
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/tennis/player1/#', 'sport/tennis/player2', false],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['#', '/', true],
    // Single-level wildcard [MQTT-4.7.1-3].
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+/tennis/#', 'sport/tennis/player1', true],
    ['+', 'sport', true],
    // Empty levels are levels [MQTT-4.7.3].
    ['sport//tennis', 'sport//tennis', true],
    ['sport/+/tennis', 'sport//tennis', true],
    ['sport/tennis', 'sport/tennis/', false],
    // Topics starting with $ [MQTT-4.7.2-1].
    ['#', '$SYS/broker/clients', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['+', '$SYS', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['$SYS', '$SYS', true],
    ['cdm/#', 'cdm/$x', true],
    ['cdm/+', 'cdm/$x', true],
    // Canonical topics.
    ['cdm/shipment/v1/+', 'cdm/shipment/v1/site-a', true],
    ['cdm/+/+/+', 'cdm/shipment/v1/site-a', true],
    ['cdm/shipment/v1/+', 'cdm/shipment/v2/site-a', false],
    ['cdm/shipment/v1/+', 'cdm/shipment/v1/site-a/x', false],
    // Shared subscriptions match on the filter behind the group [MQTT-4.8.2].
    ['$share/g/cdm/shipment/v1/+', 'cdm/shipment/v1/site-a', true],
    ['$share/g/cdm/shipment/v1/+', 'cdm/shipment/v2/site-a', false],
    ['$share/g/#', 'cdm/shipment/v1/site-a', true],
    ['$share/g/#', '$SYS/x', false],
    ['$share/g/+/x', '$SYS/x', false],
    ['$share/g/$SYS/#', '$SYS/x', true],
    ['$share/g/cdm/#', '$share/g/cdm/x', false],
  ];
  for (const [filter, topic, matches] of cases) {
    it(`"${filter}" ${matches ? 'matches' : 'does not match'} "${topic}"`, () => {
      assert.equal(topicMatches(filter, topic), matches);
    });
  }
});

describe('topicDisagreement', () => {
  const envelope = { entity: 'shipment', version: '1.2.0', site: 'site-a' };
  const cases: Array<[string, { entity: string; version: string; site: string }, Array<[string, string]>]> = [
    ['cdm/shipment/v1/site-a', envelope, []],
    ['cdm/order/v1/site-a', envelope, [['cdm.entity', 'topic']]],
    ['cdm/shipment/v2/site-a', envelope, [['cdm.version', 'topic']]],
    ['cdm/shipment/v1/site-b', envelope, [['cdm.site', 'topic']]],
    ['cdm/order/v2/site-b', envelope, [['cdm.entity', 'topic'], ['cdm.version', 'topic'], ['cdm.site', 'topic']]],
    ['cdm/shipment/v1', envelope, [['topic', 'pattern']]],
    ['shipments', envelope, [['topic', 'pattern']]],
  ];
  for (const [topic, env, expected] of cases) {
    it(`"${topic}" against ${env.entity}@${env.version} at ${env.site}`, () => {
      assert.deepEqual(topicDisagreement(topic, env).map((r) => [r.path, r.rule]), expected);
    });
  }

  it('the messages name both sides', () => {
    assert.deepEqual(topicDisagreement('cdm/order/v2/site-b', envelope).map((r) => r.message), [
      'is "shipment" but the topic says "order"',
      'is 1.2.0 but the topic says v2',
      'is "site-a" but the topic says "site-b"',
    ]);
  });
});
