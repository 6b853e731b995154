// CloudEvents 1.0 on MQTT: the structured JSON event and the binary-mode user
// properties are a public wire contract that other sites' code reads, so the
// attribute names are asserted exactly, not just round-tripped.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import type { CdmEnvelope } from '../../../lib/envelope/envelope';
import {
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
  STRUCTURED_CONTENT_TYPE,
  type WireMessage,
  type WireMode,
  decodeMessage,
  encodeMessage,
  eventType,
} from '../../../lib/envelope/cloudevents';
import { exceedsDepth } from '../../../lib/untrusted-json';

const required: CdmEnvelope = {
  entity: 'shipment',
  version: '1.2.0',
  site: 'site-a',
  id: '01JDTEST000001',
  time: '2026-11-24T07:00:01.250Z',
  source: 'urn:tectonic:site-a:erp',
};
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const full: CdmEnvelope = { ...required, correlationId: 'corr-1', traceparent, validated: 'shipment@1.2.0' };
const record = { shipmentId: 'SHP-1', status: 'delivered', weightKg: 12.5, carrier: { name: 'Nordfracht' }, tags: ['fragile', 'ü€'] };
const modes: WireMode[] = ['structured', 'binary'];

/** encodeMessage's text as the bytes that arrive from the bus. */
function encoded(envelope: CdmEnvelope, data: unknown, mode: WireMode): WireMessage {
  const result = encodeMessage(envelope, data, mode);
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.reasons));
  return { payload: Buffer.from(result.value.payload, 'utf8'), ...(result.value.properties !== undefined ? { properties: result.value.properties } : {}) };
}

function structured(event: Record<string, unknown>): WireMessage {
  return { payload: Buffer.from(JSON.stringify(event)), properties: { contentType: STRUCTURED_CONTENT_TYPE } };
}

/** A valid structured event as a JSON object, to break one attribute at a time. */
function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = JSON.parse(encoded(required, record, 'structured').payload.toString('utf8')) as Record<string, unknown>;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

/** A valid binary message, with user properties overridden (undefined removes one); a null content type sends none. */
function binary(overrides: Record<string, string | string[] | undefined> = {}, payload: string = JSON.stringify(record), contentType: string | null = 'application/json'): WireMessage {
  const base = encoded(required, record, 'binary');
  const userProperties = { ...base.properties?.userProperties };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete userProperties[key];
    else userProperties[key] = value;
  }
  return { payload: Buffer.from(payload), properties: contentType === null ? { userProperties } : { contentType, userProperties } };
}

function nested(open: string, close: string, depth: number, inner = '1'): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

function reasonsOf(wire: WireMessage, limits?: DecodeLimits): Array<[string, string]> {
  const decoded = decodeMessage(wire, limits);
  assert.equal(decoded.ok, false, 'the message should be refused');
  return decoded.ok ? [] : decoded.reasons.map((r) => [r.path, r.rule]);
}

describe('encodeMessage: the wire contract', () => {
  it('structured mode: one JSON event with these attribute names, in this order', () => {
    const wire = encoded(full, record, 'structured');
    assert.deepEqual(wire.properties, { contentType: 'application/cloudevents+json' });
    assert.equal(
      wire.payload.toString('utf8'),
      JSON.stringify({
        specversion: '1.0',
        type: 'tectonic.cdm.shipment.v1',
        datacontenttype: 'application/json',
        dataschema: 'urn:tectonic:cdm:shipment:1.2.0',
        id: '01JDTEST000001',
        source: 'urn:tectonic:site-a:erp',
        time: '2026-11-24T07:00:01.250Z',
        cdmentity: 'shipment',
        cdmversion: '1.2.0',
        cdmsite: 'site-a',
        correlationid: 'corr-1',
        traceparent,
        cdmvalidated: 'shipment@1.2.0',
        data: record,
      }),
    );
  });

  it('structured mode leaves out optional attributes that are not set', () => {
    const wire = encoded(required, 'x', 'structured');
    assert.deepEqual(Object.keys(JSON.parse(wire.payload.toString('utf8')) as object), [
      'specversion', 'type', 'datacontenttype', 'dataschema', 'id', 'source', 'time', 'cdmentity', 'cdmversion', 'cdmsite', 'data',
    ]);
  });

  it('binary mode: the data alone, attributes as MQTT 5 user properties', () => {
    const wire = encoded(full, record, 'binary');
    assert.equal(wire.payload.toString('utf8'), JSON.stringify(record));
    assert.equal(wire.properties?.contentType, 'application/json');
    assert.deepEqual(wire.properties?.userProperties, {
      specversion: '1.0',
      type: 'tectonic.cdm.shipment.v1',
      dataschema: 'urn:tectonic:cdm:shipment:1.2.0',
      id: '01JDTEST000001',
      source: 'urn:tectonic:site-a:erp',
      time: '2026-11-24T07:00:01.250Z',
      cdmentity: 'shipment',
      cdmversion: '1.2.0',
      cdmsite: 'site-a',
      correlationid: 'corr-1',
      traceparent,
      cdmvalidated: 'shipment@1.2.0',
    });
  });

  it('binary mode leaves out optional attributes that are not set', () => {
    const wire = encoded(required, record, 'binary');
    assert.deepEqual(Object.keys(wire.properties?.userProperties ?? {}).sort(), [
      'cdmentity', 'cdmsite', 'cdmversion', 'dataschema', 'id', 'source', 'specversion', 'time', 'type',
    ]);
  });

  const types: Array<[string, string, string]> = [
    ['shipment', '1.2.0', 'tectonic.cdm.shipment.v1'],
    ['order', '0.1.0', 'tectonic.cdm.order.v0'],
    ['order', '12.0.0-rc.1', 'tectonic.cdm.order.v12'],
  ];
  for (const [entity, version, type] of types) {
    it(`eventType(${entity}@${version}) = ${type}`, () => assert.equal(eventType({ entity, version }), type));
  }

  const unencodable: Array<[string, unknown, Array<[string, string]>]> = [
    ['undefined', undefined, [['payload', 'required']]],
    ['a BigInt', 10n, [['payload', 'json']]],
    ['a circular object', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })(), [['payload', 'json']]],
    ['a function', () => 1, [['payload', 'json']]],
    ['a symbol', Symbol('x'), [['payload', 'json']]],
  ];
  for (const mode of modes) {
    for (const [name, data, expected] of unencodable) {
      it(`${mode} mode refuses ${name} as data, as a reason, not a throw`, () => {
        const result = encodeMessage(required, data, mode);
        assert.equal(result.ok, false);
        if (!result.ok) assert.deepEqual(result.reasons.map((r) => [r.path, r.rule]), expected);
      });
    }
  }
});

describe('encodeMessage: the structured event is the attributes and the data as JSON.stringify writes them', () => {
  // The event is written from cached templates; whatever the mix of envelopes, each must come out as if stringified whole.
  const text = (plain: string[]): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...plain), fc.string({ minLength: 1, maxLength: 12 }));
  const envelope = fc.record(
    {
      entity: fc.constantFrom('shipment', 'lab-result'),
      version: fc.constantFrom('1.1.0', '2.0.0-rc.1'),
      site: fc.constantFrom('site-a', 'FRA1'),
      id: text(['01JDTEST000001', '01JDTEST000002']),
      time: fc.constantFrom('2026-11-24T07:00:01.250Z', '2026-11-24T08:00:00+01:00'),
      source: text(['urn:tectonic:site-a:erp', 'urn:"quoted"\\back', 'urn:größe']),
      correlationId: text(['corr-1', 'c\u00e9']),
      traceparent: fc.constant(traceparent),
      validated: fc.constantFrom('shipment@1.1.0', 'lab-result@2.0.0-rc.1'),
    },
    { requiredKeys: ['entity', 'version', 'site', 'id', 'time', 'source'] },
  );
  it('property-based, across entities, sources and optional attributes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(envelope, fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 8 }), (pairs) => {
        for (const [env, data] of pairs) {
          const e = env as CdmEnvelope;
          const result = encodeMessage(e, data, 'structured');
          assert.ok(result.ok);
          const attributes: Record<string, unknown> = {
            specversion: '1.0',
            type: eventType(e),
            datacontenttype: 'application/json',
            dataschema: `urn:tectonic:cdm:${e.entity}:${e.version}`,
            id: e.id,
            source: e.source,
            time: e.time,
            cdmentity: e.entity,
            cdmversion: e.version,
            cdmsite: e.site,
          };
          if (e.correlationId !== undefined) attributes.correlationid = e.correlationId;
          if (e.traceparent !== undefined) attributes.traceparent = e.traceparent;
          if (e.validated !== undefined) attributes.cdmvalidated = e.validated;
          attributes.data = data;
          assert.equal(result.value.payload, JSON.stringify(attributes));
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('encodeMessage then decodeMessage', () => {
  const data: Array<[string, unknown]> = [
    ['a record', record],
    ['unicode text', 'Größe ü € 日本語 😀 \u0000 \u2028'],
    ['unicode keys', { 'schlüssel': 'wert', '😀': ['ü'] }],
    ['null', null],
    ['zero', 0],
    ['false', false],
    ['an empty string', ''],
    ['an empty array', []],
    ['an empty object', {}],
    ['a negative float', -12.5e-3],
    ['64 levels deep', JSON.parse(nested('[', ']', 63)) as unknown],
  ];
  for (const mode of modes) {
    for (const [envelopeName, envelope] of [['required attributes', required], ['every optional attribute', full]] as const) {
      for (const [name, value] of data) {
        it(`${mode}, ${envelopeName}, ${name}`, () => {
          const decoded = decodeMessage(encoded(envelope, value, mode));
          assert.deepEqual(decoded, { ok: true, value: { envelope, data: value, mode } });
        });
      }
    }
  }

  it('each optional attribute on its own survives both modes', () => {
    for (const mode of modes) {
      for (const extra of [{ correlationId: 'c' }, { traceparent }, { validated: 'shipment@1.2.0' }]) {
        const envelope = { ...required, ...extra };
        assert.deepEqual(decodeMessage(encoded(envelope, 1, mode)), { ok: true, value: { envelope, data: 1, mode } }, `${mode} ${Object.keys(extra)[0]}`);
      }
    }
  });

  it('binary user properties that MQTT.js delivers as arrays (repeated keys) use the first value', () => {
    const wire = binary({ cdmsite: ['site-a', 'site-b'], specversion: ['1.0'] });
    assert.deepEqual(decodeMessage(wire), { ok: true, value: { envelope: required, data: record, mode: 'binary' } });
  });

  const contentTypes: Array<[string | null, string]> = [
    [null, 'no content type: JSON assumed'],
    ['application/json', 'application/json'],
    ['application/json; charset=utf-8', 'a charset parameter'],
    ['APPLICATION/JSON', 'upper case'],
    ['application/cloudevents+json', 'a +json suffix'],
  ];
  for (const [contentType, name] of contentTypes) {
    it(`binary mode accepts ${name}`, () => {
      assert.equal(decodeMessage(binary({}, JSON.stringify(record), contentType)).ok, true);
    });
  }

  it('binary mode takes the content type from a datacontenttype user property when the MQTT one is missing', () => {
    assert.deepEqual(reasonsOf(binary({ datacontenttype: 'text/csv' }, 'a,b', null)), [['contentType', 'unsupported']]);
  });

  it('a message with user properties but no specversion is read as structured', () => {
    const wire = encoded(required, record, 'structured');
    wire.properties = { ...wire.properties, userProperties: { other: 'x' } };
    assert.deepEqual(decodeMessage(wire), { ok: true, value: { envelope: required, data: record, mode: 'structured' } });
  });
});

describe('decodeMessage: malformed structured events', () => {
  const cases: Array<[string, WireMessage, Array<[string, string]>]> = [
    ['not JSON', { payload: Buffer.from('{"specversion": "1.0",') }, [['event', 'json']]],
    ['plain text', { payload: Buffer.from('hello') }, [['event', 'json']]],
    ['an empty payload', { payload: Buffer.alloc(0) }, [['event', 'json']]],
    ['invalid UTF-8', { payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, [['event', 'json']]],
    ['a JSON array', structured([event()] as unknown as Record<string, unknown>), [['event', 'type']]],
    ['JSON null', { payload: Buffer.from('null') }, [['event', 'type']]],
    ['a JSON string', { payload: Buffer.from('"event"') }, [['event', 'type']]],
    ['a JSON number', { payload: Buffer.from('42') }, [['event', 'type']]],
    ['no specversion', structured(event({ specversion: undefined })), [['event.specversion', 'const']]],
    ['specversion 0.3', structured(event({ specversion: '0.3' })), [['event.specversion', 'const']]],
    ['a numeric specversion', structured(event({ specversion: 1 })), [['event.specversion', 'const']]],
    ['no id', structured(event({ id: undefined })), [['event.id', 'required']]],
    ['no source', structured(event({ source: undefined })), [['event.source', 'required']]],
    ['no time', structured(event({ time: undefined })), [['event.time', 'required']]],
    ['no cdmentity', structured(event({ cdmentity: undefined })), [['event.cdmentity', 'required']]],
    ['no cdmversion', structured(event({ cdmversion: undefined })), [['event.cdmversion', 'required']]],
    ['no cdmsite', structured(event({ cdmsite: undefined })), [['event.cdmsite', 'required']]],
    ['a numeric id', structured(event({ id: 7 })), [['event.id', 'type']]],
    ['a bad time', structured(event({ time: 'yesterday' })), [['event.time', 'format']]],
    ['a bad cdmversion', structured(event({ cdmversion: '1' })), [['event.cdmversion', 'semver']]],
    ['a cdmentity with a wildcard', structured(event({ cdmentity: 'ship#' })), [['event.cdmentity', 'pattern']]],
    ['an empty cdmsite', structured(event({ cdmsite: '' })), [['event.cdmsite', 'minLength']]],
    ['a bad traceparent', structured(event({ traceparent: 'nope' })), [['event.traceparent', 'format']]],
    ['an empty correlationid', structured(event({ correlationid: '' })), [['event.correlationid', 'minLength']]],
    ['a numeric cdmvalidated', structured(event({ cdmvalidated: 1 })), [['event.cdmvalidated', 'type']]],
    ['msg.cdm names instead of wire names', structured(event({ cdmentity: undefined, entity: 'shipment' })), [['event.cdmentity', 'required']]],
    ['several bad attributes', structured(event({ id: '', cdmsite: 'a/b', time: 3 })), [['event.cdmsite', 'pattern'], ['event.id', 'minLength'], ['event.time', 'type']]],
    ['data_base64', structured(event({ data: undefined, data_base64: 'AAEC' })), [['event.data_base64', 'unsupported']]],
    ['data_base64 beside data', structured(event({ data_base64: 'AAEC' })), [['event.data_base64', 'unsupported']]],
    ['no data', structured(event({ data: undefined })), [['event.data', 'required']]],
  ];
  for (const [name, wire, expected] of cases) {
    it(name, () => assert.deepEqual(reasonsOf(wire), expected));
  }

  it('the reason names what the specversion was', () => {
    const decoded = decodeMessage(structured(event({ specversion: '0.3' })));
    assert.deepEqual(decoded, { ok: false, reasons: [{ path: 'event.specversion', rule: 'const', message: 'must be "1.0" (a CloudEvents 1.0 event), got "0.3"' }] });
  });

  it('data: null is a record, not missing data', () => {
    assert.deepEqual(decodeMessage(structured(event({ data: null }))), { ok: true, value: { envelope: required, data: null, mode: 'structured' } });
  });

  it('extra attributes (extensions from other producers) are ignored', () => {
    assert.deepEqual(decodeMessage(structured(event({ subject: 'x', otherext: 'y' }))), { ok: true, value: { envelope: required, data: record, mode: 'structured' } });
  });
});

describe('decodeMessage: malformed binary messages', () => {
  const cases: Array<[string, WireMessage, Array<[string, string]>]> = [
    ['payload not JSON', binary({}, '{"a":'), [['payload', 'json']]],
    ['an empty payload', binary({}, ''), [['payload', 'json']]],
    ['text/plain', binary({}, 'hello', 'text/plain'), [['contentType', 'unsupported']]],
    ['application/octet-stream', binary({}, '{}', 'application/octet-stream'), [['contentType', 'unsupported']]],
    ['application/jsonx', binary({}, '{}', 'application/jsonx'), [['contentType', 'unsupported']]],
    ['text/json', binary({}, '{}', 'text/json'), [['contentType', 'unsupported']]],
    ['specversion 0.3', binary({ specversion: '0.3' }), [['properties.specversion', 'const']]],
    ['no id', binary({ id: undefined }), [['properties.id', 'required']]],
    ['no source', binary({ source: undefined }), [['properties.source', 'required']]],
    ['no time', binary({ time: undefined }), [['properties.time', 'required']]],
    ['no cdmentity', binary({ cdmentity: undefined }), [['properties.cdmentity', 'required']]],
    ['no cdmversion', binary({ cdmversion: undefined }), [['properties.cdmversion', 'required']]],
    ['no cdmsite', binary({ cdmsite: undefined }), [['properties.cdmsite', 'required']]],
    ['a bad cdmversion', binary({ cdmversion: 'one' }), [['properties.cdmversion', 'semver']]],
    ['a bad traceparent', binary({ traceparent: '01-x' }), [['properties.traceparent', 'format']]],
    ['an id with a control character', binary({ id: 'a\u0007' }), [['properties.id', 'format']]],
    ['a cdmsite with a wildcard in the first of two values', binary({ cdmsite: ['+', 'site-a'] }), [['properties.cdmsite', 'pattern']]],
  ];
  for (const [name, wire, expected] of cases) {
    it(name, () => assert.deepEqual(reasonsOf(wire), expected));
  }

  it('any JSON value is data, arrays and strings included', () => {
    for (const payload of ['[1,2]', '"text"', 'null', '3']) {
      const decoded = decodeMessage(binary({}, payload));
      assert.deepEqual(decoded, { ok: true, value: { envelope: required, data: JSON.parse(payload) as unknown, mode: 'binary' } }, payload);
    }
  });
});

describe('decodeMessage: prototype poisoning', () => {
  const head = '"specversion":"1.0","id":"1","source":"s","time":"2026-11-24T07:00:00Z","cdmentity":"e","cdmversion":"1.0.0","cdmsite":"a"';
  const cases: Array<[string, WireMessage, Array<[string, string]>]> = [
    ['__proto__ at the top of an event', { payload: Buffer.from(`{${head},"__proto__":{"polluted":true},"data":{}}`) }, [['event', 'prototype-key']]],
    ['__proto__ inside data', { payload: Buffer.from(`{${head},"data":{"a":[{"__proto__":{"polluted":true}}]}}`) }, [['event', 'prototype-key']]],
    ['constructor.prototype inside data', { payload: Buffer.from(`{${head},"data":{"constructor":{"prototype":{"polluted":true}}}}`) }, [['event', 'prototype-key']]],
    ['an escaped __proto__ key', { payload: Buffer.from(`{${head},"data":{"\\u005f_proto__":{"polluted":true}}}`) }, [['event', 'prototype-key']]],
    ['__proto__ in a binary payload', binary({}, '{"__proto__":{"polluted":true}}'), [['payload', 'prototype-key']]],
    ['constructor.prototype in a binary payload', binary({}, '{"x":{"constructor":{"prototype":{"polluted":true}}}}'), [['payload', 'prototype-key']]],
  ];
  for (const [name, wire, expected] of cases) {
    it(`refuses ${name} and leaves Object.prototype alone`, () => {
      assert.deepEqual(reasonsOf(wire), expected);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('a constructor key that is not constructor.prototype is plain data', () => {
    const decoded = decodeMessage({ payload: Buffer.from(`{${head},"data":{"constructor":"Ford"}}`) });
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.data, { constructor: 'Ford' });
  });
});

describe('decodeMessage: limits', () => {
  it('the defaults are 1 MiB and 64 levels', () => {
    assert.deepEqual(DEFAULT_DECODE_LIMITS, { maxBytes: 1024 * 1024, maxDepth: 64 });
  });

  for (const mode of modes) {
    it(`${mode}: a payload of exactly maxBytes passes, one byte more is refused before parsing`, () => {
      const wire = encoded(required, { text: 'ü'.repeat(10) }, mode);
      const size = wire.payload.length;
      assert.equal(decodeMessage(wire, { maxBytes: size, maxDepth: 64 }).ok, true);
      const refused = decodeMessage(wire, { maxBytes: size - 1, maxDepth: 64 });
      assert.deepEqual(refused, { ok: false, reasons: [{ path: '', rule: 'maxBytes', message: `message is ${size} bytes, more than the limit of ${size - 1}` }] });
    });

    it(`${mode}: data exactly maxDepth deep passes, one level more is refused`, () => {
      const limits = { maxBytes: 1024 * 1024, maxDepth: 5 };
      const deepest = JSON.parse(nested('{"a":', '}', 5)) as unknown;
      assert.equal(decodeMessage(encoded(required, deepest, mode), limits).ok, true);
      const tooDeep = JSON.parse(nested('[', ']', 6)) as unknown;
      const path = mode === 'structured' ? 'event.data' : 'payload';
      assert.deepEqual(decodeMessage(encoded(required, tooDeep, mode), limits), {
        ok: false,
        reasons: [{ path, rule: 'maxDepth', message: 'is nested deeper than 5 levels' }],
      });
    });
  }

  const hostile: Array<[string, (inner: string) => WireMessage, string]> = [
    ['structured', (data) => ({ payload: Buffer.from(`{"specversion":"1.0","id":"1","source":"s","time":"2026-11-24T07:00:00Z","cdmentity":"e","cdmversion":"1.0.0","cdmsite":"a","data":${data}}`) }), 'event.data'],
    ['binary', (data) => binary({}, data), 'payload'],
  ];
  for (const [mode, wrap, path] of hostile) {
    for (const [shape, open, close] of [['arrays', '[', ']'], ['objects', '{"a":', '}'], ['constructor keys', '{"constructor":', '}']] as const) {
      it(`${mode}: 100,000 nested ${shape} are refused without a stack overflow`, () => {
        const wire = wrap(nested(open, close, 100_000));
        assert.deepEqual(reasonsOf(wire, { maxBytes: 10 * 1024 * 1024, maxDepth: 64 }), [[path, 'maxDepth']]);
      });
    }
  }
});

describe('exceedsDepth', () => {
  const cases: Array<[string, unknown, number, boolean]> = [
    ['a number', 1, 0, false],
    ['null', null, 0, false],
    ['a string', 'deep', 0, false],
    ['an empty object at 0', {}, 0, true],
    ['an empty object at 1', {}, 1, false],
    ['[[1]] at 1', [[1]], 1, true],
    ['[[1]] at 2', [[1]], 2, false],
    ['{a:{b:{}}} at 2', { a: { b: {} } }, 2, true],
    ['{a:{b:{}}} at 3', { a: { b: {} } }, 3, false],
    ['wide but shallow', { a: [1, 2, 3], b: { c: 'x' }, d: [] }, 2, false],
    ['the deep branch is not the first', { a: 1, b: [2], c: { d: { e: [] } } }, 3, true],
  ];
  for (const [name, value, max, expected] of cases) {
    it(`${name}: ${expected}`, () => assert.equal(exceedsDepth(value, max), expected));
  }

  it('walks 100,000 levels of objects without recursion', () => {
    let value: Record<string, unknown> = {};
    const root = value;
    for (let i = 0; i < 100_000; i++) {
      const child: Record<string, unknown> = {};
      value.next = child;
      value = child;
    }
    assert.equal(exceedsDepth(root, 64), true);
    assert.equal(exceedsDepth(root, 100_001), false);
  });
});
