// RFC 8785 (JSON Canonicalization Scheme) vectors: the signature covers the
// canonical form, so a site and the signer must produce it byte for byte.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { canonicalJson, checkJsonData } from '../../../lib/policy/canonical';

function canon(value: unknown): string {
  const result = canonicalJson(value);
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

describe('canonicalJson: RFC 8785 examples', () => {
  it('section 3.2.2: the sample input', () => {
    const input = JSON.parse('{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}') as unknown;
    assert.equal(canon(input), '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('section 3.2.3: members sorted by UTF-16 code units', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    assert.equal(canon(input), '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  // Appendix B: IEEE 754 bit patterns and their canonical text.
  const numbers: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, expected] of numbers) {
    it(`appendix B: ${bits} -> ${expected}`, () => {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt(`0x${bits}`));
      assert.equal(canon(view.getFloat64(0)), expected);
    });
  }

  it('appendix B: NaN and Infinity have no canonical form', () => {
    for (const bits of ['7fffffffffffffff', '7ff0000000000000']) {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt(`0x${bits}`));
      assert.equal(canonicalJson(view.getFloat64(0)).ok, false);
    }
  });
});

describe('canonicalJson: only JSON data is signed', () => {
  const refused: [string, unknown, string][] = [
    ['an undefined member (JSON.stringify would drop it)', { a: undefined }, 'json-type'],
    ['a Date (JSON.stringify would turn it into a string)', { at: new Date(0) }, 'json-type'],
    ['a Buffer', { b: Buffer.from('x') }, 'json-type'],
    ['a lone surrogate', { s: '\ud800' }, 'json-string'],
    ['Infinity in an array', [1, Number.POSITIVE_INFINITY], 'json-number'],
    ['a function', { f: () => 1 }, 'json-type'],
  ];
  for (const [name, value, rule] of refused) {
    it(`refuses ${name}`, () => {
      const result = checkJsonData(value);
      assert.equal(result.ok, false);
      assert.equal(result.ok ? '' : result.reasons[0]?.rule, rule);
    });
  }

  it('a surrogate pair is fine; key order and spacing do not matter', () => {
    assert.equal(canon({ b: [1, { d: 2, c: '😀' }], a: null }), '{"a":null,"b":[1,{"c":"😀","d":2}]}');
    assert.equal(canon(JSON.parse('{ "b" : [ 1 , { "c" : "😀" , "d" : 2.0 } ] , "a" : null }')), canon({ a: null, b: [1, { c: '😀', d: 2 }] }));
  });
});
