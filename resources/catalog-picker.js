// The catalog picker of the edit dialogs that name an entity and version
// (cdm-map, cdm-validate): entity and version lists from the chosen
// cdm-catalog config as drafted in the editor, deployed or not. It POSTs the
// config's fields to the pack's admin endpoint, which reads that catalog
// once. Node-RED serves it at resources/@tectonic/node-red-hybrid/catalog-picker.js.
(function () {
  'use strict';
  var FIELDS = ['source', 'folder', 'folderType', 'url', 'urlType', 'bus', 'refresh', 'policy'];

  /**
   * options: catalog (the config select), entitySelect, versionSelect, status
   * (jQuery elements), current() → { entity, version } as the form holds them,
   * choose(entity, version) to write a pick into the form, t (translate),
   * keys (the node's catalog of the picker's texts, e.g. `cdm-map.picker`).
   */
  function attach(options) {
    var t = function (key, vars) { return options.t(options.keys + '.' + key, vars); };
    var entities = [];
    var asked = 0;
    function say(kind, text) {
      options.status.removeClass('tectonic-picker-ok tectonic-picker-problem').addClass(kind).text(text);
    }
    function fillVersions(name, wanted) {
      var entity = entities.filter(function (e) { return e.name === name; })[0];
      options.versionSelect.empty();
      (entity ? entity.versions : []).slice().reverse().forEach(function (v) { $('<option>').val(v).text(v).appendTo(options.versionSelect); });
      if (wanted && entity && entity.versions.indexOf(wanted) >= 0) options.versionSelect.val(wanted);
    }
    function load() {
      var id = options.catalog.val();
      var config = id && id !== '_ADD_' ? window.RED.nodes.node(id) : null;
      options.entitySelect.empty();
      options.versionSelect.empty();
      entities = [];
      if (!config) { say('tectonic-picker-problem', t('noCatalog')); return; }
      var draft = { id: id };
      FIELDS.forEach(function (f) { if (typeof config[f] === 'string') draft[f] = config[f]; });
      var mine = ++asked;
      say('', t('loading'));
      $.ajax({ url: 'tectonic/catalogs/draft/entities', type: 'POST', contentType: 'application/json', data: JSON.stringify(draft) })
        .done(function (res) {
          if (mine !== asked) return;
          if (!res.ok) {
            say('tectonic-picker-problem', res.reasons.map(function (r) { return r.message; }).join('; '));
            return;
          }
          entities = res.entities;
          $('<option>').val('').text(t('pick')).appendTo(options.entitySelect);
          entities.forEach(function (e) { $('<option>').val(e.name).text(e.title ? e.name + ' (' + e.title + ')' : e.name).appendTo(options.entitySelect); });
          var now = options.current();
          if (entities.some(function (e) { return e.name === now.entity; })) {
            options.entitySelect.val(now.entity);
            fillVersions(now.entity, now.version);
          }
          say('tectonic-picker-ok', t('loaded', { entities: String(entities.length), origin: res.origin }));
        })
        .fail(function (xhr) {
          if (mine !== asked) return;
          say('tectonic-picker-problem', (xhr.responseJSON && xhr.responseJSON.message) || xhr.statusText);
        });
    }
    options.entitySelect.on('change', function () {
      var name = options.entitySelect.val();
      if (!name) return;
      fillVersions(name);
      options.choose(name, options.versionSelect.val());
    });
    options.versionSelect.on('change', function () {
      if (options.entitySelect.val()) options.choose(options.entitySelect.val(), options.versionSelect.val());
    });
    options.catalog.on('change', load);
    return { reload: load };
  }

  window.TectonicCatalogPicker = { attach: attach };
})();
