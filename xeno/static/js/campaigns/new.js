// New campaign, step 1: a live preview of who receives the message (matched, left out,
// audience) and a few personalised messages, and variable buttons that insert at the cursor.
// The preview is redrawn on every change of the segment, rule or message and whenever the
// page is shown (also from the back/forward cache, or with form values the browser
// restored), and "Review and send" stays disabled while the preview on screen is not the
// one of what the form says now, or while that is invalid. The form carries its URL:
// data-api-preview (under the API root).
import {
  api, byId, el, formatNumber, isStale, setStatus, showRuleError, timeAgo, withQuery,
} from "../lib.js";

const DEBOUNCE_MS = 300;

const form = byId("campaign-form");
if (form) start(form);

function start(form) {
  const urls = form.dataset;
  const message = byId("message"), audience = byId("campaign-audience"), list = byId("message-previews");
  const errorBox = byId("campaign-error"), review = byId("review-button"), state = byId("review-state");
  const breakdown = byId("campaign-breakdown");
  let timer = null, seq = 0;  // every preview takes a number; stale answers are dropped
  let shownFor = null;  // the body whose preview is on screen, when it was valid

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
    if (byId("ignore-frequency-cap").checked) data.ignore_frequency_cap = true;
    return data;
  };
  const ready = (data) => data.message.trim() && (data.rule === undefined ? !isNaN(data.segment_id) : data.rule.trim());
  const upToDate = () => shownFor !== null && shownFor === JSON.stringify(body());

  // What the button may do now: only send what the preview on screen shows.
  function gate() {
    const ok = upToDate();
    review.disabled = !ok;
    form.classList.toggle("is-stale", !ok);
    if (!ok && state.textContent === "") setStatus(state, "Counting…");
    if (ok) setStatus(state, "");
  }
  function stale() {
    shownFor = null;
    setStatus(state, "Counting…");
    gate();
  }

  function preview() {
    timer = null;
    const data = body(), mine = ++seq, sent = JSON.stringify(data);
    if (!ready(data)) {
      audience.textContent = "—"; list.textContent = ""; breakdown.hidden = true;
      setStatus(state, "Choose an audience and write a message");
      return;
    }
    api(urls.apiPreview, { method: "POST", body: data }).then((answer) => {
      if (mine !== seq) return;
      errorBox.hidden = true;
      audience.textContent = formatNumber(answer.audience_size);
      byId("breakdown-matched").textContent = formatNumber(answer.matched);
      byId("breakdown-unsubscribed").textContent = formatNumber(answer.excluded.unsubscribed);
      byId("breakdown-frequency-cap").textContent = formatNumber(answer.excluded.frequency_cap);
      breakdown.hidden = false;
      list.textContent = "";
      answer.messages.forEach((m) => {
        list.appendChild(el("li", {}, [
          el("span", { class: "cell-sub", text: m.customer.name + " · " + m.customer.id }),
          el("p", { class: "message-text", text: m.text })
        ]));
      });
      shownFor = sent;
      gate();
      if (answer.audience_size === 0) setStatus(state, "Nobody would receive it", true);
    }).catch((error) => {
      if (mine !== seq) return;
      audience.textContent = "—"; list.textContent = ""; breakdown.hidden = true;
      showRuleError(errorBox, error);
      setStatus(state, "Fix the error above to continue", true);
    });
  }
  // A change that leaves the form as previewed (a blur's "change" after typing) keeps it.
  const schedule = () => {
    if (upToDate()) return;
    stale(); clearTimeout(timer); timer = setTimeout(preview, DEBOUNCE_MS);
  };
  const now = () => { stale(); clearTimeout(timer); preview(); };

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
    if (!upToDate()) { event.preventDefault(); now(); }
  });
  // Shown again (Back/Forward, a restored form): what is on screen may describe another audience.
  window.addEventListener("pageshow", () => { showChoice(); now(); });
  showChoice();
  now();
  freshenSizes(urls.apiSegments);
}

// The segment menu's sizes: those counted more than a minute ago are counted again.
function freshenSizes(listUrl) {
  const select = byId("segment-id");
  const counted = JSON.parse(select.getAttribute("data-counted-at") || "{}");
  if (!Object.values(counted).some((iso) => isStale(iso))) return;
  api(withQuery(listUrl, { per_page: 500, recount: 1 })).then((answer) => {
    answer.items.forEach((item) => {
      const option = Array.from(select.options).find((o) => o.value === String(item.id));
      if (!option) return;
      option.textContent = item.name + " (" + formatNumber(item.size) + " customers, counted " + timeAgo(item.counted_at) + ")";
    });
  }).catch(() => {});
}
