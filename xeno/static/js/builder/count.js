// The live figures: the audience size with a sample of it, each group's and condition's own
// count and what is left after it (POST segments/explain), and why one customer is in or out.
import { api, el, fillUrl, formatInr } from "../lib.js";

export class Audience {
  // ui: the page's elements; urls: { preview, explain }; total: customers in all;
  // tickets: whose answers are still current; status(text, isError); errors.failed(error, rule)
  constructor({ ui, urls, total, tickets, status, errors }) {
    Object.assign(this, { ui, urls, total, tickets, status, errors });
    this.sent = null;       // the JSON tree last sent, with the model nodes of each node
    this.explained = null;  // the explain answer for it
    this.customer = "";     // the customer id "Why?" asks about
  }

  // The tree (from toApiTree) the next explain answer lines up with.
  track(sent) {
    this.sent = sent;
  }

  // No conditions: every customer, no sample, no per-node figures.
  showTotal() {
    const { countOut, countLabel, sampleBox } = this.ui;
    countOut.textContent = String(this.total);
    countLabel.textContent = "customers in total — add a condition";
    sampleBox.textContent = "";
    this.explained = null;
    this.paint();
    this.status("");
  }

  // A condition is unfinished: no figure that would leave it out silently.
  blocked(message) {
    const { countOut, countLabel, sampleBox } = this.ui;
    countOut.textContent = "—";
    countLabel.textContent = "finish the marked condition to count";
    sampleBox.textContent = "";
    this.explained = null;
    this.paint();
    this.status(message);
  }

  // A link to a customer's profile around `content`.
  customerLink(c, content) {
    return this.urls.customer ? el("a", { href: fillUrl(this.urls.customer, { id: c.id }) }, content) : content[0];
  }

  // Count and explain a rule; answers for an older ticket are dropped.
  evaluate(rule, ticket) {
    return Promise.all([
      api(this.urls.preview, { method: "POST", body: { rule } }).then((answer) => {
        if (this.tickets.current(ticket)) this.show(answer);
      }),
      this.explain(rule, ticket)
    ]).catch((error) => { if (this.tickets.current(ticket)) this.errors.failed(error, rule); });
  }

  // The preview answer: its count and a sample table with a "Why?" button per customer.
  show(answer) {
    const { countOut, countLabel, sampleBox } = this.ui;
    countOut.textContent = String(answer.count);
    countLabel.textContent = answer.count === 1 ? "customer matches this rule" : "customers match this rule";
    sampleBox.textContent = "";
    if (!answer.sample.length) return;
    const body = el("tbody");
    answer.sample.forEach((c) => {
      body.appendChild(el("tr", {}, [
        el("td", {}, [this.customerLink(c, [el("span", { class: "cell-main", text: c.name })]),
          el("span", { class: "cell-sub", text: c.id })]),
        el("td", { class: "num", text: formatInr(c.spend) }),
        el("td", { class: "num", text: String(c.visits) }),
        el("td", {}, [el("button", { type: "button", class: "btn btn-small btn-ghost", text: "Why?",
          "aria-label": "Why is " + c.id + " in?", onclick: () => { this.ui.whyInput.value = c.id; this.why(); } })])
      ]));
    });
    sampleBox.appendChild(el("table", { class: "table sample-table", id: "sample-table" }, [
      el("caption", { class: "sr-only", text: "A sample of the audience" }),
      el("thead", {}, [el("tr", {}, ["Customer", "Spend", "Visits", "Why?"].map((h, i) =>
        el("th", { class: i === 1 || i === 2 ? "num" : i === 3 ? "sr-only-text" : null, text: h })))]),
      body
    ]));
  }

  // Explain a rule (for the customer asked about, if any) and paint the figures on the tree.
  explain(rule, ticket) {
    const body = { rule };
    if (this.customer) body.customer_id = this.customer;
    return api(this.urls.explain, { method: "POST", body })
      .catch((error) => {
        if (!this.customer || error.status !== 404) throw error;
        this.customer = "";
        this.ui.whyResult.textContent = (error.body && error.body.message) || "No such customer.";
        return api(this.urls.explain, { method: "POST", body: { rule } });
      })
      .then((answer) => {
        if (!this.tickets.current(ticket)) return;
        this.explained = answer;
        this.paint();
        this.status("");
      });
  }

  // "Why?": explain the rule in the box for the customer id typed in.
  why() {
    const { whyInput, whyResult, ruleBox } = this.ui;
    this.customer = whyInput.value.trim();
    whyResult.textContent = this.customer ? "Checking…" : "";
    const rule = ruleBox.value;
    if (!rule.trim()) {
      whyResult.textContent = this.customer ? "Add a condition first: with none, every customer is in." : "";
      return;
    }
    this.explain(rule, this.tickets.latest()).catch((error) => this.errors.failed(error, rule));
  }

  // Write the last explain answer onto the drawn tree: counts, resolved dates, ✓ and ✗.
  paint() {
    const { builder, whyResult } = this.ui;
    builder.querySelectorAll("[data-count-for]").forEach((n) => { n.textContent = ""; n.removeAttribute("title"); });
    builder.querySelectorAll("[data-resolved-for]").forEach((n) => { n.textContent = ""; });
    builder.querySelectorAll("[data-node]").forEach((n) => { n.classList.remove("is-true", "is-false"); });
    if (!this.explained || !this.sent) return;
    const owners = this.sent.owners;
    const walk = (sent, got) => {
      if (!got || sent.type !== got.type) return;
      (owners.get(sent) || []).forEach((node) => mark(builder, node, got));
      if (sent.children && got.children && sent.children.length === got.children.length) {
        sent.children.forEach((child, i) => walk(child, got.children[i]));
      }
      if (sent.child) walk(sent.child, got.child);
    };
    walk(this.sent.json, this.explained.tree);
    const customer = this.explained.customer;
    if (customer) {
      const matches = this.explained.tree.matches;
      whyResult.textContent = "";
      whyResult.append(this.customerLink(customer, [customer.name]), " (" + customer.id + ") is ",
        el("strong", { text: matches ? "in" : "out" }),
        matches ? ": every condition it needs holds." : ": the conditions marked ✗ keep them out.");
    }
  }
}

function mark(builder, node, got) {
  const count = builder.querySelector('[data-count-for="' + node.id + '"]');
  if (count) {
    count.textContent = got.own_count + " match · " + got.left_count + " left";
    count.title = got.own_count + " customers match this on its own; " + got.left_count + " are still in after it";
  }
  const resolved = builder.querySelector('[data-resolved-for="' + node.id + '"]');
  if (resolved && got.resolved) resolved.textContent = got.resolved;
  const box = builder.querySelector('[data-node="' + node.id + '"]');
  if (box && typeof got.matches === "boolean") {
    box.classList.add(got.matches ? "is-true" : "is-false");
    if (count) count.textContent += got.matches ? " · ✓ true" : " · ✗ false";
  }
}
