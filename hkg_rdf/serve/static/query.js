// The query page: YASGUI (bundled, served from /static/yasgui) on this server's endpoint,
// with the example queries and ?query= links (from entity pages and result tables).
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("hkg-config").textContent);
  var params = new URLSearchParams(window.location.search);
  var initial = params.get("query") || (config.examples.length ? config.examples[0].text : "SELECT * WHERE { ?s ?p ?o } LIMIT 10");

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; }, keys: [] },
    persistenceId: null,
    // no autocompleter that asks other servers (class and property completion call LOV)
    yasqe: { autocompleters: ["variables", "prefixes"], persistenceId: null },
  });
  window.hkgYasgui = yasgui;
  var tab = yasgui.getTab();
  tab.setEndpoint(config.endpoint);
  tab.setQuery(initial);

  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      var example = config.examples[Number(button.dataset.example)];
      var current = yasgui.getTab();
      current.setQuery(example.text);
      current.getYasqe().query();
    });
  });
})();
