// What every page script shares: building DOM nodes, status lines, showing a rule's error,
// Indian number, rupee and date formats, and fetch() for the JSON API with the CSRF token.
// URLs come from the page: the API root from <meta name="api-root">, the rest from data
// attributes on each page's root element.

// ---- DOM ---------------------------------------------------------------------------
export function byId(id) {
  return document.getElementById(id);
}

// el("td", { class: "num", text: "3", onclick: f }, [child, …]): attributes, `text` for the
// text content, `on…` for listeners; null, undefined and false attributes and children are left out.
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (value === null || value === undefined || value === false) return;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  });
  (children || []).forEach((child) => { if (child) node.append(child); });
  return node;
}

// A status line: a short message, marked as an error or not.
export function setStatus(line, text, isError) {
  line.textContent = text;
  line.classList.toggle("is-error", !!isError);
}

// ---- a rule's error ----------------------------------------------------------------
// The error box under a rule: the message, "line L, column C" and the line with a caret
// (from `text`, the rule as sent, or else the answer's context), a "Go to the error" button
// when `field` is the rule's text box, the hint, what was expected, and per-field problems.
// The line and caret get ids from the box's: "<box id>-where", "<box id>-context".
export function showRuleError(box, error, { text, field } = {}) {
  const body = error.body || {};
  const located = body.error === "invalid_rule" && body.line;
  box.textContent = "";
  const message = el("p", { class: "rule-error-message" }, [el("strong", { text: body.message || error.message })]);
  if (located) {
    message.append(" — ", el("span", { class: "rule-error-where", id: box.id && box.id + "-where",
      text: "line " + body.line + ", column " + body.column }));
  }
  box.append(message);
  const context = !located ? "" : text !== undefined ? caretLine(text, body.line, body.column) : body.context;
  if (context) box.append(el("pre", { class: "rule-error-context", id: box.id && box.id + "-context", text: context }));
  if (located && field && text !== undefined) {
    box.append(el("button", { type: "button", class: "btn btn-small", text: "Go to the error",
      onclick: () => selectAt(field, text, body.line, body.column) }));
  }
  if (body.hint) box.append(el("p", { class: "hint", text: body.hint }));
  if (body.expected && body.expected.length) box.append(el("p", { class: "hint", text: "Expected " + body.expected.join(", ") }));
  (body.errors || []).forEach((e) => box.append(el("p", { class: "hint", text: (e.field ? e.field + ": " : "") + e.message })));
  box.hidden = false;
}

function caretLine(text, line, column) {
  return (text.split("\n")[line - 1] || "") + "\n" + " ".repeat(Math.max(0, column - 1)) + "^";
}

// Focus the text box with the character at line/column selected.
function selectAt(field, text, line, column) {
  const lines = text.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += column - 1;
  field.focus();
  field.setSelectionRange(offset, Math.min(text.length, offset + 1));
}

// ---- formats -----------------------------------------------------------------------
const numberFormat = new Intl.NumberFormat("en-IN");
const rupeeFormat = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// 1234567 → "12,34,567", as the pages' indian filter writes it.
export function formatNumber(n) {
  return numberFormat.format(n || 0);
}

// 1234.5 → "₹1,234.50", as the pages' inr filter writes it.
export function formatInr(value) {
  return "₹" + rupeeFormat.format(Number(value));
}

// "5 Mar 2025, 10:00 UTC", as the pages' shortdate filter writes it (with the time).
export function shortDate(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || isNaN(d)) return "—";
  const two = (n) => (n < 10 ? "0" : "") + n;
  return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear() + ", " +
    two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " UTC";
}

// ---- URLs and the JSON API ---------------------------------------------------------
function meta(name) {
  const node = document.querySelector('meta[name="' + name + '"]');
  return node ? node.getAttribute("content") : "";
}

export function csrfToken() {
  return meta("csrf-token");
}

// "/segments/render" stays as it is; "segments/preview" is under the page's API root.
export function apiUrl(path) {
  return path.startsWith("/") ? path : meta("api-root").replace(/\/$/, "") + "/" + path;
}

// "/campaigns/{id}" with { id: 7 } → "/campaigns/7".
export function fillUrl(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(values[key]));
}

// A path with its query: withQuery("campaigns", { page: 2, status: "" }) → "campaigns?page=2"
// (empty values are left out).
export function withQuery(path, params) {
  const query = new URLSearchParams();
  Object.entries(params).forEach(([key, value]) => { if (value !== "" && value != null) query.append(key, value); });
  const text = query.toString();
  return text ? path + "?" + text : path;
}

// fetch() for the JSON API with the session: sends the CSRF header on state changes and
// resolves to the parsed body; a non-2xx answer rejects with the SPEC error body attached.
export function api(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  const init = { method, headers, credentials: "same-origin" };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  }
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  return fetch(apiUrl(path), init).then((response) => response.text().then((text) => {
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error((body && body.message) || response.statusText);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }));
}

// How long ago an ISO time was, as the pages' ago filter writes it: "just now", "5 min ago".
export function timeAgo(iso, now = Date.now()) {
  const then = iso ? new Date(iso).getTime() : NaN;
  if (isNaN(then)) return "never";
  const seconds = (now - then) / 1000;
  if (seconds >= 86400) { const n = Math.floor(seconds / 86400); return n + (n === 1 ? " day" : " days") + " ago"; }
  if (seconds >= 3600) return Math.floor(seconds / 3600) + " h ago";
  if (seconds >= 60) return Math.floor(seconds / 60) + " min ago";
  return "just now";
}

// Sizes counted longer ago than this are counted again when a page shows them (SPEC: at most
// a minute old, or say when they were counted).
export const FRESH_MS = 60 * 1000;

// Whether a size counted at `iso` is older than FRESH_MS (or was never counted).
export function isStale(iso, now = Date.now()) {
  const then = iso ? new Date(iso).getTime() : NaN;
  return isNaN(then) || now - then > FRESH_MS;
}
