/* global setInterval, clearInterval */
// The editor's "fleet" sidebar tab (heartbeat-monitor.html loads this and
// fleet-view.js). RED.sidebar.addTab is the sidebar API in Node-RED 4 and 5.
// It polls tectonic/fleet/data through jQuery, to which the editor adds its
// bearer token when adminAuth is on, and only while the tab is showing.
(function (root) {
  'use strict';
  var installed = false;
  var timer;
  var content;
  var RED_;

  function refresh() {
    // The sidebar keeps a tab's content in the page when another tab shows: poll only while it can be seen.
    if (!content.is(':visible')) return;
    root.$.ajax({ url: 'tectonic/fleet/data', dataType: 'json', cache: false })
      .done(function (view) {
        root.TectonicFleet.render(content.find('.tf-body')[0], view, { compact: true });
      })
      .fail(function (xhr) {
        content.find('.tf-body').text(xhr.status === 404 ? 'No heartbeat-monitor node is running.' : 'Fleet data unavailable (' + xhr.status + ').');
      });
  }

  function install(RED) {
    if (installed || !RED || !RED.sidebar || typeof RED.sidebar.addTab !== 'function') return;
    installed = true;
    RED_ = RED;
    var link = root.$('<link rel="stylesheet" href="resources/@tectonic/node-red-hybrid/fleet/fleet.css">');
    root.$('head').append(link);
    content = root.$('<div class="tf-root tf-compact" style="padding: 8px; overflow-y: auto; height: 100%"></div>');
    root.$('<p><a href="tectonic/fleet" target="_blank" rel="noopener">Open the fleet page <i class="fa fa-external-link"></i></a></p>').appendTo(content);
    root.$('<div class="tf-body"><p class="tf-small">no data yet</p></div>').appendTo(content);
    RED.sidebar.addTab({
      id: 'tectonic-fleet',
      label: RED._('@tectonic/node-red-hybrid/heartbeat-monitor:heartbeat-monitor.sidebar.label'),
      name: RED._('@tectonic/node-red-hybrid/heartbeat-monitor:heartbeat-monitor.sidebar.name'),
      iconClass: 'fa fa-heartbeat',
      content: content,
      enableOnEdit: true,
      onchange: function () {
        clearInterval(timer);
        refresh();
        timer = setInterval(refresh, 2000);
      },
      onremove: function () {
        clearInterval(timer);
      },
    });
  }

  function show() {
    if (installed && RED_ && RED_.sidebar && RED_.sidebar.show) RED_.sidebar.show('tectonic-fleet');
  }

  root.TectonicFleetSidebar = { install: install, show: show };
})(window);
