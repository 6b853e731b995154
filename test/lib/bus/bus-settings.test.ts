// resolveBusSettings: the tectonic-bus editor fields, after Node-RED's ${ENV}
// substitution, turned into checked settings or plain reasons.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { type BusSettings, type RawBusConfig, dialHost, embeddedUrl, generatedClientId, resolveBusSettings } from '../../../lib/bus/bus-settings';

function resolved(raw: RawBusConfig): BusSettings {
  const checked = resolveBusSettings(raw);
  assert.ok(checked.ok, checked.ok ? '' : JSON.stringify(checked.reasons));
  return checked.value;
}

function refused(raw: RawBusConfig): Array<[string, string]> {
  const checked = resolveBusSettings(raw);
  assert.equal(checked.ok, false, 'the config should be refused');
  return checked.ok ? [] : checked.reasons.map((r) => [r.path, r.rule]);
}

describe('resolveBusSettings: accepted configs', () => {
  it('an empty config is an embedded broker on 127.0.0.1:1883, MQTT 3.1.1, keepalive 30, a generated client id', () => {
    const { clientId, ...rest } = resolved({});
    assert.deepEqual(rest, { mode: 'embedded', host: '127.0.0.1', port: 1883, url: '', protocolVersion: 4, keepaliveSeconds: 30, session: 'persistent', persistence: 'disk' });
    assert.match(clientId, /^tectonic_[0-9a-f]{8}$/);
  });

  it('empty strings take the defaults too', () => {
    const { clientId, ...rest } = resolved({ mode: '', host: '  ', port: '', url: '', protocolVersion: '', clientId: ' ', keepalive: '' });
    assert.deepEqual(rest, { mode: 'embedded', host: '127.0.0.1', port: 1883, url: '', protocolVersion: 4, keepaliveSeconds: 30, session: 'persistent', persistence: 'disk' });
    assert.match(clientId, /^tectonic_[0-9a-f]{8}$/);
  });

  const cases: Array<[string, RawBusConfig, Partial<BusSettings>]> = [
    ['embedded, port as a string', { mode: 'embedded', port: '1884' }, { mode: 'embedded', port: 1884 }],
    ['embedded, port as a number', { port: 1885 }, { port: 1885 }],
    ['embedded, port 0 (tests)', { port: '0' }, { port: 0 }],
    ['embedded, port 65535', { port: '65535' }, { port: 65535 }],
    ['embedded, a padded port', { port: ' 1886 ' }, { port: 1886 }],
    ['embedded, host 0.0.0.0', { host: '0.0.0.0' }, { host: '0.0.0.0' }],
    ['embedded, host ::', { host: '::' }, { host: '::' }],
    ['embedded forces MQTT 3.1.1 when 5 is asked for', { mode: 'embedded', protocolVersion: '5' }, { protocolVersion: 4 }],
    ['embedded forces MQTT 3.1.1 when 5 is asked for as a number', { protocolVersion: 5 }, { protocolVersion: 4 }],
    ['external mqtt://', { mode: 'external', url: 'mqtt://broker.example:1883' }, { mode: 'external', url: 'mqtt://broker.example:1883', protocolVersion: 4 }],
    ['external mqtts://', { mode: 'external', url: 'mqtts://broker.example:8883' }, { url: 'mqtts://broker.example:8883' }],
    ['external ws://', { mode: 'external', url: 'ws://broker.example/mqtt' }, { url: 'ws://broker.example/mqtt' }],
    ['external wss://', { mode: 'external', url: ' wss://broker.example/mqtt ' }, { url: 'wss://broker.example/mqtt' }],
    ['external MQTT 5', { mode: 'external', url: 'mqtt://127.0.0.1', protocolVersion: '5' }, { protocolVersion: 5 }],
    ['external MQTT 3.1.1', { mode: 'external', url: 'mqtt://127.0.0.1', protocolVersion: 4 }, { protocolVersion: 4 }],
    ['external ignores a port it does not use', { mode: 'external', url: 'mqtt://127.0.0.1', port: 'x' }, { mode: 'external' }],
    ['a given client id', { clientId: ' site-a_node.1 ' }, { clientId: 'site-a_node.1' }],
    ['a 128-character client id', { clientId: 'c'.repeat(128) }, { clientId: 'c'.repeat(128) }],
    ['keepalive 0 (off)', { keepalive: '0' }, { keepaliveSeconds: 0 }],
    ['keepalive 65535', { keepalive: 65535 }, { keepaliveSeconds: 65535 }],
    ['a clean session when asked', { session: 'clean' }, { session: 'clean' }],
    ['broker state in memory when asked', { persistence: 'memory' }, { persistence: 'memory' }],
    ['only a whole-value ${NAME} counts as an unset variable', { mode: 'external', url: 'ws://127.0.0.1/${PATH}' }, { url: 'ws://127.0.0.1/${PATH}' }],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => {
      const settings = resolved(raw);
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(settings[key as keyof BusSettings], value, key);
    });
  }
});

describe('resolveBusSettings: refused configs', () => {
  const cases: Array<[string, RawBusConfig, Array<[string, string]>]> = [
    ['an unknown mode', { mode: 'cloud' }, [['mode', 'enum']]],
    ['a port above 65535', { port: '65536' }, [['port', 'range']]],
    ['a negative port', { port: '-1' }, [['port', 'range']]],
    ['a negative numeric port', { port: -1 }, [['port', 'range']]],
    ['a fractional port', { port: 1883.5 }, [['port', 'range']]],
    ['a port that is not a number', { port: 'mqtt' }, [['port', 'range']]],
    ['a port in hex', { port: '0x75b' }, [['port', 'range']]],
    ['external without a url', { mode: 'external' }, [['url', 'format']]],
    ['external with a blank url', { mode: 'external', url: '  ' }, [['url', 'format']]],
    ['external with a host name only', { mode: 'external', url: 'broker.example:1883' }, [['url', 'scheme']]],
    ['external with text', { mode: 'external', url: 'not a url' }, [['url', 'format']]],
    ['external over http', { mode: 'external', url: 'http://broker.example' }, [['url', 'scheme']]],
    ['external over tcp', { mode: 'external', url: 'tcp://broker.example:1883' }, [['url', 'scheme']]],
    ['protocol version 3', { protocolVersion: '3' }, [['protocolVersion', 'enum']]],
    ['protocol version 5.0', { mode: 'external', url: 'mqtt://x', protocolVersion: '5.0' }, [['protocolVersion', 'enum']]],
    ['a client id with a space', { clientId: 'site a' }, [['clientId', 'pattern']]],
    ['a client id with a slash', { clientId: 'site/a' }, [['clientId', 'pattern']]],
    ['a 129-character client id', { clientId: 'c'.repeat(129) }, [['clientId', 'pattern']]],
    ['a client id that is almost a variable', { clientId: 'a${B}c' }, [['clientId', 'pattern']]],
    ['a keepalive above 65535', { keepalive: '65536' }, [['keepalive', 'range']]],
    ['a negative keepalive', { keepalive: '-5' }, [['keepalive', 'range']]],
    ['a keepalive with a unit', { keepalive: '30s' }, [['keepalive', 'range']]],
    ['several problems at once', { mode: 'embedded', port: 'x', protocolVersion: '6', clientId: '!', keepalive: 'y' }, [['port', 'range'], ['protocolVersion', 'enum'], ['clientId', 'pattern'], ['keepalive', 'range']]],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => assert.deepEqual(refused(raw), expected));
  }

  it('the reasons quote what was written', () => {
    const checked = resolveBusSettings({ port: '70000', mode: 'external', url: 'http://x' });
    assert.equal(checked.ok, false);
    if (checked.ok) return;
    assert.deepEqual(checked.reasons, [{ path: 'url', rule: 'scheme', message: 'must start with mqtt://, mqtts://, ws:// or wss://, got "http://"' }]);
    const port = resolveBusSettings({ port: '70000' });
    assert.deepEqual(port, { ok: false, reasons: [{ path: 'port', rule: 'range', message: 'must be a port number from 0 to 65535, got "70000"' }] });
  });
});

describe('resolveBusSettings: unset ${ENV} values', () => {
  const cases: Array<[string, RawBusConfig, Array<[string, string]>]> = [
    ['the url', { mode: 'external', url: '${BUS_URL}' }, [['url', 'environment variable BUS_URL is not set']]],
    ['the port, padded', { port: ' ${BUS_PORT} ' }, [['port', 'environment variable BUS_PORT is not set']]],
    ['the mode', { mode: '${BUS_MODE}' }, [['mode', 'environment variable BUS_MODE is not set']]],
    ['the client id', { clientId: '${HOSTNAME}' }, [['clientId', 'environment variable HOSTNAME is not set']]],
    [
      'several, each named, and nothing else checked',
      { mode: '${M}', url: '${U}', keepalive: '${K}', port: 'bad' },
      [['mode', 'environment variable M is not set'], ['url', 'environment variable U is not set'], ['keepalive', 'environment variable K is not set']],
    ],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => {
      const checked = resolveBusSettings(raw);
      assert.equal(checked.ok, false);
      if (checked.ok) return;
      assert.deepEqual(checked.reasons.map((r) => [r.path, r.message]), expected);
      for (const r of checked.reasons) assert.equal(r.rule, 'env');
    });
  }
});

describe('dialHost and embeddedUrl', () => {
  const hosts: Array<[string, string]> = [
    ['0.0.0.0', '127.0.0.1'],
    ['', '127.0.0.1'],
    ['::', '::1'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['localhost', 'localhost'],
    ['192.168.1.10', '192.168.1.10'],
  ];
  for (const [host, dial] of hosts) {
    it(`dialHost("${host}") = ${dial}`, () => assert.equal(dialHost(host), dial));
  }

  const urls: Array<[string, number, string]> = [
    ['127.0.0.1', 1883, 'mqtt://127.0.0.1:1883'],
    ['0.0.0.0', 1884, 'mqtt://127.0.0.1:1884'],
    ['', 1, 'mqtt://127.0.0.1:1'],
    ['::', 1883, 'mqtt://[::1]:1883'],
    ['::1', 41000, 'mqtt://[::1]:41000'],
    ['fe80::1', 1883, 'mqtt://[fe80::1]:1883'],
    ['localhost', 1883, 'mqtt://localhost:1883'],
  ];
  for (const [host, port, url] of urls) {
    it(`embeddedUrl("${host}", ${port}) = ${url}`, () => {
      assert.equal(embeddedUrl(host, port), url);
      assert.equal(new URL(url).port, String(port));
    });
  }

  it('generated client ids are valid and differ', () => {
    const ids = new Set(Array.from({ length: 20 }, () => generatedClientId()));
    assert.equal(ids.size, 20);
    for (const id of ids) assert.equal(resolveBusSettings({ clientId: id }).ok, true);
  });
});

describe('resolveBusSettings: session and broker state', () => {
  it('an unknown session or persistence is refused with its field', () => {
    const result = resolveBusSettings({ session: 'sticky', persistence: 'tape' });
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.reasons.map((r) => [r.path, r.rule]), [['session', 'enum'], ['persistence', 'enum']]);
  });

  it('an empty client id takes the stable default the node supplies', () => {
    const result = resolveBusSettings({ clientId: '' }, 'tn_0123456789abcdef');
    assert.ok(result.ok);
    if (result.ok) assert.equal(result.value.clientId, 'tn_0123456789abcdef');
  });
});
