// The dashboard's only script (CSP: no inline scripts). htmx does the requests;
// this file adds what HTML alone cannot: copying an id, fresh relative times,
// waking the live poller, and a message when a request fails outright.
(function () {
  "use strict";

  // --- copy a task id ---------------------------------------------------------
  function copied(button) {
    button.classList.add("copied");
    button.setAttribute("aria-label", "Copied");
    setTimeout(function () {
      button.classList.remove("copied");
      button.removeAttribute("aria-label");
    }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy-id");
    if (!button) return;
    var id = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(id).then(function () { copied(button); }, function () {
        window.prompt("Copy the task id:", id);
      });
    } else {
      window.prompt("Copy the task id:", id);
    }
  });

  // --- relative times ("12 s ago"), the same words as app/dashboard/views.py ---
  function ago(epoch, now) {
    var delta = Math.floor(now - epoch);
    var future = delta < 0;
    var seconds = Math.abs(delta);
    if (seconds < 5) return "just now";
    var units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
    for (var i = 0; i < units.length; i++) {
      if (seconds >= units[i][1]) {
        var amount = Math.floor(seconds / units[i][1]) + " " + units[i][0];
        return future ? "in " + amount : amount + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes() {
    var now = Date.now() / 1000;
    document.querySelectorAll("time[data-epoch]").forEach(function (element) {
      element.textContent = ago(Number(element.getAttribute("data-epoch")), now);
    });
  }
  setInterval(refreshTimes, 10000);

  // --- filters: a changed select applies at once (the form still works without JS)
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("#filters select") && select.form) {
      select.form.requestSubmit();
    }
  });

  // --- live updates ---------------------------------------------------------------
  // The server decides: an in-flight row carries <input name="live">, the poller
  // polls while the server saw one and goes idle when none was left. A row that
  // arrives later (a new task, a retry, "load more") wakes an idle poller here.
  // Checked once new content is initialised (htmx:load), after every swap of
  // the response is done, so a row on its way out does not count.
  var wakeQueued = false;
  function wakePoller() {
    wakeQueued = false;
    var poller = document.getElementById("live-poller");
    if (poller && poller.getAttribute("data-state") === "idle" && document.querySelector("input[name='live']")) {
      htmx.trigger(poller, "tasks-in-flight");
    }
  }
  function queueWake() {
    if (!wakeQueued) {
      wakeQueued = true;
      setTimeout(wakePoller, 0);
    }
  }

  // --- messages --------------------------------------------------------------------
  function say(where, text) {
    var region = document.getElementById(where) || document.getElementById("alerts");
    if (!region) return;
    var message = document.createElement("p");
    message.className = "alert";
    message.textContent = text;
    region.replaceChildren(message);
  }

  function fromPoller(event) {
    return event.detail && event.detail.elt && event.detail.elt.id === "live-poller";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!fromPoller(event)) {
      var alerts = document.getElementById("alerts");
      if (alerts) alerts.replaceChildren();
    }
  });
  document.addEventListener("htmx:load", queueWake);
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    say(fromPoller(event) ? "live-status" : "alerts",
      "The server answered " + status + "; nothing was changed. Reload the page to try again.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    say(fromPoller(event) ? "live-status" : "alerts",
      "The dashboard can't reach the server. Check the connection; live updates resume when it is back.");
  });
})();
