// The confirmation step: one click sends. A second click (or Enter) while the first is on
// its way is ignored here, and the form's one-time key makes the server answer it with the
// same campaign anyway. Shown again from the back/forward cache, the page counts afresh.
import { byId } from "../lib.js";

const form = byId("send-form");
if (form) {
  let sent = false;
  form.addEventListener("submit", (event) => {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    const button = byId("send-button");
    if (button) { button.textContent = "Sending…"; button.setAttribute("aria-disabled", "true"); }
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });
}
