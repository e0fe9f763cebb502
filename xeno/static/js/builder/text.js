// The rule text and the drawn builder kept in step through the API: a change in the builder is
// rendered as text (POST /segments/render) and counted; text typed in the box comes back from
// preview as a tree that redraws the builder; a rule the server cannot read shows its error.
import { api, showRuleError } from "../lib.js";
import { finishMessage, fromApiTree, toApiTree, unfinished } from "./tree.js";

const DEBOUNCE_MS = 300;

// Every server round trip takes a ticket; an answer whose ticket is no longer the latest
// describes an older rule and is dropped.
export class Tickets {
  constructor() { this.seq = 0; }
  take() { this.seq += 1; return this.seq; }
  latest() { return this.seq; }
  current(ticket) { return ticket === this.seq; }
}

// The error under the rule box, and the builder marked stale while the text is unreadable.
export class RuleErrors {
  constructor(ui, status) {
    this.ui = ui;
    this.status = status;
  }

  failed(error, text) {
    const body = error.body || {};
    if (body.error === "invalid_rule") { this.show(error, text); this.status(""); return; }
    this.status(body.message || error.message || "Something went wrong.", true);
  }

  show(error, text) {
    const { errorBox, ruleBox, builder } = this.ui;
    showRuleError(errorBox, error, { text, field: ruleBox });
    ruleBox.setAttribute("aria-invalid", "true");
    builder.classList.add("rb-stale");
  }

  hide() {
    const { errorBox, ruleBox, builder } = this.ui;
    errorBox.hidden = true;
    errorBox.textContent = "";
    ruleBox.removeAttribute("aria-invalid");
    builder.classList.remove("rb-stale");
  }
}

export class Sync {
  // model: the tree; ui.ruleBox: the text; urls.render, urls.preview; audience: the figures;
  // tickets, errors, status as in count.js; draw(): redraw the builder from the model.
  constructor({ model, ui, urls, audience, tickets, errors, status, draw }) {
    Object.assign(this, { model, ui, urls, audience, tickets, errors, status, draw });
    this.builderTimer = null;
    this.textTimer = null;
    this.pending = null;  // the sync in flight (saving waits for it)
  }

  // The builder changed: render and count it after a pause.
  builderChanged() {
    this.restart();
    this.builderTimer = setTimeout(() => this.fromBuilder(), DEBOUNCE_MS);
  }

  // The text changed: read and count it after a pause.
  textChanged() {
    this.restart();
    this.textTimer = setTimeout(() => this.fromText(), DEBOUNCE_MS);
  }

  // Either side changed: whatever waits or is in flight, from either side, is stale.
  restart() {
    clearTimeout(this.builderTimer);
    clearTimeout(this.textTimer);
    this.builderTimer = this.textTimer = null;
    this.tickets.take();
  }

  // "Count audience": read the text now.
  countNow() {
    clearTimeout(this.textTimer);
    return this.fromText();
  }

  // The page came with the rule's tree, drawn already: count and explain it.
  evaluateLoaded() {
    this.audience.track(toApiTree(this.model));
    this.pending = this.audience.evaluate(this.ui.ruleBox.value, this.tickets.take());
    return this.pending;
  }

  // Run a sync still waiting for its pause now; resolves when the last one is done.
  flush() {
    if (this.builderTimer) { clearTimeout(this.builderTimer); return this.fromBuilder(); }
    if (this.textTimer) { clearTimeout(this.textTimer); return this.fromText(); }
    return this.pending || Promise.resolve();
  }

  // The builder as text, counted; while a condition is unfinished the text holds the
  // finished ones and nothing is counted: the marked condition says what it needs.
  fromBuilder() {
    this.builderTimer = null;
    const sent = toApiTree(this.model);
    const open = unfinished(this.model);
    const mine = this.tickets.take();
    this.errors.hide();
    if (!sent) {
      this.ui.ruleBox.value = "";
      this.audience.track(null);
      if (open.length) this.audience.blocked(finishMessage(open));
      else this.audience.showTotal();
      this.pending = Promise.resolve();
      return this.pending;
    }
    this.status("Counting…");
    this.pending = api(this.urls.render, { method: "POST", body: { tree: sent.json } })
      .then((answer) => {
        if (!this.tickets.current(mine)) return;
        this.ui.ruleBox.value = answer.rule;
        this.audience.track(sent);
        if (open.length) { this.audience.blocked(finishMessage(open)); return; }
        return this.audience.evaluate(answer.rule, mine);
      })
      .catch((error) => {
        if (!this.tickets.current(mine)) return;
        this.status((error.body && error.body.message) || "Could not read the builder's rule.", true);
      });
    return this.pending;
  }

  fromText() {
    this.textTimer = null;
    const text = this.ui.ruleBox.value;
    const mine = this.tickets.take();
    if (!text.trim()) {
      this.errors.hide();
      this.model.clear();
      this.audience.track(null);
      this.draw();
      this.audience.showTotal();
      this.pending = Promise.resolve();
      return this.pending;
    }
    this.status("Counting…");
    this.pending = api(this.urls.preview, { method: "POST", body: { rule: text } })
      .then((answer) => {
        if (!this.tickets.current(mine)) return;
        this.errors.hide();
        this.model.root = fromApiTree(answer.tree, this.model);
        this.audience.track(toApiTree(this.model));
        this.draw();
        this.audience.show(answer);
        return this.audience.explain(answer.rule, mine);
      })
      .catch((error) => { if (this.tickets.current(mine)) this.errors.failed(error, text); });
    return this.pending;
  }
}
