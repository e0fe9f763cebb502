// Campaign pages: live message preview and sending (new), counters that follow delivery
// (history), and the delivery chart plus log that update while a campaign sends (detail).
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;
  var POLL_MS = 1000;
  var numberFormat = new Intl.NumberFormat("en-IN");

  function api(path, options) { return window.xeno.api(path, options); }
  function fmt(n) { return numberFormat.format(n || 0); }
  function $(id) { return document.getElementById(id); }
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // "5 Mar 2025, 10:00 UTC", as the pages' shortdate filter writes it.
  function shortDate(iso) {
    var d = iso ? new Date(iso) : null;
    if (!d || isNaN(d)) return "—";
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
      two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ---- new campaign ------------------------------------------------------------------
  function newCampaign(form) {
    var message = $("message"), audience = $("campaign-audience"), list = $("message-previews");
    var errorBox = $("campaign-error");
    var timer = null, seq = 0;

    function choice() {
      var checked = form.querySelector("input[name=audience]:checked");
      return checked ? checked.value : "rule";
    }
    function showChoice() {
      form.querySelectorAll(".audience-input").forEach(function (box) {
        box.hidden = box.getAttribute("data-audience") !== choice();
      });
    }
    function body() {
      var data = { message: message.value };
      var name = $("campaign-name").value.trim();
      if (name) data.name = name;
      if (choice() === "segment") data.segment_id = parseInt($("segment-id").value, 10);
      else data.rule = $("campaign-rule").value;
      return data;
    }
    function ready(data) {
      return data.message.trim() && (data.rule === undefined ? !isNaN(data.segment_id) : data.rule.trim());
    }
    function showError(error) {
      var b = error.body || {};
      errorBox.textContent = "";
      var p = el("p", "rule-error-message");
      p.appendChild(el("strong", null, b.message || error.message));
      if (b.error === "invalid_rule" && b.line) {
        p.appendChild(document.createTextNode(" — "));
        p.appendChild(el("span", "rule-error-where", "line " + b.line + ", column " + b.column));
      }
      errorBox.appendChild(p);
      if (b.error === "invalid_rule" && b.context) errorBox.appendChild(el("pre", "rule-error-context", b.context));
      if (b.errors) b.errors.forEach(function (e) { errorBox.appendChild(el("p", "hint", (e.field ? e.field + ": " : "") + e.message)); });
      errorBox.hidden = false;
    }
    function preview() {
      timer = null;
      var data = body(), mine = ++seq;
      if (!ready(data)) { audience.textContent = "—"; list.textContent = ""; return; }
      api("campaigns/preview", { method: "POST", body: data }).then(function (answer) {
        if (mine !== seq) return;
        errorBox.hidden = true;
        audience.textContent = String(answer.audience_size);
        list.textContent = "";
        answer.messages.forEach(function (m) {
          var item = el("li");
          item.appendChild(el("span", "cell-sub", m.customer.name + " · " + m.customer.id));
          item.appendChild(el("p", "message-text", m.text));
          list.appendChild(item);
        });
      }).catch(function (error) { if (mine === seq) showError(error); });
    }
    function schedule() { clearTimeout(timer); timer = setTimeout(preview, DEBOUNCE_MS); }

    form.querySelectorAll("[data-insert]").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-insert");
        var start = message.selectionStart, end = message.selectionEnd;
        message.setRangeText(text, start, end, "end");
        message.focus();
        schedule();
      });
    });
    form.addEventListener("input", schedule);
    form.addEventListener("change", function () { showChoice(); schedule(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!event.submitter || event.submitter.value !== "send") { clearTimeout(timer); preview(); return; }
      var send = $("send-button");
      send.disabled = true;
      api("campaigns", { method: "POST", body: body() }).then(function (answer) {
        window.location.assign("/campaigns/" + answer.id);
      }).catch(function (error) { send.disabled = false; showError(error); });
    });
    showChoice();
    preview();
  }

  // ---- history: follow campaigns that are still sending --------------------------------
  function setBar(svg, c) {
    if (!svg) return;
    var total = c.audience_size || 0;
    var sent = total ? (100 * c.sent) / total : 0, failed = total ? (100 * c.failed) / total : 0;
    svg.querySelector(".bar-sent").setAttribute("width", sent.toFixed(2));
    var f = svg.querySelector(".bar-failed");
    f.setAttribute("x", sent.toFixed(2));
    f.setAttribute("width", failed.toFixed(2));
    svg.setAttribute("aria-label", c.sent + " sent, " + c.failed + " failed, " + c.pending + " pending");
  }
  function setStatus(badge, status) {
    badge.textContent = status;
    badge.className = "badge badge-" + status;
  }

  function history(table) {
    function busy() { return table.querySelector('tr[data-status="sending"], tr[data-status="scheduled"]'); }
    function poll() {
      if (!busy()) return;
      var page = table.getAttribute("data-page"), per = table.getAttribute("data-per-page");
      api("campaigns?page=" + page + "&per_page=" + per).then(function (answer) {
        answer.items.forEach(function (c) {
          var row = table.querySelector('tr[data-campaign-id="' + c.id + '"]');
          if (!row) return;
          row.setAttribute("data-status", c.status);
          ["audience_size", "sent", "failed", "pending"].forEach(function (k) {
            row.querySelector('[data-field="' + k + '"]').textContent = fmt(c[k]);
          });
          setStatus(row.querySelector('[data-field="status"]'), c.status);
          setBar(row.querySelector("svg[data-bar]"), c);
        });
      }).catch(function () { /* try again on the next tick */ }).then(function () {
        if (busy()) setTimeout(poll, 2 * POLL_MS);
      });
    }
    setTimeout(poll, POLL_MS);
  }

  // ---- detail: chart, figures and log while sending ------------------------------------
  function detail(box) {
    var id = box.getAttribute("data-campaign-id");
    var logTable = $("log-table");
    var chart = null;
    var canvas = $("delivery-chart");
    var figures = {
      audience_size: +box.getAttribute("data-audience"), sent: +box.getAttribute("data-sent"),
      failed: +box.getAttribute("data-failed"), pending: +box.getAttribute("data-pending"),
      status: box.getAttribute("data-status")
    };

    if (window.Chart && canvas) {
      box.classList.add("has-chart");
      chart = new window.Chart(canvas, {
        type: "doughnut",
        data: {
          labels: ["Sent", "Failed", "Pending"],
          datasets: [{ data: [figures.sent, figures.failed, figures.pending],
            backgroundColor: ["#12b76a", "#f04438", "#d0d5dd"], borderWidth: 0 }]
        },
        options: {
          responsive: true, maintainAspectRatio: false, cutout: "62%",
          animation: { duration: 250 },
          plugins: { legend: { position: "bottom" } }
        }
      });
    }

    function show(c) {
      $("figure-audience").textContent = fmt(c.audience_size);
      $("figure-sent").textContent = fmt(c.sent);
      $("figure-failed").textContent = fmt(c.failed);
      $("figure-pending").textContent = fmt(c.pending);
      setStatus($("campaign-status"), c.status);
      box.setAttribute("data-status", c.status);
      ["sent", "failed", "pending"].forEach(function (k) { box.setAttribute("data-" + k, c[k]); });
      setBar(box.querySelector("svg[data-bar]"), c);
      if (canvas) canvas.setAttribute("aria-label", "Delivery: " + c.sent + " sent, " + c.failed + " failed, " + c.pending + " pending");
      if (chart) {
        chart.data.datasets[0].data = [c.sent, c.failed, c.pending];
        chart.update();
      }
      if (c.status === "done") $("chart-note").textContent = "Delivery finished.";
    }

    function refreshLog() {
      var status = logTable.getAttribute("data-status");
      var page = logTable.getAttribute("data-page"), per = logTable.getAttribute("data-per-page");
      var query = "?page=" + page + "&per_page=" + per + (status ? "&status=" + status : "");
      return api("campaigns/" + id + "/log" + query).then(function (answer) {
        var body = logTable.querySelector("tbody");
        body.textContent = "";
        answer.items.forEach(function (row) {
          var tr = el("tr");
          var who = el("td");
          who.appendChild(el("span", "cell-main", row.name || "—"));
          who.appendChild(el("span", "cell-sub", row.customer_id || "—"));
          tr.appendChild(who);
          tr.appendChild(el("td", "message-cell", row.message));
          var st = el("td");
          st.appendChild(el("span", "badge badge-log-" + row.status.toLowerCase(), row.status));
          if (row.reason) st.appendChild(el("span", "cell-sub log-reason", row.reason));
          tr.appendChild(st);
          tr.appendChild(el("td", "nowrap", shortDate(row.updated_at)));
          body.appendChild(tr);
        });
        if (!answer.items.length) {
          var empty = el("tr", "empty-row"), td = el("td", null, "No messages.");
          td.setAttribute("colspan", "4");
          empty.appendChild(td);
          body.appendChild(empty);
        }
      });
    }

    function poll() {
      api("campaigns/" + id).then(function (c) {
        show(c);
        var again = c.status !== "done";
        return refreshLog().catch(function () {}).then(function () {
          if (again) setTimeout(poll, POLL_MS);
        });
      }).catch(function () { setTimeout(poll, 3 * POLL_MS); });
    }
    if (figures.status !== "done") setTimeout(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.xeno) return;
    var form = $("campaign-form");
    if (form) newCampaign(form);
    var table = $("campaigns-table");
    if (table) history(table);
    var box = $("campaign-detail");
    if (box) detail(box);
  });
})();
