// Campaign history: while a campaign on the page is still sending, follow its counters,
// status and bar. The table carries its API path and page: data-api-list, data-page, data-per-page.
import { api, byId, formatNumber, withQuery } from "../lib.js";
import { setBadge, setBar } from "./delivery.js";

const POLL_MS = 1000;
const FIELDS = ["audience_size", "sent", "failed", "pending"];

const table = byId("campaigns-table");
if (table) setTimeout(() => poll(table), POLL_MS);

function busy(table) {
  return table.querySelector('tr[data-status="sending"], tr[data-status="scheduled"]');
}

function poll(table) {
  if (!busy(table)) return;
  const data = table.dataset;
  api(withQuery(data.apiList, { page: data.page, per_page: data.perPage })).then((answer) => {
    answer.items.forEach((c) => {
      const row = table.querySelector('tr[data-campaign-id="' + c.id + '"]');
      if (!row) return;
      row.setAttribute("data-status", c.status);
      FIELDS.forEach((k) => { row.querySelector('[data-field="' + k + '"]').textContent = formatNumber(c[k]); });
      setBadge(row.querySelector('[data-field="status"]'), c.status);
      setBar(row.querySelector("svg[data-bar]"), c);
    });
  }).catch(() => { /* try again on the next tick */ }).then(() => {
    if (busy(table)) setTimeout(() => poll(table), 2 * POLL_MS);
  });
}
