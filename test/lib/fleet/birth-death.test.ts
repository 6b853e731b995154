import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'mocha';
import { BirthAndDeath } from '../../../lib/fleet/birth-death';
import { parseSiteId, siteOfHealthTopic, stateTopic } from '../../../lib/fleet/health-topics';
import { SessionCounter } from '../../../lib/fleet/session-counter';
import { parseSiteState } from '../../../lib/fleet/site-state';

describe('fleet: birth, death and the session counter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tectonic-birth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const now = (): Date => new Date('2026-12-07T10:00:00.000Z');

  it('the will carries the session the coming connection will have; birth takes it, on disk', () => {
    const file = join(dir, 'a', 'session');
    const health = new BirthAndDeath('fra', new SessionCounter(file), now);
    const will = health.will();
    assert.equal(will.topic, 'tectonic/health/fra/state');
    assert.equal(will.retain, true);
    assert.equal(will.qos, 1);
    assert.deepEqual(JSON.parse(will.payload), { state: 'offline', session: 1, since: '2026-12-07T10:00:00.000Z', reason: 'connection-lost' });
    assert.deepEqual(JSON.parse(health.birth().payload), { state: 'online', session: 1, since: '2026-12-07T10:00:00.000Z' });
    assert.equal(readFileSync(file, 'utf8').trim(), '1');
    assert.deepEqual(JSON.parse(health.death().payload), { state: 'offline', session: 1, since: '2026-12-07T10:00:00.000Z', reason: 'shutdown' });
    assert.equal((JSON.parse(health.will().payload) as { session: number }).session, 2);
  });

  it('the counter grows across restarts (a new SessionCounter on the same file)', () => {
    const file = join(dir, 'b', 'session');
    const first = new SessionCounter(file);
    first.commit();
    first.commit();
    const second = new SessionCounter(file);
    assert.equal(second.current, 2);
    assert.equal(second.commit(), 3);
  });

  it('a damaged counter file starts again from 0 instead of failing the bus', () => {
    const file = join(dir, 'c-session');
    writeFileSync(file, 'not a number');
    assert.equal(new SessionCounter(file).current, 0);
  });

  it('site ids follow the topic-level rule; an unset variable is named', () => {
    assert.deepEqual(parseSiteId(' fra-1 '), { ok: true, value: 'fra-1' });
    assert.deepEqual(parseSiteId(''), { ok: true, value: '' });
    for (const bad of ['a/b', '+', '#', '-x', 'x'.repeat(65)]) assert.equal(parseSiteId(bad).ok, false, bad);
    const unset = parseSiteId('${SITE_ID}');
    assert.ok(!unset.ok && /SITE_ID is not set/.test(unset.reasons[0]?.message ?? ''));
    assert.equal(siteOfHealthTopic(stateTopic('fra')), 'fra');
    assert.equal(siteOfHealthTopic('tectonic/health/+/state'), undefined);
  });

  it('a state message is parsed strictly; junk, huge and prototype-polluting ones are refused with a reason', () => {
    assert.deepEqual(parseSiteState('{"state":"online","session":3,"since":"2026-12-07T10:00:00Z"}'), {
      ok: true,
      value: { state: 'online', session: 3, since: '2026-12-07T10:00:00Z' },
    });
    for (const bad of ['', 'null', '[]', '{"state":"up","session":1,"since":"2026-12-07T10:00:00Z"}', '{"state":"online","session":-1,"since":"x"}', '{"__proto__":{"x":1}}', `{"state":"online","pad":"${'x'.repeat(5000)}"}`]) {
      const parsed = parseSiteState(bad);
      assert.equal(parsed.ok, false, bad.slice(0, 40));
      if (!parsed.ok) assert.ok(parsed.reasons.length > 0);
    }
  });
});
