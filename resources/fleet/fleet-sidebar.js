/* global setInterval, clearInterval */
// The editor's "fleet" sidebar tab (heartbeat-monitor.html loads this and
// fleet-view.js and calls install from its onpaletteadd, remove from its
// onpaletteremove, as the sidebar API asks of a node that adds a tab).
// RED.sidebar.addTab with id, label, name, iconClass, content and action is
// the documented API of Node-RED 4 and 5 (nodered.org/docs/api/ui/sidebar);
// nothing here depends on the sidebar's DOM or on the optional onchange
// callback: one timer polls tectonic/fleet/data every 2 s while the tab can
// be seen. jQuery carries the editor's bearer token when adminAuth is on.
(function (root) {
  'use strict';
  var TAB = 'tectonic-fleet';
  var ACTION = 'tectonic:show-fleet';
  var installed = false;
  var timer;
  var content;

  function refresh() {
    // The sidebar keeps a tab's content in the page while another tab shows: poll only while it can be seen.
    if (!content || !content.is(':visible')) return;
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
    if (!root.$('link[data-tectonic-fleet]').length) root.$('head').append('<link rel="stylesheet" data-tectonic-fleet href="resources/@tectonic/node-red-hybrid/fleet/fleet.css">');
    content = root.$('<div class="tf-root tf-compact" style="position: relative; padding: 8px; overflow-y: auto; height: 100%"></div>');
    root.$('<p><a href="tectonic/fleet" target="_blank" rel="noopener">Open the fleet page <i class="fa fa-external-link"></i></a></p>').appendTo(content);
    root.$('<div class="tf-body"><p class="tf-small">no data yet</p></div>').appendTo(content);
    if (RED.actions && typeof RED.actions.add === 'function') RED.actions.add(ACTION, function () { RED.sidebar.show(TAB); });
    RED.sidebar.addTab({
      id: TAB,
      label: RED._('@tectonic/node-red-hybrid/heartbeat-monitor:heartbeat-monitor.sidebar.label'),
      name: RED._('@tectonic/node-red-hybrid/heartbeat-monitor:heartbeat-monitor.sidebar.name'),
      iconClass: 'fa fa-heartbeat',
      content: content,
      enableOnEdit: true,
      action: ACTION,
      // Where the sidebar says the tab was chosen (Node-RED 4), the first figures come at once.
      onchange: refresh,
    });
    timer = setInterval(refresh, 2000);
  }

  function remove(RED) {
    if (!installed) return;
    installed = false;
    clearInterval(timer);
    if (RED && RED.sidebar && typeof RED.sidebar.removeTab === 'function') RED.sidebar.removeTab(TAB);
    if (RED && RED.actions && typeof RED.actions.remove === 'function') RED.actions.remove(ACTION);
  }

  root.TectonicFleetSidebar = { install: install, remove: remove };
})(window);
