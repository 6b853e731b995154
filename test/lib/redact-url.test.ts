import assert from 'node:assert/strict';
import { maskUrlPasswords } from '../../lib/redact-url';

describe('lib/redact-url: passwords in URLs are masked', () => {
  const cases: Array<[string, string]> = [
    ['mqtt://user:pass@host:1883', 'mqtt://user:***@host:1883'],
    ['mqtts://site-fra:s3cr3t!@bus.example/', 'mqtts://site-fra:***@bus.example/'],
    ['ws://u:p@ss@127.0.0.1:9001/mqtt', 'ws://u:***@127.0.0.1:9001/mqtt'],
    ['https://:token@hq.example/cdm.json?x=a:b@c', 'https://:***@hq.example/cdm.json?x=a:b@c'],
    ['connecting to mqtt://a:b@h1 and mqtt://c:d@h2 failed', 'connecting to mqtt://a:***@h1 and mqtt://c:***@h2 failed'],
    ['mqtt://user@host', 'mqtt://user@host'],
    ['mqtt://host:1883', 'mqtt://host:1883'],
    ['no url here: a:b@c', 'no url here: a:b@c'],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.equal(maskUrlPasswords(input), expected));
  }

  it('a long hostile text is masked quickly', () => {
    const text = `mqtt://${'a'.repeat(100_000)}:${'b:'.repeat(50_000)}`;
    const start = Date.now();
    maskUrlPasswords(text);
    assert.ok(Date.now() - start < 500);
  });
});
