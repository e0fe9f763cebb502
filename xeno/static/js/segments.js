// Segments list: ask before deleting (the form still posts without JavaScript), and count
// again the sizes on this page that are more than a minute old (GET segments?recount=1).
import { api, formatNumber, isStale, timeAgo, withQuery } from "./lib.js";

document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
});

const table = document.getElementById("segments-table");
if (table) freshen(table);

function freshen(table) {
  const cells = Array.from(table.querySelectorAll(".segment-counted"));
  if (!cells.some((cell) => isStale(cell.getAttribute("data-counted-at")))) return;
  cells.forEach((cell) => { cell.textContent = "counting…"; });
  const { apiList, page, perPage } = table.dataset;
  api(withQuery(apiList, { page, per_page: perPage, recount: 1 })).then((answer) => {
    answer.items.forEach((item) => {
      const row = table.querySelector('tr[data-segment-id="' + item.id + '"]');
      if (!row) return;
      row.querySelector(".segment-size").textContent = formatNumber(item.size);
      const counted = row.querySelector(".segment-counted");
      counted.setAttribute("data-counted-at", item.counted_at || "");
      counted.textContent = "counted " + timeAgo(item.counted_at);
    });
  }).catch(() => {
    cells.forEach((cell) => { cell.textContent = "counted " + timeAgo(cell.getAttribute("data-counted-at")); });
  });
}
