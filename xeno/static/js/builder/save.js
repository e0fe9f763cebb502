// Saving: wait for the sync in flight, check there is a name and a rule, then create or
// update the segment and go to the campaign history, which names it. An update carries the
// version the page was drawn at: if someone saved the segment since, the page says so and
// offers to reload it or to overwrite their change.
import { api, el, fillUrl } from "../lib.js";

// ui: the page's elements; urls: { save, saveMethod, saved, edit }; sync.flush(); status,
// errors as in count.js; version: { current } the version edits are made from (null when
// new); refuseUnfinished(): true (and says why) while a condition is unfinished.
export function save({ ui, urls, sync, status, errors, version, refuseUnfinished }) {
  const { nameInput, nameError, ruleBox, conflictBox } = ui;
  nameError.hidden = true;
  conflictBox.hidden = true;
  return sync.flush().then(() => {
    if (refuseUnfinished()) return;
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
    const body = { name, rule };
    if (urls.saveMethod === "PUT" && version.current !== null) body.version = version.current;
    return api(urls.save, { method: urls.saveMethod, body })
      .then((saved) => { window.location.assign(fillUrl(urls.saved, { id: saved.id })); })
      .catch((error) => {
        const code = error.body && error.body.error;
        if (code === "edit_conflict") { conflicted(error.body.segment); return; }
        if (code === "name_taken") {
          status("");
          nameError.textContent = error.body.message;
          nameError.hidden = false;
          nameInput.setAttribute("aria-invalid", "true");
          nameInput.focus();
          return;
        }
        errors.failed(error, rule);
      });
  });

  // Someone else saved since this page was drawn: show what they saved; Reload or Overwrite.
  function conflicted(current) {
    status("Not saved: someone else changed this segment.", true);
    conflictBox.textContent = "";
    conflictBox.append(
      el("p", {}, [el("strong", { text: "Someone else changed this segment since you opened it." })]),
      el("p", { text: "It is now “" + current.name + "”: " }, [el("code", { class: "rule-code", text: current.rule })]),
      el("p", { class: "form-actions" }, [
        el("a", { class: "btn", id: "conflict-reload", href: urls.edit, text: "Reload their version" }),
        el("button", { type: "button", class: "btn btn-danger", id: "conflict-overwrite", text: "Overwrite with mine",
          onclick: () => {
            version.current = current.version;
            save({ ui, urls, sync, status, errors, version, refuseUnfinished });
          } })
      ])
    );
    conflictBox.hidden = false;
    conflictBox.querySelector("#conflict-reload").focus();
  }
}
