// New campaign: a live preview of the audience size and a few personalised messages, variable
// buttons that insert at the cursor, and sending. The form carries the URLs: data-api-preview,
// data-api-create (under the API root) and data-detail-url, the sent campaign's page.
import { api, byId, el, fillUrl, showRuleError } from "../lib.js";

const DEBOUNCE_MS = 300;

const form = byId("campaign-form");
if (form) start(form);

function start(form) {
  const urls = form.dataset;
  const message = byId("message"), audience = byId("campaign-audience"), list = byId("message-previews");
  const errorBox = byId("campaign-error");
  let timer = null, seq = 0;  // every preview takes a number; stale answers are dropped

  const choice = () => {
    const checked = form.querySelector("input[name=audience]:checked");
    return checked ? checked.value : "rule";
  };
  const showChoice = () => {
    form.querySelectorAll(".audience-input").forEach((box) => {
      box.hidden = box.getAttribute("data-audience") !== choice();
    });
  };
  const body = () => {
    const data = { message: message.value };
    [["holdout-percent", "holdout_percent"], ["attribution-days", "attribution_days"]].forEach(([id, key]) => {
      const input = byId(id);
      if (input && input.value.trim() !== "") data[key] = /^\d+$/.test(input.value.trim()) ? parseInt(input.value, 10) : input.value;
    });
    const name = byId("campaign-name").value.trim();
    if (name) data.name = name;
    if (choice() === "segment") data.segment_id = parseInt(byId("segment-id").value, 10);
    else data.rule = byId("campaign-rule").value;
    return data;
  };
  const ready = (data) => data.message.trim() && (data.rule === undefined ? !isNaN(data.segment_id) : data.rule.trim());

  function preview() {
    timer = null;
    const data = body(), mine = ++seq;
    if (!ready(data)) { audience.textContent = "—"; list.textContent = ""; return; }
    api(urls.apiPreview, { method: "POST", body: data }).then((answer) => {
      if (mine !== seq) return;
      errorBox.hidden = true;
      audience.textContent = String(answer.audience_size);
      list.textContent = "";
      answer.messages.forEach((m) => {
        list.appendChild(el("li", {}, [
          el("span", { class: "cell-sub", text: m.customer.name + " · " + m.customer.id }),
          el("p", { class: "message-text", text: m.text })
        ]));
      });
    }).catch((error) => { if (mine === seq) showRuleError(errorBox, error); });
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(preview, DEBOUNCE_MS); };

  form.querySelectorAll("[data-insert]").forEach((button) => {
    button.addEventListener("click", () => {
      message.setRangeText(button.getAttribute("data-insert"), message.selectionStart, message.selectionEnd, "end");
      message.focus();
      schedule();
    });
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", () => { showChoice(); schedule(); });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!event.submitter || event.submitter.value !== "send") { clearTimeout(timer); preview(); return; }
    const send = byId("send-button");
    send.disabled = true;
    api(urls.apiCreate, { method: "POST", body: body() }).then((answer) => {
      window.location.assign(fillUrl(urls.detailUrl, { id: answer.id }));
    }).catch((error) => { send.disabled = false; showRuleError(errorBox, error); });
  });
  showChoice();
  preview();
}
