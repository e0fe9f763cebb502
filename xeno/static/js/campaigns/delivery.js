// What the campaign list and a campaign's page both redraw while it sends: the status badge
// and the stacked sent / failed bar (the templates' delivery_bar macro).

export function setBadge(badge, status) {
  badge.textContent = status;
  badge.className = "badge badge-" + status;
}

export function setBar(svg, c) {
  if (!svg) return;
  const total = c.audience_size || 0;
  const sent = total ? (100 * c.sent) / total : 0;
  const failed = total ? (100 * c.failed) / total : 0;
  svg.querySelector(".bar-sent").setAttribute("width", sent.toFixed(2));
  const f = svg.querySelector(".bar-failed");
  f.setAttribute("x", sent.toFixed(2));
  f.setAttribute("width", failed.toFixed(2));
  svg.setAttribute("aria-label", c.sent + " sent, " + c.failed + " failed, " + c.pending + " pending");
}
