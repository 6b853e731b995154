// Try it's starting record in cdm-map's dialog: a local record with every
// source field the rules read, each holding a value their transforms accept
// (a date in the rule's format, a code from its lookup table, a number
// written with its decimal mark), so "map it" shows a canonical record at once.
// Node-RED serves it at resources/@tectonic/node-red-hybrid/sample-record.js.
(function () {
  'use strict';
  var DATE_TOKENS = { yyyy: '2026', yy: '26', MMMM: 'November', MMM: 'Nov', MM: '11', M: '11', dd: '24', d: '24', HH: '08', H: '8', hh: '08', h: '8', mm: '30', m: '30', ss: '00', s: '0', SSS: '000', a: 'AM', ZZ: '+01:00', Z: '+1' };

  function dateText(format) {
    // TR35: text in single quotes is literal.
    return format.split("'").map(function (part, i) {
      return i % 2 === 1 ? part : part.replace(/yyyy|yy|MMMM|MMM|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|SSS|a|ZZ|Z/g, function (token) { return DATE_TOKENS[token]; });
    }).join('');
  }

  function nameOf(transform) {
    var keys = transform && typeof transform === 'object' ? Object.keys(transform) : [];
    return keys[0];
  }

  /** A value the chain accepts, from its first transform that says what it reads. */
  function valueFor(path, transforms) {
    var chain = Array.isArray(transforms) ? transforms : [];
    for (var i = 0; i < chain.length; i++) {
      var name = nameOf(chain[i]);
      var o = chain[i][name] || {};
      switch (name) {
        case 'date':
          if (o.epoch === 'ms') return 1795509000000;
          if (o.epoch) return 1795509000;
          return o.iso ? '2026-11-24T08:30:00' : dateText(o.format || 'yyyy-MM-dd');
        case 'number':
        case 'integer': {
          var whole = o.thousands ? '1' + o.thousands + '234' : '42';
          return name === 'integer' ? whole : whole + (o.decimal || '.') + '5';
        }
        case 'boolean':
          return Array.isArray(o.true) && o.true.length ? o.true[0] : 'yes';
        case 'lookup': {
          var codes = Object.keys(o.table || {});
          if (codes.length) return codes[0];
          break;
        }
        case 'unit':
        case 'round':
          return 12.5;
        case 'split':
          return ['a', 'b', 'c'].join(o.separator || ',');
        case 'array':
          return o.each && Array.isArray(o.each.rules) ? [build(o.each.rules, undefined)] : ['a', 'b'];
        default:
      }
    }
    var last = path.split('.').pop();
    return last + '-1';
  }

  function put(record, path, value) {
    var parts = path.split('.');
    var at = record;
    for (var i = 0; i < parts.length - 1; i++) {
      if (at[parts[i]] === undefined || typeof at[parts[i]] !== 'object') at[parts[i]] = /^\d+$/.test(parts[i + 1]) ? [] : {};
      at = at[parts[i]];
    }
    if (at[parts[parts.length - 1]] === undefined) at[parts[parts.length - 1]] = value;
  }

  /** rules: the spec's rules; idFrom: the source paths of the record's key. */
  function build(rules, idFrom) {
    var record = {};
    (rules || []).forEach(function (rule) {
      if (typeof rule.from === 'string' && rule.from !== '') put(record, rule.from, valueFor(rule.from, rule.transforms));
      (rule.transforms || []).forEach(function (t) {
        var with_ = t && t.concat && Array.isArray(t.concat.with) ? t.concat.with : [];
        with_.forEach(function (p) { put(record, p, p.split('.').pop() + '-1'); });
      });
    });
    (idFrom || []).forEach(function (p) { put(record, p, p.split('.').pop() + '-1'); });
    return record;
  }

  window.TectonicSampleRecord = { build: build, dateText: dateText };
})();
