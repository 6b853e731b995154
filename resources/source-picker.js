// The source picker the cdm-catalog and tectonic-policy edit dialogs share:
// a source select (bundled, a file or folder, a URL, a bus) with the fields
// of the chosen source, typed inputs for value-or-environment-variable, and
// the refresh interval. Node-RED serves it at
// resources/@tectonic/node-red-hybrid/source-picker.js and loads it before the
// node definitions that use it; each dialog loads it, so defining it twice is
// harmless.
(function () {
  'use strict';
  var ENV = /^\$\{\S+\}$/;

  /**
   * options.type: the node type, which prefixes the form rows' classes
   * (`cdm-catalog-url`); options.path: the field of the disk source
   * (`folder` or `file`); options.fallback: the source of a node saved
   * without one.
   */
  function sourcePicker(options) {
    var path = options.path;
    function sourceIs(node, kind) {
      var selected = $('#node-config-input-source').val();
      return (selected || node.source || options.fallback) === kind;
    }
    function typed(field) {
      return $('#node-config-input-' + field + 'Type').val();
    }
    return {
      ENV: ENV,
      sourceIs: sourceIs,
      /** The editor's own rendering of a typed input: `${NAME}` for a variable. */
      shown: function (value, type) {
        return type === 'env' ? '${' + value + '}' : value;
      },
      source: function () {
        return { value: options.fallback, required: true };
      },
      path: function () {
        return {
          value: '',
          validate: function (v) {
            return !sourceIs(this, path) || (typeof v === 'string' && v.trim() !== '');
          },
        };
      },
      url: function () {
        return {
          value: '',
          validate: function (v) {
            if (!sourceIs(this, 'url')) return true;
            var type = typed('url') || this.urlType;
            return type === 'env' ? v !== '' : ENV.test(v) || /^https?:\/\/\S+$/.test(v);
          },
        };
      },
      bus: function () {
        return {
          type: 'tectonic-bus',
          required: false,
          validate: function (v) {
            return !sourceIs(this, 'bus') || (v !== undefined && v !== '' && v !== '_ADD_');
          },
        };
      },
      refresh: function () {
        return {
          value: '',
          validate: function (v) {
            return v === '' || v === undefined || ENV.test(v) || /^\d+(\.\d+)?$/.test(v);
          },
        };
      },
      typeOf: function () {
        return { value: 'str' };
      },
      /** For oneditprepare: the typed inputs, and the rows of the chosen source only. */
      prepare: function () {
        $('#node-config-input-' + path).typedInput({ default: 'str', typeField: '#node-config-input-' + path + 'Type', types: ['str', 'env'] });
        $('#node-config-input-url').typedInput({ default: 'str', typeField: '#node-config-input-urlType', types: ['str', 'env'] });
      },
      follow: function () {
        $('#node-config-input-source')
          .on('change', function () {
            var kind = $(this).val();
            $('.' + options.type + '-' + path).toggle(kind === path);
            $('.' + options.type + '-url').toggle(kind === 'url');
            $('.' + options.type + '-bus').toggle(kind === 'bus');
            $('.' + options.type + '-refresh').toggle(kind === path || kind === 'url');
            $('#node-config-input-refresh').attr('placeholder', kind === 'url' ? '60' : '10');
          })
          .trigger('change');
      },
    };
  }

  window.TectonicSourcePicker = sourcePicker;
})();
