// Drawing the builder: a group is a head (NOT, AND/OR, its count, add and remove buttons) over
// its children; a condition is a row of field, operator and value controls over its figures.
// Every control edits the model and calls `changed(redraw, focusId)`.
import { el } from "../lib.js";
import { conditionProblem } from "./tree.js";

const OP_LABELS = {
  "=": "=", "!=": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤",
  "between": "between", "in": "is one of", "not in": "is none of",
  "contains": "contains", "starts with": "starts with", "ends with": "ends with",
  "is empty": "is empty", "is not empty": "is not empty", "is": "is"
};
const TIME_OP_LABELS = { ">": "after (>)", ">=": "on or after (≥)", "<": "before (<)", "<=": "on or before (≤)" };
const UNITS = ["days", "weeks", "months", "years"];
const CHOICE_LABELS = { SENT: "sent", FAILED: "failed", PENDING: "pending", HOLDOUT: "in the holdout",
  CONVERTED: "converted", ANY: "in the audience (any)" };
const MODES = [["relative", "N … ago"], ["date", "date"], ["today", "today"], ["datetime", "date-time (UTC)"]];

// Redraw the whole tree into `container`, keeping the focus on the control that had it.
export function drawTree(container, model, changed) {
  const active = document.activeElement;
  const focused = active && container.contains(active) ? active.id : null;
  container.textContent = "";
  container.appendChild(drawGroup({ model, changed }, model.root, null, 0));
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

function labelled(id, text, control) {
  return el("span", { class: "rb-control" }, [el("label", { for: id, class: "sr-only", text }), control]);
}

function drawGroup(ctx, group, parent, depth) {
  const { model, changed } = ctx;
  const id = group.id;
  const opSelect = el("select", { id: id + "-op", onchange: (e) => { group.op = e.target.value; changed(true); } }, [
    el("option", { value: "and", text: "ALL of these (AND)", selected: group.op === "and" }),
    el("option", { value: "or", text: "ANY of these (OR)", selected: group.op === "or" })
  ]);
  const notBox = el("input", { type: "checkbox", id: id + "-not", checked: group.not,
    onchange: (e) => { group.not = e.target.checked; changed(true); } });
  const head = el("div", { class: "rb-group-head" }, [
    el("span", { class: "rb-control rb-not" }, [notBox, el("label", { for: id + "-not", text: "NOT" })]),
    labelled(id + "-op", parent ? "Join this group's conditions with" : "Join conditions with", opSelect),
    el("span", { class: "rb-count", "data-count-for": id, "aria-live": "off" }),
    el("span", { class: "rb-actions" }, [
      el("button", { type: "button", class: "btn btn-small", id: id + "-add-condition", text: "+ Condition",
        onclick: () => changed(true, model.addCondition(group).id + "-field") }),
      el("button", { type: "button", class: "btn btn-small", id: id + "-add-group", text: "+ Group",
        onclick: () => changed(true, model.addGroup(group).id + "-add-condition") }),
      parent ? el("button", { type: "button", class: "btn btn-small btn-ghost", id: id + "-remove", text: "Remove group",
        "aria-label": "Remove this group", onclick: () => remove(ctx, parent, group) }) : null
    ])
  ]);
  const list = el("ol", { class: "rb-children" });
  group.children.forEach((child, index) => {
    const item = el("li", { class: "rb-child" });
    if (index > 0) item.appendChild(el("span", { class: "rb-joiner", text: group.op.toUpperCase() }));
    item.appendChild(child.kind === "group" ? drawGroup(ctx, child, group, depth + 1) : drawCondition(ctx, child, group));
    list.appendChild(item);
  });
  if (!group.children.length) {
    list.appendChild(el("li", { class: "rb-empty", text: parent ? "An empty group is left out: add a condition to it." : "No conditions yet: the audience is every customer." }));
  }
  return el("div", { class: "rb-group" + (group.not ? " rb-negated" : "") + (depth % 2 ? " rb-odd" : ""),
    role: "group", "aria-label": parent ? "Group of conditions" : "All conditions", "data-node": id }, [head, list]);
}

function drawCondition(ctx, c, parent) {
  const { model, changed } = ctx;
  const id = c.id;
  const field = model.field(c.field);
  const fieldSelect = el("select", { id: id + "-field", class: "rb-field",
    onchange: (e) => { model.setField(c, e.target.value); changed(true); } },
    model.fields.map((f) => el("option", { value: f.name, text: f.name.replace(/_/g, " "), selected: f.name === c.field })));
  const opSelect = el("select", { id: id + "-op", class: "rb-op",
    onchange: (e) => { c.op = e.target.value; changed(true); } },
    field.operators.map((op) => {
      const label = (field.type === "datetime" && TIME_OP_LABELS[op]) || OP_LABELS[op] || op;
      return el("option", { value: op, text: label, selected: op === c.op });
    }));
  const parts = [labelled(id + "-field", "Field", fieldSelect)].concat(drawParam(ctx, c, field),
    [labelled(id + "-op", "Operator", opSelect)], drawValue(ctx, c, field));
  parts.push(el("button", { type: "button", class: "btn btn-small btn-ghost rb-remove", id: id + "-remove",
    text: "✕", "aria-label": "Remove condition " + c.field, title: "Remove this condition",
    onclick: () => remove(ctx, parent, c) }));
  return el("div", { class: "rb-condition", "data-node": id }, [
    el("div", { class: "rb-row" }, parts),
    el("div", { class: "rb-meta" }, [
      el("span", { class: "rb-problem", id: id + "-problem", "data-problem-for": id, role: "note" }),
      el("span", { class: "rb-count", "data-count-for": id }),
      el("span", { class: "rb-resolved", "data-resolved-for": id }),
      el("span", { class: "rb-help", text: field.help })
    ])
  ]);
}

// A field's parameter: the number it names (campaign 12) or an optional period
// ("in the last 90 days"; "all time" leaves it out).
function drawParam(ctx, c, field) {
  const p = field.parameter;
  if (!p) return [];
  const changed = ctx.changed;
  const id = c.id + "-param";
  if (p.kind === "number") {
    return [labelled(id, p.label || "Number", el("input", { type: "number", id, min: "1", step: "1",
      class: "rb-param", inputmode: "numeric", value: c.param.number, placeholder: p.label || "number",
      oninput: (e) => { c.param.number = e.target.value; changed(false); } }))];
  }
  const toggle = el("select", { id: id + "-on", class: "rb-param-on",
    onchange: (e) => { c.param.on = e.target.value === "on"; changed(true, id + "-on"); } }, [
    el("option", { value: "off", text: "all time", selected: !c.param.on }),
    el("option", { value: "on", text: p.label || "in the last", selected: c.param.on })
  ]);
  const out = [labelled(id + "-on", "Period", toggle)];
  if (c.param.on) {
    out.push(labelled(id + "-amount", "How many", el("input", { type: "number", id: id + "-amount", min: "1",
      step: "1", class: "rb-amount", inputmode: "numeric", value: c.param.amount, placeholder: "90",
      oninput: (e) => { c.param.amount = e.target.value; changed(false); } })));
    out.push(labelled(id + "-unit", "Unit", el("select", { id: id + "-unit", class: "rb-unit",
      onchange: (e) => { c.param.unit = e.target.value; changed(false); } },
      (p.units || ["days"]).map((u) => el("option", { value: u, text: u, selected: u === c.param.unit })))));
  }
  return out;
}

function drawValue(ctx, c, field) {
  if (c.op === "is empty" || c.op === "is not empty") return [];
  if (field.type === "choice") {
    const slot = c.slots[0];
    return [labelled(c.id + "-v0", "Value", el("select", { id: c.id + "-v0", class: "rb-value",
      onchange: (e) => { slot.text = e.target.value; ctx.changed(false); } },
      field.choices.map((w) => el("option", { value: w, text: CHOICE_LABELS[w] || w.toLowerCase(),
        selected: w === slot.text }))))];
  }
  if (c.op === "in" || c.op === "not in") {
    const listInput = el("input", { type: "text", id: c.id + "-list", class: "rb-list", value: c.list,
      placeholder: field.type === "text" ? "Pune, Nagpur" : field.type === "datetime" ? "2024-01-01, 2024-02-01" : "2, 4, 6",
      oninput: (e) => { c.list = e.target.value; ctx.changed(false); } });
    return [labelled(c.id + "-list", "Values, separated by commas", listInput)];
  }
  const out = [drawSlot(ctx, c, 0, field)];
  if (c.op === "between") {
    out.push(el("span", { class: "rb-and", text: "and" }));
    out.push(drawSlot(ctx, c, 1, field));
  }
  return out;
}

function drawSlot(ctx, c, index, field) {
  const changed = ctx.changed;
  const slot = c.slots[index];
  const id = c.id + "-v" + index;
  const which = c.op === "between" ? (index ? " (upper end)" : " (lower end)") : "";
  const input = (attrs, label) => {
    attrs.id = attrs.id || id;
    attrs.oninput = attrs.oninput || ((e) => { slot.text = e.target.value; changed(false); });
    return labelled(attrs.id, label + which, el("input", attrs));
  };
  if (field.type === "number" || field.type === "integer") {
    // text, not type=number: a browser empties a number box it cannot read ("1e400"), and
    // the condition must show what was typed to say what is wrong with it
    return input({ type: "text", value: slot.text, class: "rb-value rb-number",
      inputmode: field.type === "integer" ? "numeric" : "decimal", placeholder: "0", autocomplete: "off" }, "Value");
  }
  if (field.type === "text") {
    return input({ type: "text", value: slot.text, class: "rb-value", placeholder: "text" }, "Value");
  }
  const mode = el("select", { id: id + "-mode", class: "rb-mode",
    onchange: (e) => {
      slot.mode = e.target.value;
      if (slot.mode === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(slot.text)) slot.text = "";
      changed(true, id + "-mode");
    } }, MODES.map((m) => el("option", { value: m[0], text: m[1], selected: m[0] === slot.mode })));
  const parts = [labelled(id + "-mode", "Kind of date" + which, mode)];
  if (slot.mode === "relative") {
    parts.push(input({ type: "text", id: id + "-amount", value: slot.amount, class: "rb-amount",
      inputmode: "numeric", placeholder: "3", autocomplete: "off",
      oninput: (e) => { slot.amount = e.target.value; changed(false); } }, "How many"));
    parts.push(labelled(id + "-unit", "Unit" + which, el("select", { id: id + "-unit", class: "rb-unit",
      onchange: (e) => { slot.unit = e.target.value; changed(false); } },
      UNITS.map((u) => el("option", { value: u, text: u + " ago", selected: u === slot.unit })))));
  } else if (slot.mode === "date") {
    parts.push(input({ type: "date", value: slot.text, class: "rb-value" }, "Date"));
  } else if (slot.mode === "datetime") {
    parts.push(input({ type: "text", value: slot.text, class: "rb-value", placeholder: "2024-01-01T10:00:00Z" }, "Date-time"));
  }
  return el("span", { class: "rb-slot" }, parts);
}

function remove(ctx, parent, node) {
  ctx.model.remove(parent, node);
  ctx.changed(true, parent.id + "-add-condition");
}

// Mark every unfinished condition (class, aria-invalid on its inputs, what it needs) and
// clear the marks of finished ones; cheap enough to run after every keystroke.
export function markUnfinished(container, model) {
  const walk = (node) => {
    if (node.kind === "group") { node.children.forEach(walk); return; }
    const box = container.querySelector('[data-node="' + node.id + '"]');
    if (!box) return;
    const problem = conditionProblem(node, model.field(node.field));
    box.classList.toggle("rb-unfinished", !!problem);
    const note = box.querySelector('[data-problem-for="' + node.id + '"]');
    if (note) note.textContent = problem ? "Unfinished: " + problem + " (left out of the rule until then)" : "";
    box.querySelectorAll("input").forEach((input) => {
      if (problem) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", node.id + "-problem"); }
      else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
    });
  };
  walk(model.root);
}
