import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../../lib/broker/password-hash';

describe('lib/broker/password-hash', () => {
  it('a hash verifies its password and no other', async () => {
    const text = await hashPassword('s3cret pass', { N: 1024, r: 8, p: 1 });
    assert.match(text, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const parsed = parsePasswordHash(text);
    assert.ok(parsed.ok);
    assert.equal(await verifyPassword('s3cret pass', parsed.value), true);
    assert.equal(await verifyPassword('s3cret pas', parsed.value), false);
    assert.equal(await verifyPassword(Buffer.from('s3cret pass'), parsed.value), true);
  });
  it('two hashes of one password differ (random salt)', async () => {
    assert.notEqual(await hashPassword('x', { N: 1024, r: 8, p: 1 }), await hashPassword('x', { N: 1024, r: 8, p: 1 }));
  });
  const refused: [string, RegExp][] = [
    ['', /scrypt\$N\$r\$p\$salt\$hash/],
    ['bcrypt$10$abc', /scrypt\$N/],
    ['scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', /power of two/],
    [`scrypt$${2 ** 24}$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==`, /power of two from 2 to 1048576/],
    ['scrypt$1024$99$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', /r must/],
    ['scrypt$1024$8$1$not base64!$aGFzaGhhc2hoYXNoaGFzaA==', /base64/],
    ['scrypt$1024$8$1$c2E=$aGFzaGhhc2hoYXNoaGFzaA==', /salt must be 8 bytes/],
  ];
  for (const [text, message] of refused) {
    it(`refuses "${text.slice(0, 40)}"`, () => {
      const parsed = parsePasswordHash(text);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.match(parsed.reasons[0]?.message ?? '', message);
    });
  }
});
