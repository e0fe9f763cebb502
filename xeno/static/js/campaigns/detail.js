// One campaign's page while it sends: the figures, status, bar and doughnut chart (Chart.js,
// loaded before this module) and the delivery log follow it until it is done. The page
// carries the API paths: data-api-campaign on #campaign-detail, data-api-log on #log-table.
import { api, byId, el, fillUrl, formatNumber, shortDate, withQuery } from "../lib.js";
import { setBadge, setBar } from "./delivery.js";

const POLL_MS = 1000;

const box = byId("campaign-detail");
if (box) follow(box);
const results = byId("results");
if (results && window.Chart) drawConversions(results, byId("conversions-chart"));

function follow(box) {
  const logTable = byId("log-table");
  const canvas = byId("delivery-chart");
  const chart = window.Chart && canvas ? drawChart(box, canvas) : null;

  function show(c) {
    byId("figure-audience").textContent = formatNumber(c.audience_size);
    byId("figure-sent").textContent = formatNumber(c.sent);
    byId("figure-failed").textContent = formatNumber(c.failed);
    byId("figure-pending").textContent = formatNumber(c.pending);
    if (byId("figure-holdout")) byId("figure-holdout").textContent = formatNumber(c.holdout);
    setBadge(byId("campaign-status"), c.status);
    box.setAttribute("data-status", c.status);
    ["sent", "failed", "pending"].forEach((k) => box.setAttribute("data-" + k, c[k]));
    setBar(box.querySelector("svg[data-bar]"), c);
    if (canvas) canvas.setAttribute("aria-label", "Delivery: " + c.sent + " sent, " + c.failed + " failed, " + c.pending + " pending");
    if (chart) {
      chart.data.datasets[0].data = [c.sent, c.failed, c.pending];
      chart.update();
    }
    if (c.status === "done") byId("chart-note").textContent = "Delivery finished.";
  }

  function poll() {
    api(box.dataset.apiCampaign).then((c) => {
      show(c);
      const again = c.status !== "done";
      return refreshLog(logTable).catch(() => {}).then(() => {
        if (again) setTimeout(poll, POLL_MS);
      });
    }).catch(() => { setTimeout(poll, 3 * POLL_MS); });
  }
  if (box.getAttribute("data-status") !== "done") setTimeout(poll, POLL_MS);
}

function drawChart(box, canvas) {
  box.classList.add("has-chart");
  const figure = (name) => +box.getAttribute("data-" + name);
  return new window.Chart(canvas, {
    type: "doughnut",
    data: {
      labels: ["Sent", "Failed", "Pending"],
      datasets: [{ data: [figure("sent"), figure("failed"), figure("pending")],
        backgroundColor: ["#12b76a", "#f04438", "#d0d5dd"], borderWidth: 0 }]
    },
    options: {
      responsive: true, maintainAspectRatio: false, cutout: "62%",
      animation: { duration: 250 },
      plugins: { legend: { position: "bottom" } }
    }
  });
}

// Redraw the page of the log the table shows (its page, size and status filter).
function refreshLog(logTable) {
  const data = logTable.dataset;
  const path = withQuery(data.apiLog, { page: data.page, per_page: data.perPage, status: data.status });
  return api(path).then((answer) => {
    const body = logTable.querySelector("tbody");
    body.textContent = "";
    answer.items.forEach((row) => {
      body.appendChild(el("tr", {}, [
        el("td", {}, [customerCell(data.customerUrl, row),
          el("span", { class: "cell-sub", text: row.customer_id || "—" })]),
        el("td", { class: "message-cell", text: row.message }),
        el("td", {}, [
          el("span", { class: "badge badge-log-" + row.status.toLowerCase(), text: row.status }),
          row.reason ? el("span", { class: "cell-sub log-reason", text: row.reason }) : null,
        ]),
        el("td", { class: "nowrap", text: shortDate(row.updated_at) })
      ]));
    });
    if (!answer.items.length) {
      body.appendChild(el("tr", { class: "empty-row" }, [el("td", { colspan: "4", text: "No messages." })]));
    }
  });
}

// Customers converted per day since the campaign was created: recipients against the
// holdout, as GET campaigns/<id>/results/daily counts them.
function drawConversions(section, canvas) {
  if (!canvas) return;
  api(section.dataset.apiDaily).then((daily) => {
    section.classList.add("has-chart");
    section.setAttribute("data-chart-days", daily.days.length);
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: daily.days,
        datasets: [
          { label: "Recipients converted", data: daily.recipients, backgroundColor: "#12b76a" },
          { label: "Holdout converted", data: daily.holdout, backgroundColor: "#98a2b3" }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: { duration: 250 },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }).catch(() => { section.setAttribute("data-chart-error", "1"); });
}

// The recipient's name, linked to their profile (a deleted customer has no id to link to).
function customerCell(customerUrl, row) {
  const name = el("span", { class: "cell-main", text: row.name || "—" });
  if (!row.customer_id || !customerUrl) return name;
  return el("a", { class: "customer-link", href: fillUrl(customerUrl, { id: row.customer_id }) }, [name]);
}
