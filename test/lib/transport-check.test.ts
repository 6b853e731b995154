import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBundle, parseBundleText, type PolicyBundle } from '../../lib/policy/bundle-format';
import { plaintextTransportRefusal } from '../../lib/policy/transport-check';

function bundle(text: string): PolicyBundle {
  const parsed = parseBundleText(text);
  assert.ok(parsed.ok);
  const checked = checkBundle(parsed.ok ? parsed.value : undefined);
  if (!checked.ok) assert.fail(JSON.stringify(checked.reasons));
  return checked.value;
}

describe('lib/policy/transport-check: bus-publish refuses plaintext when the policy requires TLS', () => {
  const requiresTls = { bundle: bundle(readFileSync(join(__dirname, '../../policies/central-default.yaml'), 'utf8')) };
  const scoped = {
    bundle: bundle(['id: t', 'version: 1', 'issuedAt: 2026-01-01T00:00:00Z', 'expiresAt: 2027-01-01T00:00:00Z', 'rules:', '  - transport: { tls: required, entity: lab-result }'].join('\n')),
  };
  const cdm = { entity: 'shipment', version: '1.1.0', site: 'fra' };
  const cases: Array<[string, string, { bundle: PolicyBundle } | undefined, unknown, RegExp | undefined]> = [
    ['plaintext MQTT to another host', 'mqtt://bus.example:1883', requiresTls, cdm, /plaintext \(mqtt:\/\/\) to bus\.example/],
    ['plaintext WebSocket to another host', 'ws://10.0.0.7:9001/mqtt', requiresTls, cdm, /plaintext \(ws:\/\/\) to 10\.0\.0\.7/],
    ['the embedded broker bound to every interface', 'mqtt://0.0.0.0:1883', requiresTls, cdm, /plaintext/],
    ['mqtts', 'mqtts://bus.example:8883', requiresTls, cdm, undefined],
    ['wss', 'wss://bus.example/mqtt', requiresTls, cdm, undefined],
    ['plaintext on loopback (127.0.0.1)', 'mqtt://127.0.0.1:1883', requiresTls, cdm, undefined],
    ['plaintext on loopback (::1)', 'mqtt://[::1]:1883', requiresTls, cdm, undefined],
    ['plaintext on loopback (localhost)', 'mqtt://localhost:1883', requiresTls, cdm, undefined],
    ['no policy named', 'mqtt://bus.example:1883', undefined, cdm, undefined],
    ['a rule scoped to another entity', 'mqtt://bus.example:1883', scoped, cdm, undefined],
    ['a rule scoped to this entity', 'mqtt://bus.example:1883', scoped, { ...cdm, entity: 'lab-result' }, /requires TLS/],
    ['an unreadable URL', 'not a url', requiresTls, cdm, /cannot be read/],
  ];
  for (const [what, url, policy, envelope, expected] of cases) {
    it(what, () => {
      const refusal = plaintextTransportRefusal(url, policy, envelope);
      if (expected === undefined) assert.equal(refusal, undefined);
      else {
        assert.equal(refusal?.path, 'transport.tls');
        assert.match(refusal?.rule ?? '', /^rules\[\d+\]\.transport$/);
        assert.match(refusal?.message ?? '', expected);
      }
    });
  }
});
