// The dashboard's only script (CSP: no inline scripts). htmx does the requests;
// this file adds what HTML alone cannot: copying an id, fresh relative times and
// running durations, the live list (newest row, pause), bulk selection, the order
// of loaded rows, UTC or local times, focus on errors, and a notice when the
// server can't be reached. Everything works without it, in UTC.
(function () {
  "use strict";

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function stored(key, fallback) {
    try { return window.sessionStorage.getItem(key) || fallback; } catch (e) { return fallback; }
  }
  function store(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* private mode: not kept */ }
  }
  function kept(key, fallback) {
    try { return window.localStorage.getItem(key) || fallback; } catch (e) { return fallback; }
  }
  function keep(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: not kept */ }
  }

  // --- morphing: live content updated in place --------------------------------------
  // A swap with hx-swap="morph" (or hx-swap-oob="morph") changes the nodes already
  // on the page to match the new ones instead of replacing them: the element under the
  // pointer, the focused one, a ticked box and an open <details> stay what they were;
  // a table that grew gets its new rows appended. Children are matched by id, else by
  // position and kind; nothing is moved unless the order changed.
  function sameKind(a, b) {
    return a.nodeType === b.nodeType && a.nodeName === b.nodeName;
  }
  function morphAttributes(from, to) {
    // An open <details> is the operator's: the server never opens or closes it again.
    var keepOpen = from.nodeName === "DETAILS";
    Array.prototype.slice.call(from.attributes).forEach(function (attribute) {
      if (!to.hasAttribute(attribute.name) && !(keepOpen && attribute.name === "open")) {
        from.removeAttribute(attribute.name);
      }
    });
    Array.prototype.slice.call(to.attributes).forEach(function (attribute) {
      if (keepOpen && attribute.name === "open") return;
      if (from.getAttribute(attribute.name) !== attribute.value) from.setAttribute(attribute.name, attribute.value);
    });
  }
  function morphNode(from, to) {
    if (from.nodeType !== Node.ELEMENT_NODE) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    morphAttributes(from, to);
    if (from.nodeName === "TEXTAREA" || from.nodeName === "TEMPLATE") return;
    morphChildren(from, to);
  }
  function morphChildren(from, to) {
    var old = Array.prototype.slice.call(from.childNodes);
    var byId = {};
    old.forEach(function (node) { if (node.nodeType === Node.ELEMENT_NODE && node.id) byId[node.id] = node; });
    var used = [];
    var cursor = 0;
    var wanted = Array.prototype.slice.call(to.childNodes).map(function (next) {
      var match = null;
      if (next.nodeType === Node.ELEMENT_NODE && next.id) {
        match = byId[next.id] && used.indexOf(byId[next.id]) < 0 && sameKind(byId[next.id], next) ? byId[next.id] : null;
      } else {
        // The next unused node of the same kind, a few places ahead at most.
        for (var i = cursor; i < old.length && i < cursor + 4; i++) {
          var candidate = old[i];
          if (used.indexOf(candidate) < 0 && !(candidate.id) && sameKind(candidate, next)) {
            match = candidate;
            cursor = i + 1;
            break;
          }
        }
      }
      if (!match) return next;
      used.push(match);
      morphNode(match, next);
      return match;
    });
    wanted.forEach(function (node, index) {
      var here = from.childNodes[index] || null;
      if (here !== node) from.insertBefore(node, here);
    });
    while (from.childNodes.length > wanted.length) from.removeChild(from.lastChild);
  }
  function morph(target, replacement) {
    if (!replacement || target.nodeName !== replacement.nodeName) {
      target.replaceWith(replacement);
      return replacement;
    }
    morphNode(target, replacement);
    return target;
  }
  window.htmx && htmx.defineExtension("morph", {
    isInlineSwap: function (style) { return style === "morph"; },
    handleSwap: function (style, target, fragment) {
      if (style !== "morph") return false;
      return [morph(target, fragment.firstElementChild)];
    },
  });

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

  // --- relative times and spans: the same words as app/dashboard/views.py and timing.py
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

  function span(seconds) {
    if (seconds < 1) return "<1 s";
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
    if (seconds < 86400) return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
    return Math.floor(seconds / 86400) + " d " + Math.floor((seconds % 86400) / 3600) + " h";
  }

  function refreshTimes() {
    var now = Date.now() / 1000;
    all("time[data-epoch]").forEach(function (element) {
      element.textContent = ago(Number(element.getAttribute("data-epoch")), now);
    });
  }
  setInterval(refreshTimes, 10000);

  function refreshSpans() {
    var now = Math.floor(Date.now() / 1000);
    all(".ticking[data-since]").forEach(function (element) {
      element.textContent = span(Math.max(0, now - Number(element.getAttribute("data-since"))));
    });
  }
  setInterval(refreshSpans, 1000);

  // --- UTC or local time ------------------------------------------------------------
  // The server writes UTC; in local mode exact times, their hover titles and the
  // time pickers show the browser's time, and picked times are sent back as UTC.
  var localTime = kept("dashboard-times", "utc") === "local";

  function pad(number, size) {
    var text = String(number);
    while (text.length < (size || 2)) text = "0" + text;
    return text;
  }
  function offsetName(date) {
    var minutes = -date.getTimezoneOffset();
    var sign = minutes < 0 ? "-" : "+";
    minutes = Math.abs(minutes);
    return "UTC" + sign + pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }
  function formatTime(ms, withMillis) {
    var date = new Date(ms);
    var millis = withMillis ? "." + pad(localTime ? date.getMilliseconds() : date.getUTCMilliseconds(), 3) : "";
    if (!localTime) {
      return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) + " " +
        pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds()) + millis + " UTC";
    }
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) + millis +
      " " + offsetName(date);
  }
  // "2026-11-05T10:30:15" read as UTC -> the same moment as a local picker value, and back.
  function pickerToLocal(value) {
    var date = new Date(value + "Z");
    if (isNaN(date)) return value;
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
  }
  function pickerToUtc(value) {
    var date = new Date(value);
    if (isNaN(date)) return value;
    return date.toISOString().slice(0, 19);
  }

  function showTimes(root) {
    all("time[data-epoch]", root).forEach(function (element) {
      element.title = formatTime(Number(element.getAttribute("data-epoch")) * 1000, false);
    });
    all("time[data-exact]", root).forEach(function (element) {
      element.textContent = formatTime(Number(element.getAttribute("data-exact")) * 1000, false);
    });
    all("time[data-title-ms]", root).forEach(function (element) {
      element.title = formatTime(Number(element.getAttribute("data-title-ms")), true);
    });
    var zone = localTime ? "local, " + offsetName(new Date()) : "UTC";
    all(".tz-name", root).forEach(function (element) { element.textContent = zone; });
    all("input[data-utc]", root).forEach(function (input) {
      // The value as the server wrote it (UTC) is kept, so switching back is exact.
      if (!input.hasAttribute("data-utc-value")) input.setAttribute("data-utc-value", input.value);
      var utcValue = input.getAttribute("data-utc-value");
      input.value = localTime && utcValue ? pickerToLocal(utcValue) : utcValue;
    });
    var toggle = document.getElementById("time-zone");
    if (toggle) {
      toggle.hidden = false;
      toggle.setAttribute("aria-pressed", localTime ? "true" : "false");
    }
  }

  document.addEventListener("click", function (event) {
    if (!event.target.closest("#time-zone")) return;
    // What the user picked (in the zone shown) survives the switch.
    all("input[data-utc]").forEach(function (input) {
      input.setAttribute("data-utc-value", input.value && localTime ? pickerToUtc(input.value) : input.value);
    });
    localTime = !localTime;
    keep("dashboard-times", localTime ? "local" : "utc");
    showTimes(document);
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-utc]")) {
      var input = event.target;
      input.setAttribute("data-utc-value", input.value && localTime ? pickerToUtc(input.value) : input.value);
    }
  });

  // --- filters: a changed select applies at once (the form still works without JS)
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("#filters select") && select.form) {
      select.form.requestSubmit();
    }
  });

  // --- the order of the loaded rows ---------------------------------------------------
  // The server orders what it renders (app/dashboard/timing.py sorted_rows); rows
  // that arrive later (live, "Load more") take their place here, the same way.
  function newestFirst(a, b) {
    var left = a.getAttribute("data-key"), right = b.getAttribute("data-key");
    return left < right ? 1 : left > right ? -1 : 0;
  }
  // Run time: first started to finished (or now), queue wait aside; 0 for a task not started.
  // Between attempts it stands still at the last attempt's crash (data-stopped).
  function durationOf(row, now) {
    var started = row.getAttribute("data-started");
    var end = row.getAttribute("data-finished") || row.getAttribute("data-stopped");
    if (!started) return 0;
    return Math.max(0, (end ? Number(end) : now) - Number(started));
  }
  var ORDERS = {
    created: newestFirst,
    oldest: function (a, b) { return -newestFirst(a, b); },
    duration: function (a, b, now) { return (durationOf(b, now) - durationOf(a, now)) || newestFirst(a, b); },
    status: function (a, b) {
      return (Number(a.getAttribute("data-rank")) - Number(b.getAttribute("data-rank"))) || newestFirst(a, b);
    },
  };
  function sortRows() {
    var table = document.querySelector("table.tasks");
    var order = table && ORDERS[table.getAttribute("data-sort")];
    var body = document.getElementById("task-rows");
    if (!order || !body) return;
    var now = Math.floor(Date.now() / 1000);
    var rows = all("tr.task-row", body);
    var sorted = rows.slice().sort(function (a, b) { return order(a, b, now); });
    if (sorted.every(function (row, index) { return row === rows[index]; })) return;
    // Only rows out of place move: a moved node loses the focus, so the others stay put.
    sorted.forEach(function (row, index) {
      var here = all("tr.task-row", body)[index] || null;
      if (here !== row) body.insertBefore(row, here);
    });
    all("tr.load-more, tr.end-row", body).forEach(function (row) { body.appendChild(row); });
  }

  // --- bulk selection -----------------------------------------------------------------
  // Failed rows tick into the retry form, rows in flight into the cancel form. What is
  // ticked is kept by task id: a live tick redraws a row in flight, and its box with it.
  var BULK = {
    "bulk-retry": { button: "bulk-retry-button", question: function (n) {
      return "Retry the " + n + " selected failed task" + (n === 1 ? "" : "s") + "? Each runs again as a new task.";
    } },
    "bulk-cancel": { button: "bulk-cancel-button", question: function (n) {
      return "Cancel the " + n + " selected task" + (n === 1 ? "" : "s") + " in flight? Scheduled and created ones " +
        "end at once; running ones at their next progress report.";
    } },
  };
  var ticked = {};
  function boxes(form) {
    return all("#task-rows input[name='ids']" + (form ? "[form='" + form + "']" : ""));
  }
  function selection() {
    var every = boxes();
    every.forEach(function (box) { if (ticked[box.value]) box.checked = true; });
    var selectAll = document.getElementById("select-all");
    var checked = every.filter(function (box) { return box.checked; });
    if (selectAll) {
      selectAll.closest("label").hidden = false;
      selectAll.disabled = every.length === 0;
      selectAll.checked = every.length > 0 && checked.length === every.length;
      selectAll.indeterminate = checked.length > 0 && checked.length < every.length;
    }
    Object.keys(BULK).forEach(function (formId) {
      var form = document.getElementById(formId);
      var button = document.getElementById(BULK[formId].button);
      if (!form || !button) return;
      var count = boxes(formId).filter(function (box) { return box.checked; }).length;
      button.disabled = count === 0;
      var shown = button.querySelector(".selected-count");
      if (shown) shown.textContent = count ? " (" + count + ")" : "";
      form.setAttribute("hx-confirm", BULK[formId].question(count));
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = target.checked; ticked[box.value] = target.checked; });
    } else if (target.name === "ids") {
      ticked[target.value] = target.checked;
    }
    if (target.id === "select-all" || target.name === "ids") selection();
  });
  // After a bulk action, what it acted on is ticked no more.
  document.addEventListener("htmx:afterRequest", function (event) {
    var id = event.detail.elt && event.detail.elt.id;
    if (event.detail.successful && BULK[id]) {
      boxes(id).forEach(function (box) { box.checked = false; ticked[box.value] = false; });
      selection();
    }
  });

  // --- live updates ---------------------------------------------------------------
  // The server decides how often (every 1 s while rows are in flight, every 2 s
  // otherwise). Here: the newest row shown (tasks above it are new), no tick while
  // paused or while the page is hidden, and an immediate tick when an in-flight
  // row appears while the poller is quiet.
  var paused = stored("dashboard-live", "on") === "paused";

  function showPause() {
    all("#live-toggle").forEach(function (button) {
      button.hidden = false;
      button.setAttribute("aria-pressed", paused ? "true" : "false");
      button.textContent = paused ? "Resume live updates" : "Pause live updates";
    });
    all("#live-paused").forEach(function (banner) { banner.hidden = !paused; });
  }
  document.addEventListener("click", function (event) {
    if (!event.target.closest("#live-toggle")) return;
    paused = !paused;
    store("dashboard-live", paused ? "paused" : "on");
    showPause();
  });

  // --- new rows: held while the operator is using the list ------------------------------
  // A tick's new rows arrive in #held-rows (hidden). They go on top at once unless the
  // pointer is over the list, the focus is inside it or it is scrolled into: then a bar
  // says how many wait, and they go in when it is clicked or the list is left alone.
  var pointerInList = false;
  document.addEventListener("pointerover", function (event) {
    if (event.pointerType === "touch") return;
    pointerInList = !!(event.target.closest && event.target.closest("table.tasks"));
  });
  document.documentElement.addEventListener("pointerleave", function () { pointerInList = false; });

  function usingTheList() {
    var table = document.querySelector("table.tasks");
    if (!table) return false;
    var active = document.activeElement;
    var focused = !!active && active !== document.body && table.contains(active);
    return pointerInList || focused || table.getBoundingClientRect().top < 0;
  }
  function heldRows() {
    return all("#held-rows tr.task-row");
  }
  function showHeld() {
    var bar = document.getElementById("held-bar");
    if (!bar) return;
    var count = heldRows().length;
    var wasShown = !bar.hidden && bar.getAttribute("data-count") === String(count);
    bar.hidden = count === 0;
    bar.setAttribute("data-count", String(count));
    var button = bar.querySelector("button");
    if (button) button.textContent = count + " new task" + (count === 1 ? "" : "s") + ": show " + (count === 1 ? "it" : "them");
    // Said once per change, politely: the rows are not on the list yet.
    var announce = document.getElementById("live-announce");
    if (announce && count && !wasShown) {
      announce.textContent = count + " new task" + (count === 1 ? " waits" : "s wait") +
        " above the list while you use it: the bar at the top shows " + (count === 1 ? "it." : "them.");
    }
  }
  function releaseHeld(focusFirst) {
    var body = document.getElementById("task-rows");
    var held = heldRows();
    if (!body || !held.length) return;
    held.forEach(function (row) { body.insertBefore(row, body.querySelector("tr.task-row")); });
    sortRows();
    showHeld();
    if (focusFirst) {
      var top = body.querySelector("tr.task-row .copy-id");
      if (top) top.focus();
    }
  }
  function holdOrRelease() {
    if (usingTheList()) showHeld();
    else releaseHeld(false);
  }
  document.addEventListener("click", function (event) {
    // From the keyboard, the focus goes on to the newest row (the bar is gone); a click leaves it.
    if (event.target.closest("#held-bar button")) releaseHeld(event.detail === 0);
  });
  // After a tick's rows are in (a tick's own events go to its poller, replaced by then), and
  // whenever the operator leaves the list alone.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "held-rows") setTimeout(holdOrRelease, 0);
  });
  setInterval(function () { if (heldRows().length) holdOrRelease(); }, 500);

  function newestRow() {
    var newest = "";
    all("#task-rows tr.task-row[data-key], #held-rows tr.task-row[data-key]").forEach(function (row) {
      var key = row.getAttribute("data-key");
      if (key > newest) newest = key;
    });
    return newest;
  }

  var wakeQueued = false;
  function wakePoller() {
    wakeQueued = false;
    var poller = document.getElementById("live-poller");
    if (!paused && poller && poller.getAttribute("data-state") === "quiet" && document.querySelector("input[name='live']")) {
      htmx.trigger(poller, "tasks-in-flight");
    }
  }
  function queueWake() {
    if (!wakeQueued) {
      wakeQueued = true;
      setTimeout(wakePoller, 0);
    }
  }

  function fromPoller(event) {
    return event.detail && event.detail.elt && event.detail.elt.id === "live-poller";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    if (fromPoller(event) && event.detail.elt.getAttribute("data-watch") === "true") {
      event.detail.parameters.newest = newestRow();
    }
    // Picked times go to the server as UTC, whatever zone they were shown in.
    if (localTime) {
      ["created_from", "created_to"].forEach(function (name) {
        var value = event.detail.parameters[name];
        if (typeof value === "string" && value) event.detail.parameters[name] = pickerToUtc(value);
      });
    }
  });

  // --- messages, the connection, loading states -----------------------------------------
  function say(where, text) {
    var region = document.getElementById(where) || document.getElementById("alerts");
    if (!region) return;
    var message = document.createElement("p");
    message.className = "alert server-error";
    message.textContent = text;
    region.replaceChildren(message);
  }

  var connection = document.getElementById("connection");
  function offline(text) {
    if (!connection) return;
    connection.textContent = text;
    connection.hidden = false;
  }
  function online() {
    if (connection && !connection.hidden) {
      connection.hidden = true;
      connection.textContent = "";
    }
  }
  window.addEventListener("offline", function () {
    all(".server-error").forEach(function (shown) { shown.remove(); });
    offline("You are offline. Live updates resume when the connection is back.");
  });
  window.addEventListener("online", online);

  function countsBusy(busy) {
    var counts = document.getElementById("counts");
    if (counts) counts.setAttribute("aria-busy", busy ? "true" : "false");
  }

  // A filter change replaces the list: a tick asked for the list it replaces must not land in
  // the new one (its new rows match the old filters), so the tick out is aborted and none
  // goes out until the new list is in.
  var listLoading = false;
  function forList(event) {
    return event.detail.target && event.detail.target.id === "results";
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (fromPoller(event)) {
      if (paused || document.hidden || listLoading) event.preventDefault();
      return;
    }
    var alerts = document.getElementById("alerts");
    if (alerts) alerts.replaceChildren();
    if (forList(event)) {
      listLoading = true;
      countsBusy(true);
      var poller = document.getElementById("live-poller");
      if (poller && poller.classList.contains("htmx-request")) htmx.trigger(poller, "htmx:abort");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (forList(event)) listLoading = false;
    if (event.detail.successful) {
      online();
      if (fromPoller(event)) all(".server-error").forEach(function (shown) { shown.remove(); });
    }
    countsBusy(false);
  });
  // One notice at a time: an error the server answered, or the connection lost, never both.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    online();
    say(fromPoller(event) ? "live-status" : "alerts",
      "The server answered " + status + "; nothing was changed. Reload the page to try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    all(".server-error").forEach(function (shown) { shown.remove(); });
    offline("The dashboard can't reach the server. Check the connection; live updates resume when it is back.");
  });

  // --- focus: the first field in error, wherever an error was drawn ------------------------
  function focusError(root) {
    var invalid = (root || document).querySelector("[aria-invalid='true']");
    if (invalid && typeof invalid.focus === "function") invalid.focus();
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id !== "live-poller") focusError(target.isConnected ? target : document);
  });

  // --- new content: apply the above to it -----------------------------------------------
  document.addEventListener("htmx:load", function (event) {
    showTimes(event.detail.elt);
    showPause();
    selection();
    queueWake();
  });
  // Once every swap of a response is done (live rows come out of band), so the rows it
  // added are all in place: once per response.
  var sortQueued = false;
  function queueSort() {
    if (!sortQueued) {
      sortQueued = true;
      setTimeout(function () { sortQueued = false; sortRows(); }, 0);
    }
  }
  document.addEventListener("htmx:afterSettle", queueSort);
  document.addEventListener("htmx:oobAfterSwap", queueSort);

  document.addEventListener("DOMContentLoaded", function () {
    // On a phone the first screen is the list: the filters fold away, unless one is in error.
    var panel = document.getElementById("filter-panel");
    if (panel && window.matchMedia("(max-width: 720px)").matches && !panel.querySelector("[aria-invalid='true']")) {
      panel.removeAttribute("open");
    }
    showTimes(document);
    showPause();
    selection();
    sortRows();
    if (!document.querySelector("[autofocus]")) focusError(document);
  });
})();
