/* coldcall admin UI: small progressive enhancement. Every page works without this file. */
(function () {
  "use strict";

  // Confirm destructive actions (finish, archive, remove from the do-not-call list).
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Live calls: the server pushes the rendered fragment whenever the database state changes.
  function follow(container) {
    if (!("EventSource" in window)) {
      return;
    }
    var status = document.querySelector("[data-live-status]");
    var source = new EventSource(container.getAttribute("data-live-stream"));
    source.addEventListener("calls", function (event) {
      var payload;
      try {
        payload = JSON.parse(event.data);
      } catch (err) {
        return; // a broken message is skipped; the next one carries the whole state again
      }
      container.innerHTML = payload.html;
      container.setAttribute("data-active", String(payload.active));
      if (status) {
        var n = payload.active;
        status.textContent = n === 0 ? "Sin llamadas en curso · actualización automática."
          : (n === 1 ? "1 llamada en curso" : n + " llamadas en curso") + " · actualización automática.";
      }
    });
    source.addEventListener("open", function () {
      container.setAttribute("data-connected", "true");
    });
    source.addEventListener("error", function () {
      container.setAttribute("data-connected", "false");
      if (status) {
        status.textContent = "Conexión perdida; reconectando…";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var streams = document.querySelectorAll("[data-live-stream]");
    for (var i = 0; i < streams.length; i++) {
      follow(streams[i]);
    }
  });
})();

/* Dashboard: the cards and charts are fetched again every few seconds while the tab is visible. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.querySelector("[data-refresh]");
    if (!body || !window.fetch) {
      return;
    }
    var every = 1000 * Number(body.getAttribute("data-refresh-secs") || "10");
    window.setInterval(function () {
      if (document.hidden) {
        return;
      }
      fetch(body.getAttribute("data-refresh"), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) { if (html !== null) { body.innerHTML = html; } })
        .catch(function () { /* offline for a moment: the next tick tries again */ });
    }, every);
  });
})();
