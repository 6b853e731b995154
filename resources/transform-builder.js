// The transforms builder of cdm-map's rules table: a rule's chain of
// transforms shown as chips in plain words, each edited in a small form (pick
// a transform, fill its fields), with the chain's JSON one click away for
// experts. The chain's one copy is the JSON text input of the row, so what
// the dialog saves is what an expert would type. Options the form does not
// know (added to the spec after this form) are kept as they are.
// Node-RED serves it at resources/@tectonic/node-red-hybrid/transform-builder.js.
(function () {
  'use strict';

  var UNITS = ['kg', 'g', 'mg', 't', 'lb', 'oz', 'm', 'cm', 'mm', 'km', 'in', 'ft', 'yd', 'mi', 'C', 'F', 'K', 'l', 'ml', 'm3', 'gal', 'qt', 'floz'];

  function text(name, when) { return { name: name, kind: 'text', when: when }; }
  function choice(name, values, when) { return { name: name, kind: 'select', values: values, when: when }; }
  function check(name) { return { name: name, kind: 'check' }; }
  function lines(name) { return { name: name, kind: 'lines' }; }

  function copy(options) {
    return options && typeof options === 'object' && !Array.isArray(options) ? $.extend(true, {}, options) : {};
  }
  function setOrDrop(target, key, value) {
    if (value === undefined || value === '') delete target[key];
    else target[key] = value;
  }
  function list(value) {
    return value.split(',').map(function (s) { return s.trim(); }).filter(function (s) { return s !== ''; });
  }
  // A table value or fallback as typed: JSON when it reads as JSON (12, true, null, "text"), otherwise the text itself.
  function scalar(text) {
    var t = text.trim();
    try { return JSON.parse(t); } catch { return t; }
  }
  function shownScalar(value) {
    if (typeof value !== 'string') return JSON.stringify(value);
    try { JSON.parse(value); return JSON.stringify(value); } catch { return value; }
  }
  function whole(text, field) {
    if (text.trim() === '') return undefined;
    var n = Number(text);
    if (!Number.isInteger(n)) throw new Error(field + ': a whole number');
    return n;
  }

  var dateMode = function (mode) { return function (v) { return v.mode === mode; }; };
  var numberType = {
    fields: [choice('decimal', ['.', ',']), choice('thousands', ['', ',', '.', ' ', "'", '_'])],
    read: function (o) { return { decimal: o.decimal || '.', thousands: o.thousands || '' }; },
    write: function (v, o) { setOrDrop(o, 'decimal', v.decimal === '.' ? undefined : v.decimal); setOrDrop(o, 'thousands', v.thousands); return o; },
    summary: function (name, o) { return name + (o.decimal === ',' ? ' 12,5' : '') + (o.thousands ? ' 1' + o.thousands + '000' : ''); },
  };
  var plain = { fields: [], read: function () { return {}; }, write: function (v, o) { return o; }, summary: function (name) { return name; } };

  /** Per transform of docs/mapping-spec.md: its form's fields, how options fill them and back, and its chip. */
  var TYPES = {
    string: plain, number: numberType, integer: numberType,
    boolean: {
      fields: [lines('true'), lines('false')],
      read: function (o) { return { true: (o.true || []).join(', '), false: (o.false || []).join(', ') }; },
      write: function (v, o) {
        setOrDrop(o, 'true', list(v.true).length ? list(v.true) : undefined);
        setOrDrop(o, 'false', list(v.false).length ? list(v.false) : undefined);
        return o;
      },
      summary: function (name, o) { return name + (o.true ? ' ' + o.true.join('/') + ' | ' + (o.false || []).join('/') : ''); },
    },
    trim: plain, upper: plain, lower: plain,
    date: {
      fields: [choice('mode', ['format', 'iso', 'epoch']), text('format', dateMode('format')), text('zone', function (v) { return v.mode !== 'epoch'; }),
        choice('epoch', ['s', 'ms'], dateMode('epoch')), text('locale', dateMode('format')), choice('ambiguous', ['', 'earlier', 'later', 'reject'], function (v) { return v.mode !== 'epoch'; }),
        // What it writes: iso (default), iso-seconds, date, epochMs, or a Luxon format; in outputZone (default UTC).
        text('output'), text('outputZone')],
      read: function (o) {
        var mode = o.epoch !== undefined ? 'epoch' : o.iso ? 'iso' : 'format';
        return { mode: mode, format: o.format || '', zone: o.zone || '', epoch: o.epoch || 's', locale: o.locale || '', ambiguous: o.ambiguous || '', output: o.output || '', outputZone: o.outputZone || '' };
      },
      write: function (v, o) {
        ['format', 'iso', 'epoch', 'zone', 'locale', 'ambiguous', 'output', 'outputZone'].forEach(function (k) { delete o[k]; });
        setOrDrop(o, 'output', v.output.trim());
        setOrDrop(o, 'outputZone', v.outputZone.trim());
        if (v.mode === 'epoch') { o.epoch = v.epoch; return o; }
        if (v.mode === 'iso') o.iso = true;
        else setOrDrop(o, 'format', v.format.trim());
        setOrDrop(o, 'zone', v.zone.trim());
        if (v.mode === 'format') setOrDrop(o, 'locale', v.locale.trim());
        setOrDrop(o, 'ambiguous', v.ambiguous);
        return o;
      },
      summary: function (name, o) {
        if (o.epoch !== undefined) return name + ' epoch ' + o.epoch;
        return name + ' ' + (o.iso ? 'ISO' : o.format || '?') + (o.zone ? ' · ' + o.zone : '') + (o.output ? ' → ' + o.output : '');
      },
    },
    mask: {
      fields: [choice('keepWhat', ['keepAfter', 'keep']), text('keepAfter', function (v) { return v.keepWhat === 'keepAfter'; }), text('keep', function (v) { return v.keepWhat === 'keep'; })],
      read: function (o) { return { keepWhat: o.keep !== undefined ? 'keep' : 'keepAfter', keepAfter: o.keepAfter || '@', keep: o.keep === undefined ? '4' : String(o.keep) }; },
      write: function (v, o) {
        delete o.keep;
        delete o.keepAfter;
        if (v.keepWhat === 'keep') o.keep = whole(v.keep, 'keep') || 0;
        else o.keepAfter = v.keepAfter;
        return o;
      },
      summary: function (name, o) { return name + (o.keep !== undefined ? ' keep last ' + o.keep : ' ***' + (o.keepAfter || '')); },
    },
    lookup: {
      fields: [{ name: 'table', kind: 'table' }, choice('otherwise', ['reject', 'keep', 'value']), text('value', function (v) { return v.otherwise === 'value'; }), check('ignoreCase')],
      read: function (o) {
        var table = o.table && typeof o.table === 'object' ? o.table : {};
        var other = o.otherwise && typeof o.otherwise === 'object' ? 'value' : o.otherwise || 'reject';
        return {
          table: Object.keys(table).map(function (k) { return k + ' = ' + shownScalar(table[k]); }).join('\n'),
          otherwise: other,
          value: other === 'value' ? shownScalar(o.otherwise.value) : '',
          ignoreCase: !!o.ignoreCase,
        };
      },
      write: function (v, o) {
        var table = {};
        v.table.split('\n').forEach(function (line, i) {
          if (line.trim() === '') return;
          var at = line.indexOf('=');
          if (at < 1) throw new Error('table, line ' + (i + 1) + ': write CODE = value');
          table[line.slice(0, at).trim()] = scalar(line.slice(at + 1));
        });
        o.table = table;
        setOrDrop(o, 'otherwise', v.otherwise === 'value' ? { value: scalar(v.value) } : v.otherwise === 'reject' ? undefined : v.otherwise);
        setOrDrop(o, 'ignoreCase', v.ignoreCase ? true : undefined);
        return o;
      },
      summary: function (name, o) {
        var keys = Object.keys(o.table || {});
        var shown = keys.slice(0, 2).map(function (k) { return k + '→' + shownScalar(o.table[k]); }).join(', ');
        return name + ' ' + shown + (keys.length > 2 ? ' +' + (keys.length - 2) : '');
      },
    },
    unit: {
      fields: [choice('from', UNITS), choice('to', UNITS)],
      read: function (o) { return { from: o.from || 'lb', to: o.to || 'kg' }; },
      write: function (v, o) { o.from = v.from; o.to = v.to; return o; },
      summary: function (name, o) { return o.from + ' → ' + o.to; },
    },
    round: {
      fields: [text('decimals')],
      read: function (o) { return { decimals: String(typeof o === 'number' ? o : o.decimals !== undefined ? o.decimals : 2) }; },
      write: function (v) { return whole(v.decimals, 'decimals') || 0; },
      summary: function (name, o) { return name + ' ' + (typeof o === 'number' ? o : o.decimals); },
    },
    concat: {
      fields: [lines('with'), text('separator'), check('skipMissing')],
      read: function (o) { return { with: (o.with || []).join(', '), separator: o.separator || '', skipMissing: !!o.skipMissing }; },
      write: function (v, o) {
        o.with = list(v.with);
        setOrDrop(o, 'separator', v.separator);
        setOrDrop(o, 'skipMissing', v.skipMissing ? true : undefined);
        return o;
      },
      summary: function (name, o) { return name + ' + ' + (o.with || []).join(', '); },
    },
    split: {
      fields: [text('separator'), text('index'), check('trim')],
      read: function (o) { return { separator: o.separator || ',', index: o.index === undefined ? '' : String(o.index), trim: !!o.trim }; },
      write: function (v, o) {
        o.separator = v.separator;
        setOrDrop(o, 'index', whole(v.index, 'index'));
        setOrDrop(o, 'trim', v.trim ? true : undefined);
        return o;
      },
      summary: function (name, o) { return name + ' "' + o.separator + '"' + (o.index !== undefined ? ' [' + o.index + ']' : ''); },
    },
    regex: {
      fields: [text('pattern'), text('group'), text('flags')],
      read: function (o) { return { pattern: o.pattern || '', group: o.group === undefined ? '' : String(o.group), flags: o.flags || '' }; },
      write: function (v, o) {
        o.pattern = v.pattern;
        setOrDrop(o, 'group', /^\d+$/.test(v.group.trim()) ? Number(v.group) : v.group.trim());
        setOrDrop(o, 'flags', v.flags.trim());
        return o;
      },
      summary: function (name, o) { return name + ' /' + o.pattern + '/' + (o.flags || ''); },
    },
    array: {
      fields: [{ name: 'options', kind: 'json' }],
      read: function (o) { return { options: JSON.stringify(o) }; },
      write: function (v) { return JSON.parse(v.options); },
      summary: function (name, o) { return 'each element' + (o.each && o.each.rules ? ' (' + o.each.rules.length + ' rules)' : ''); },
    },
  };

  function nameOf(transform) {
    var keys = transform && typeof transform === 'object' && !Array.isArray(transform) ? Object.keys(transform) : [];
    return keys.length === 1 ? keys[0] : undefined;
  }

  /** A transform in plain words, for its chip. */
  function summarize(transform) {
    var name = nameOf(transform);
    var type = name && TYPES[name];
    if (!type) return JSON.stringify(transform);
    try { return type.summary(name, transform[name] === null ? {} : transform[name]); } catch { return JSON.stringify(transform); }
  }

  /** Reads a chain from its JSON text: an array, or an Error saying what is wrong. */
  function parseChain(jsonText) {
    if (jsonText.trim() === '') return [];
    var chain;
    try { chain = JSON.parse(jsonText); } catch (e) { return new Error(e.message); }
    return Array.isArray(chain) ? chain : new Error('the transforms must be a JSON array');
  }

  /**
   * Attaches a builder to one rule row. `row` is the row's container (flex,
   * wrapping), `input` the row's JSON text input, `t` the node's translate.
   */
  function attach(row, input, t) {
    var bar = $('<div class="cdm-map-chain">').insertBefore(input);
    var chips = $('<span class="cdm-map-chips">').appendTo(bar);
    $('<a href="#" class="red-ui-button red-ui-button-small cdm-map-chain-add">').attr('title', t('cdm-map.builder.add')).append('<i class="fa fa-plus"></i>').appendTo(bar);
    $('<a href="#" class="red-ui-button red-ui-button-small cdm-map-chain-json">').attr('title', t('cdm-map.builder.json')).text('{ }').appendTo(bar);
    var form = $('<div class="cdm-map-chain-form">').hide().appendTo(row);
    input.addClass('cdm-map-chain-text').hide().appendTo(row);

    function chain() { return parseChain(input.val()); }
    function store(next) { input.val(next.length ? JSON.stringify(next) : ''); render(); }

    function render() {
      chips.empty();
      var current = chain();
      if (current instanceof Error) {
        $('<span class="cdm-map-chip cdm-map-chip-bad">').text(t('cdm-map.builder.invalid')).attr('title', current.message).appendTo(chips);
        return;
      }
      if (!current.length) $('<span class="cdm-map-chain-none">').text(t('cdm-map.builder.none')).appendTo(chips);
      current.forEach(function (transform, i) {
        var chip = $('<span class="cdm-map-chip">').attr('data-index', i).attr('title', JSON.stringify(transform)).appendTo(chips);
        $('<span class="cdm-map-chip-text">').text(summarize(transform)).appendTo(chip);
        $('<i class="fa fa-times cdm-map-chip-remove">').attr('title', t('cdm-map.builder.remove')).appendTo(chip).on('click', function (e) {
          e.stopPropagation();
          var next = chain();
          if (next instanceof Error) return;
          next.splice(i, 1);
          store(next);
        });
        chip.on('click', function () { open(i); });
      });
    }

    function fieldRow(field, values) {
      var line = $('<div class="cdm-map-chain-field">').attr('data-field', field.name);
      $('<label>').text(t('cdm-map.builder.field.' + field.name)).appendTo(line);
      var el;
      if (field.kind === 'select') {
        el = $('<select>');
        field.values.forEach(function (v) { $('<option>').val(v).text(v === '' ? '—' : v === ' ' ? t('cdm-map.builder.space') : v).appendTo(el); });
        el.val(values[field.name]);
      } else if (field.kind === 'check') {
        el = $('<input type="checkbox">').prop('checked', !!values[field.name]);
      } else if (field.kind === 'table' || field.kind === 'json') {
        el = $('<textarea rows="4">').val(values[field.name]);
      } else {
        el = $('<input type="text">').val(values[field.name]);
      }
      el.addClass('cdm-map-chain-input').attr('name', field.name).attr('placeholder', t('cdm-map.builder.hint.' + field.name)).appendTo(line);
      return line;
    }

    function formValues() {
      var values = {};
      form.find('.cdm-map-chain-input').each(function () {
        var el = $(this);
        values[el.attr('name')] = el.is(':checkbox') ? el.is(':checked') : el.val();
      });
      return values;
    }

    // index: the transform to edit, or undefined to add one at the end.
    function open(index) {
      var current = chain();
      if (current instanceof Error) { window.RED.notify(t('cdm-map.builder.invalid') + ': ' + current.message, 'error'); return; }
      var editing = index === undefined ? undefined : current[index];
      var name = editing ? nameOf(editing) : 'number';
      if (editing && !TYPES[name]) { input.show().focus(); return; }
      form.empty().show();
      var head = $('<div class="cdm-map-chain-field">').appendTo(form);
      $('<label>').text(t('cdm-map.builder.transform')).appendTo(head);
      var pick = $('<select class="cdm-map-chain-type">').appendTo(head);
      Object.keys(TYPES).forEach(function (k) { $('<option>').val(k).text(k + ': ' + t('cdm-map.builder.type.' + k)).appendTo(pick); });
      pick.val(name);
      var fields = $('<div class="cdm-map-chain-fields">').appendTo(form);
      var problem = $('<div class="cdm-map-chain-problem">').appendTo(form);
      function fill(kind, options) {
        var type = TYPES[kind];
        fields.empty();
        var values = type.read(options === undefined || options === null ? {} : options);
        type.fields.forEach(function (f) { fieldRow(f, values).appendTo(fields); });
        var follow = function () {
          var now = formValues();
          type.fields.forEach(function (f) { fields.find('[data-field="' + f.name + '"]').toggle(!f.when || f.when(now)); });
        };
        fields.find('select').on('change', follow);
        follow();
      }
      fill(name, editing ? editing[name] : undefined);
      pick.on('change', function () { fill(pick.val(), editing && nameOf(editing) === pick.val() ? editing[pick.val()] : undefined); });
      var buttons = $('<div class="cdm-map-chain-buttons">').appendTo(form);
      $('<a href="#" class="red-ui-button red-ui-button-small cdm-map-chain-apply">').text(t(index === undefined ? 'cdm-map.builder.addIt' : 'cdm-map.builder.apply')).appendTo(buttons).on('click', function (e) {
        e.preventDefault();
        var kind = pick.val();
        var transform = {};
        try {
          var original = editing && nameOf(editing) === kind ? editing[kind] : undefined;
          transform[kind] = TYPES[kind].write(formValues(), typeof original === 'object' ? copy(original) : {});
        } catch (err) {
          problem.text(err.message);
          return;
        }
        var next = chain();
        if (next instanceof Error) return;
        if (index === undefined) next.push(transform);
        else next[index] = transform;
        form.hide().empty();
        store(next);
      });
      $('<a href="#" class="red-ui-button red-ui-button-small cdm-map-chain-cancel">').text(t('cdm-map.builder.cancel')).appendTo(buttons).on('click', function (e) {
        e.preventDefault();
        form.hide().empty();
      });
    }

    bar.find('.cdm-map-chain-add').on('click', function (e) { e.preventDefault(); open(undefined); });
    bar.find('.cdm-map-chain-json').on('click', function (e) { e.preventDefault(); input.toggle(); });
    input.on('input change', render);
    render();
  }

  window.TectonicTransformBuilder = { attach: attach, summarize: summarize, parseChain: parseChain, types: Object.keys(TYPES) };
})();
