/* global document */
// Renders the fleet (GET tectonic/fleet/data, docs/fleet.md "The fleet page")
// into a DOM element: the full page (resources/fleet/index.html) and the
// editor's sidebar tab share it. Text goes in through textContent only: a
// reason comes from a site and must not become markup.
(function (root) {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  function seconds(s) {
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }

  function rate(n) {
    return (n >= 100 ? Math.round(n) : n.toFixed(1)) + '/s';
  }

  /** A small line chart of the site's records out per second, one point per beat. */
  function sparkline(points, width, height) {
    width = width || 120;
    height = height || 28;
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('class', 'tf-chart');
    svg.setAttribute('role', 'img');
    var max = 0;
    for (var i = 0; i < points.length; i++) max = Math.max(max, points[i]);
    svg.setAttribute('aria-label', points.length === 0 ? 'no rate yet' : 'records out per second, last ' + points.length + ' beats, peak ' + rate(max));
    var base = document.createElementNS(SVG, 'line');
    base.setAttribute('x1', '0');
    base.setAttribute('x2', String(width));
    base.setAttribute('y1', String(height - 1));
    base.setAttribute('y2', String(height - 1));
    base.setAttribute('stroke', '#ccc');
    svg.appendChild(base);
    if (points.length > 1) {
      var step = width / (points.length - 1);
      var d = '';
      for (var j = 0; j < points.length; j++) {
        var y = height - 2 - (max === 0 ? 0 : (points[j] / max) * (height - 4));
        d += (j === 0 ? 'M' : 'L') + (j * step).toFixed(1) + ' ' + y.toFixed(1);
      }
      var path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', d);
      path.setAttribute('fill', 'none');
      path.setAttribute('stroke', '#3a7bd5');
      path.setAttribute('stroke-width', '1.5');
      svg.appendChild(path);
    }
    return svg;
  }

  function healthClass(score) {
    return score >= 90 ? 'tf-good' : score >= 60 ? 'tf-warn' : 'tf-bad';
  }

  function shortDigest(text) {
    if (!text) return '';
    var m = /[0-9a-f]{8,64}/.exec(text);
    return m ? m[0].slice(0, 8) : text;
  }

  function cell(row, name, label) {
    var td = el('td', 'tf-' + name);
    td.setAttribute('data-label', label);
    row.appendChild(td);
    return td;
  }

  function siteRow(s) {
    var tr = el('tr', 'tf-site tf-state-' + s.state);
    tr.setAttribute('data-site', s.site);
    var name = cell(tr, 'name', 'Site');
    add(name, el('strong', null, s.site), s.expected ? el('span', 'tf-tag', 'expected') : null);

    var state = cell(tr, 'state', 'State');
    add(state, el('span', 'tf-badge tf-badge-' + s.state, s.state));
    if (s.stateReason) add(state, el('div', 'tf-small', s.stateReason));
    if (s.session !== undefined) add(state, el('div', 'tf-small', 'session ' + s.session));

    var health = cell(tr, 'health', 'Health');
    add(health, el('span', 'tf-score ' + healthClass(s.health.score), s.health.score));
    var reasons = el('ul', 'tf-reasons');
    for (var i = 0; i < s.health.lost.length; i++) {
      var l = s.health.lost[i];
      add(reasons, el('li', null, '−' + l.points + ' ' + l.factor + ': ' + l.reason));
    }
    add(health, reasons);

    var beat = cell(tr, 'heartbeat', 'Heartbeat');
    if (s.heartbeat) {
      add(beat, el('span', null, seconds(s.heartbeat.ageSeconds) + ' ago'));
      add(beat, el('div', 'tf-small', '#' + s.heartbeat.seq + ' every ' + seconds(s.heartbeat.intervalMs / 1000)));
      if (s.heartbeat.stale) add(beat, el('div', 'tf-tag tf-bad', 'stale'));
      if (s.heartbeat.skewReported) add(beat, el('div', 'tf-tag tf-warn', 'clock skew ' + (s.heartbeat.skewMs / 1000).toFixed(1) + ' s'));
    } else add(beat, el('span', 'tf-small', 'no heartbeat'));

    add(cell(tr, 'restarts', 'Restarts / gaps'), el('span', null, s.restarts + ' restarts, ' + s.gaps + ' gaps' + (s.missedBeats ? ' (' + s.missedBeats + ' beats missed)' : '')));

    var rates = cell(tr, 'rates', 'Rate');
    add(rates, el('div', null, rate(s.rates.outPerSecond) + ' out, ' + rate(s.rates.inPerSecond) + ' in'), sparkline(s.history || []));

    var rejects = cell(tr, 'rejects', 'Rejects');
    var total = 0;
    var rules = [];
    for (var rule in s.rejects) if (Object.prototype.hasOwnProperty.call(s.rejects, rule)) { total += s.rejects[rule]; rules.push(rule + ' ' + s.rejects[rule]); }
    add(rejects, el('span', null, total + (s.rates.rejectRate ? ' (' + (s.rates.rejectRate * 100).toFixed(1) + '%)' : '')));
    if (rules.length) add(rejects, el('div', 'tf-small', rules.join(', ')));

    add(cell(tr, 'outbox', 'Outbox'), el('span', null, s.outboxDepth));

    var canary = cell(tr, 'canary', 'Canary');
    if (!s.canary) add(canary, el('span', 'tf-small', 'none'));
    else if (s.canary.ok) add(canary, el('span', 'tf-good', 'ok ' + s.canary.latencyMs + ' ms'));
    else add(canary, el('span', 'tf-bad', 'failed at ' + s.canary.stage + ': ' + s.canary.reason));

    var versions = cell(tr, 'versions', 'Versions');
    if (s.versions) {
      add(versions, el('div', 'tf-small', 'pack ' + s.versions.pack + ', Node-RED ' + s.versions.nodeRed + ', Node ' + s.versions.node));
      if (s.versions.catalog) add(versions, el('div', 'tf-small', 'catalog ' + shortDigest(s.versions.catalog)));
      if (s.versions.policy) add(versions, el('div', 'tf-small', 'policy ' + s.versions.policy));
    }

    var drift = cell(tr, 'drift', 'Drift');
    if (!s.template) add(drift, el('span', 'tf-small', 'no template'));
    else if (!s.drift) add(drift, el('span', 'tf-small', s.template.name + '@' + s.template.version + ': no reference'));
    else if (s.drift.drifting) add(drift, el('span', 'tf-bad', 'drifted from ' + s.template.name + '@' + s.template.version));
    else add(drift, el('span', 'tf-good', 'matches ' + s.template.name + '@' + s.template.version));

    var alerts = cell(tr, 'alerts', 'Alerts');
    for (var a = 0; a < s.alerts.length; a++) add(alerts, el('div', 'tf-alert tf-' + s.alerts[a].severity, s.alerts[a].kind + ': ' + s.alerts[a].reason));
    return tr;
  }

  function summary(view) {
    var counts = { online: 0, offline: 0, unknown: 0, drifting: 0, alerting: 0 };
    for (var i = 0; i < view.sites.length; i++) {
      var s = view.sites[i];
      counts[s.state] += 1;
      if (s.drift && s.drift.drifting) counts.drifting += 1;
      if (s.alerts.length) counts.alerting += 1;
    }
    return view.sites.length + ' sites · ' + counts.online + ' online · ' + counts.offline + ' offline · ' + counts.drifting + ' drifting · ' + counts.alerting + ' alerting';
  }

  function bom(view) {
    var table = el('table', 'tf-bom');
    for (var component in view.bom) {
      if (!Object.prototype.hasOwnProperty.call(view.bom, component)) continue;
      var row = el('tr');
      add(row, el('th', null, component));
      var parts = [];
      for (var version in view.bom[component]) if (Object.prototype.hasOwnProperty.call(view.bom[component], version)) parts.push(version + ' (' + view.bom[component][version] + ')');
      add(row, el('td', null, parts.join(', ')));
      add(table, row);
    }
    return table;
  }

  /** Replaces what `container` shows with the fleet `view`. compact: the sidebar (no bill of materials, fewer alerts). */
  function render(container, view, options) {
    options = options || {};
    var frag = document.createDocumentFragment();
    add(frag, el('p', 'tf-summary', summary(view)));
    var table = el('table', 'tf-sites');
    var head = el('tr');
    var names = ['Site', 'State', 'Health', 'Heartbeat', 'Restarts / gaps', 'Rate', 'Rejects', 'Outbox', 'Canary', 'Versions', 'Drift', 'Alerts'];
    for (var i = 0; i < names.length; i++) add(head, el('th', null, names[i]));
    add(table, add(el('thead'), head));
    var body = el('tbody');
    for (var j = 0; j < view.sites.length; j++) add(body, siteRow(view.sites[j]));
    add(table, body);
    add(frag, table);
    if (!options.compact) {
      add(frag, el('h2', null, 'Bill of materials'), bom(view));
    }
    add(frag, el('h2', null, 'Recent alerts'));
    var list = el('ul', 'tf-recent');
    var recent = view.recentAlerts.slice(0, options.compact ? 10 : 50);
    for (var k = 0; k < recent.length; k++) {
      var a = recent[k];
      add(list, el('li', 'tf-' + a.severity, a.since + ' ' + a.site + ' ' + (a.kind === 'recovered' ? 'recovered from ' + a.of : a.kind) + ': ' + a.reason + (a.held ? ' (' + a.held + ' held back)' : '')));
    }
    add(frag, list);
    add(frag, el('p', 'tf-small tf-generated', 'as of ' + view.generatedAt + (view.heldAlerts ? ' · ' + view.heldAlerts + ' alerts held back by damping' : '') + (view.ignoredSites ? ' · ' + view.ignoredSites + ' messages from sites over the cap' : '')));
    while (container.firstChild) container.removeChild(container.firstChild);
    container.appendChild(frag);
  }

  /** The registry (GET tectonic/fleet/registry, a RegistrySnapshot): each service and its endpoints. */
  function renderRegistry(container, snapshot) {
    while (container.firstChild) container.removeChild(container.firstChild);
    add(container, el('h2', null, 'Registry'));
    var table = el('table', 'tf-registry');
    add(table, add(el('tr'), el('th', null, 'Service'), el('th', null, 'Site'), el('th', null, 'Instance'), el('th', null, 'URL'), el('th', null, 'State'), el('th', null, 'Expires')));
    for (var i = 0; i < snapshot.services.length; i++) {
      var svc = snapshot.services[i];
      for (var j = 0; j < svc.endpoints.length; j++) {
        var e = svc.endpoints[j];
        add(table, add(el('tr', 'tf-endpoint tf-state-' + e.state), el('td', null, svc.service), el('td', null, e.site), el('td', null, e.instance), el('td', null, e.url), el('td', null, e.state), el('td', null, e.expiresAt)));
      }
    }
    add(container, table);
  }

  root.TectonicFleet = { render: render, renderRegistry: renderRegistry, sparkline: sparkline };
})(window);
