// The segment builder page: nested AND/OR groups drawn from the fields the API describes,
// kept in step with the "Rule" text box, with live counts and "why is this customer in?".
// The modules under builder/ do the work; this wires them to the page, whose form carries the
// URLs: data-api-* under the API root, data-*-url for the site's own pages.
import { api, byId, setStatus } from "./lib.js";
import { Model } from "./builder/model.js";
import { finishMessage, fromApiTree, unfinished } from "./builder/tree.js";
import { drawTree, markUnfinished } from "./builder/draw.js";
import { Audience } from "./builder/count.js";
import { RuleErrors, Sync, Tickets } from "./builder/text.js";
import { save } from "./builder/save.js";

const container = byId("builder");
if (container) start(container);

function start(builder) {
  const form = byId("segment-form");
  const data = form.dataset;
  const urls = {
    fields: data.apiFields, preview: data.apiPreview, explain: data.apiExplain, render: data.apiRender,
    save: data.apiSave, saveMethod: data.saveMethod, saved: data.savedUrl, edit: data.editUrl,
    customer: data.customerUrl
  };
  const ui = {
    form, builder, ruleBox: byId("rule"), statusLine: byId("builder-status"), errorBox: byId("rule-error"),
    countOut: byId("audience-count"), countLabel: byId("audience-label"), sampleBox: byId("audience-sample"),
    whyInput: byId("why-customer"), whyResult: byId("why-result"),
    nameInput: byId("segment-name"), nameError: byId("name-error-js"), conflictBox: byId("conflict-box")
  };
  // the version this page was drawn at: a save from it is refused if someone saved since
  const version = { current: data.version ? parseInt(data.version, 10) : null };
  const total = parseInt(builder.getAttribute("data-total"), 10) || 0;
  const staticExplain = byId("explain-static");  // the server's answer; the builder paints its own
  if (staticExplain) staticExplain.remove();

  const status = (text, isError) => setStatus(ui.statusLine, text, isError);
  const model = new Model();
  const tickets = new Tickets();
  const errors = new RuleErrors(ui, status);
  const audience = new Audience({ ui, urls, total, tickets, status, errors });
  const sync = new Sync({ model, ui, urls, audience, tickets, errors, status, draw });

  function draw() {
    drawTree(builder, model, changed);
    markUnfinished(builder, model);
    audience.paint();
  }

  // Count and Save refuse while a condition is unfinished: say what to finish, go to it.
  function refuseUnfinished() {
    const open = unfinished(model);
    if (!open.length) return false;
    status(finishMessage(open), true);
    const box = builder.querySelector('[data-node="' + open[0].node.id + '"]');
    const input = box && (box.querySelector("input[aria-invalid]") || box.querySelector("input, select"));
    if (input) input.focus();
    return true;
  }

  // A control in the builder changed the model: redraw if the controls change, then sync.
  function changed(redraw, focusId) {
    if (redraw) {
      draw();
      if (focusId && byId(focusId)) byId(focusId).focus();
    } else {
      markUnfinished(builder, model);
    }
    sync.builderChanged();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const action = event.submitter ? event.submitter.value : "count";
    if ((action === "save" || action === "count") && refuseUnfinished()) return;
    if (action === "save") save({ ui, urls, sync, status, errors, version, refuseUnfinished });
    else if (action === "why") audience.why();
    else sync.countNow();
  });
  ui.ruleBox.addEventListener("input", () => sync.textChanged());
  ui.whyInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); audience.why(); }
  });

  api(urls.fields).then((answer) => {
    model.setFields(answer.fields);
    const tree = JSON.parse(builder.getAttribute("data-tree") || "null");
    if (tree) model.root = fromApiTree(tree, model);
    builder.hidden = false;
    draw();
    if (tree) sync.evaluateLoaded();             // the page came with the rule's tree
    else if (ui.ruleBox.value.trim()) sync.fromText();  // a rule the server could not read: show its error
    else audience.showTotal();
  }).catch((error) => {
    status("The visual builder could not load its fields: " + error.message, true);
  });
}
