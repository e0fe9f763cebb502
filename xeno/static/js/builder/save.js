// Saving: wait for the sync in flight, check there is a name and a rule, then create or
// update the segment and go to the campaign history, which names it.
import { api, fillUrl } from "../lib.js";

// ui: the page's elements; urls: { save, saveMethod, saved }; sync.flush(); status, errors
// as in count.js.
export function save({ ui, urls, sync, status, errors }) {
  const { nameInput, nameError, ruleBox } = ui;
  nameError.hidden = true;
  return sync.flush().then(() => {
    const name = nameInput.value.trim();
    const rule = ruleBox.value.trim();
    if (!name) {
      nameError.textContent = "Give the segment a name.";
      nameError.hidden = false;
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
      return;
    }
    if (!rule) { status("Add at least one condition before saving.", true); return; }
    status("Saving…");
    return api(urls.save, { method: urls.saveMethod, body: { name, rule } })
      .then((saved) => { window.location.assign(fillUrl(urls.saved, { id: saved.id })); })
      .catch((error) => errors.failed(error, rule));
  });
}
