// stripemeter usage widget: renders a customer's current usage into every
// <div data-stripemeter-portal data-token="smp_..."> of the page, from the portal read API.
// No dependency, no innerHTML (every value is set as text), no arithmetic on values: the
// API's exact decimal strings are only regrouped ("1234.5" -> "1,234.5").
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src).origin : "";

  function grouped(value) {
    if (typeof value !== "string") { return "\u2014"; }
    var parts = value.split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return parts.join(".");
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function render(box, body) {
    var table = element("table", undefined, "stripemeter-usage");
    table.appendChild(element("caption", "Usage this billing period"));
    var head = table.createTHead().insertRow();
    ["Metric", "Usage", "Cost so far"].forEach(function (label) {
      var th = element("th", label);
      th.scope = "col";
      head.appendChild(th);
    });
    var rows = table.createTBody();
    body.metrics.forEach(function (m) {
      var row = rows.insertRow();
      var name = element("th", m.metric);
      name.scope = "row";
      row.appendChild(name);
      row.appendChild(element("td", grouped(m.value) + (m.unit ? " " + m.unit : "")));
      row.appendChild(element("td", m.cost ?
        grouped(m.cost.amount) + " " + m.cost.currency.toUpperCase() : "\u2014"));
    });
    box.replaceChildren(table);
  }

  function load(box) {
    var api = box.getAttribute("data-api") || origin;
    var token = box.getAttribute("data-token") || "";
    box.setAttribute("aria-busy", "true");
    fetch(api + "/portal/v1/usage", { headers: { Authorization: "Bearer " + token } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(function (body) { render(box, body); })
      .catch(function () {
        box.replaceChildren(element("p", "Usage is not available right now."));
      })
      .finally(function () { box.removeAttribute("aria-busy"); });
  }

  document.querySelectorAll("[data-stripemeter-portal]").forEach(load);
})();
