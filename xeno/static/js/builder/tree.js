// The builder's model and the API's JSON rule tree, both ways. The browser never evaluates a
// rule: the model goes to the server as a JSON tree, and a rule typed as text comes back as one.
import { newGroup, newParam, newSlot } from "./model.js";

// ---- model → API JSON tree (incomplete conditions and empty groups are left out) ----
// Returns { json, owners } or null; `owners` maps each JSON node to the model nodes it stands
// for. Groups are flattened the way the server's tree is (an AND inside an AND merges, a
// one-child group is its child), so the explain answer lines up node for node.
export function toApiTree(model) {
  const owners = new Map();
  const json = nodeJson(model.root, model, owners);
  return json ? { json, owners } : null;
}

function nodeJson(node, model, owners) {
  if (node.kind === "condition") {
    const cj = conditionJson(node, model.field(node.field));
    if (cj) owners.set(cj, [node]);
    return cj;
  }
  let parts = [];
  node.children.forEach((child) => {
    const j = nodeJson(child, model, owners);
    if (!j) return;
    if (j.type === node.op && !(child.kind === "group" && child.not)) parts = parts.concat(j.children);
    else parts.push(j);
  });
  if (!parts.length) return null;
  let json = parts.length === 1 ? parts[0] : { type: node.op, children: parts };
  owners.set(json, parts.length === 1 ? (owners.get(json) || []).concat([node]) : [node]);
  if (node.not) {
    json = { type: "not", child: json };
    owners.set(json, [node]);
    owners.get(json.child).splice(owners.get(json.child).indexOf(node), 1);
  }
  return json;
}

function paramJson(c, field) {
  const p = field.parameter;
  if (!p) return undefined;
  if (p.kind === "number") {
    const text = (c.param.number || "").trim();
    return text ? { kind: "number", value: text } : null;
  }
  if (!c.param.on) return undefined;
  const n = parseInt(c.param.amount, 10);
  return isNaN(n) ? null : { kind: "period", amount: n, unit: c.param.unit };
}

// ---- unfinished conditions: never left out silently --------------------------------
// A number as the rule language writes it (no exponent: "1e400" is not one it can read).
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

// What a condition still needs, as a sentence, or null when it is complete.
export function conditionProblem(c, field) {
  if (!field) return "its field " + c.field + " is not offered any more";
  const param = paramProblem(c, field);
  if (param) return param;
  if (c.op === "is empty" || c.op === "is not empty") return null;
  if (field.type === "choice") return (c.slots[0].text || "").trim() ? null : "needs a value";
  if (c.op === "in" || c.op === "not in") {
    const items = splitList(c.list);
    if (!items.length) return "needs at least one value";
    if (field.type === "number" || field.type === "integer") {
      const bad = items.find((item) => !NUMBER.test(item.trim()));
      if (bad !== undefined) return "“" + bad + "” is not a number it can read";
    }
    return null;
  }
  const slots = c.op === "between" ? [c.slots[0], c.slots[1]] : [c.slots[0]];
  for (const [i, slot] of slots.entries()) {
    const which = c.op === "between" ? (i ? " for the upper end" : " for the lower end") : "";
    const problem = slotProblem(slot, field.type);
    if (problem) return problem + which;
  }
  return null;
}

// The field's parameter (`campaign N`, `IN LAST N DAYS`), when it has one that is unfinished.
function paramProblem(c, field) {
  const p = field.parameter;
  if (!p) return null;
  if (p.kind === "number") {
    const text = (c.param.number || "").trim();
    if (!text) return "needs a " + (p.label || "number");
    return /^\d+$/.test(text) ? null : "“" + text + "” is not a whole number";
  }
  if (!c.param.on) return null;
  const amount = String(c.param.amount ?? "").trim();
  if (!amount) return "needs how many " + c.param.unit;
  return /^\d+$/.test(amount) ? null : "“" + amount + "” is not a whole number of " + c.param.unit;
}

function slotProblem(slot, type) {
  const text = (slot.text || "").trim();
  if (type === "number" || type === "integer") {
    if (!text) return "needs a value";
    if (!NUMBER.test(text) || !isFinite(parseFloat(text))) return "“" + text + "” is not a number it can read";
    if (type === "integer" && !/^[+-]?\d+$/.test(text)) return "“" + text + "” is not a whole number";
    return null;
  }
  if (type === "text") return slot.text ? null : "needs a value";
  if (slot.mode === "today") return null;
  if (slot.mode === "relative") {
    const amount = (slot.amount || "").trim();
    if (!amount) return "needs how many " + slot.unit + " ago";
    return /^\d+$/.test(amount) ? null : "“" + amount + "” is not a whole number of " + slot.unit;
  }
  return text ? null : slot.mode === "date" ? "needs a date" : "needs a date-time";
}

// Every unfinished condition in the tree, in reading order: [{ node, problem }].
export function unfinished(model) {
  const out = [];
  const walk = (node) => {
    if (node.kind === "group") { node.children.forEach(walk); return; }
    const problem = conditionProblem(node, model.field(node.field));
    if (problem) out.push({ node, problem });
  };
  walk(model.root);
  return out;
}

// "Finish the marked conditions first: spend needs a value; visits: “1e400” is not …"
export function finishMessage(list) {
  const parts = list.map(({ node, problem }) => node.field.replace(/_/g, " ") + " " + problem);
  return (list.length === 1 ? "Finish the marked condition first: " : "Finish the " + list.length +
    " marked conditions first: ") + parts.join("; ") + ".";
}

function conditionJson(c, field) {
  if (!field || conditionProblem(c, field)) return null;
  const out = { type: "condition", field: c.field, op: c.op };
  const param = paramJson(c, field);
  if (param === null) return null;
  if (param) out.param = param;
  if (c.op === "is empty" || c.op === "is not empty") return out;
  if (field.type === "choice") {
    if (!c.slots[0].text) return null;
    out.value = { kind: "word", value: c.slots[0].text };
    return out;
  }
  if (c.op === "in" || c.op === "not in") {
    const items = splitList(c.list);
    if (!items.length) return null;
    out.value = items.map((item) => listItemJson(item, field.type));
    return out;
  }
  const first = slotJson(c.slots[0], field.type);
  if (!first) return null;
  if (c.op === "between") {
    const second = slotJson(c.slots[1], field.type);
    if (!second) return null;
    out.value = [first, second];
  } else {
    out.value = first;
  }
  return out;
}

function slotJson(slot, type) {
  const text = (slot.text || "").trim();
  if (type === "number" || type === "integer") return text ? { kind: "number", value: text } : null;
  if (type === "text") return text ? { kind: "string", value: slot.text } : null;
  if (slot.mode === "today") return { kind: "today" };
  if (slot.mode === "relative") {
    const n = parseInt(slot.amount, 10);
    return isNaN(n) ? null : { kind: "relative", amount: n, unit: slot.unit };
  }
  if (!text) return null;
  return { kind: slot.mode === "date" ? "date" : "datetime", value: text };
}

function listItemJson(item, type) {
  if (type === "number" || type === "integer") return { kind: "number", value: item };
  if (type === "text") return { kind: "string", value: item };
  const rel = /^(\d+)\s+(day|week|month|year)s?\s+ago$/i.exec(item);
  if (rel) return { kind: "relative", amount: parseInt(rel[1], 10), unit: rel[2].toLowerCase() + "s" };
  if (/^today$/i.test(item)) return { kind: "today" };
  return { kind: /^\d{4}-\d{2}-\d{2}$/.test(item) ? "date" : "datetime", value: item };
}

// ---- API JSON tree → model ---------------------------------------------------------
// The top of the model is always a group.
export function fromApiTree(json, model) {
  const node = treeToNode(json, model);
  return node.kind === "group" ? node : newGroup("and", false, [node]);
}

function treeToNode(json, model) {
  if (json.type === "and" || json.type === "or") {
    return newGroup(json.type, false, json.children.map((child) => treeToNode(child, model)));
  }
  if (json.type === "not") {
    const inner = treeToNode(json.child, model);
    if (inner.kind === "group" && !inner.not) { inner.not = true; return inner; }
    return newGroup("and", true, [inner]);
  }
  const c = model.newCondition(json.field);
  c.field = json.field;
  c.op = json.op;
  const type = model.typeOf(json.field);
  c.param = newParam();
  if (json.param && json.param.kind === "period") {
    c.param.on = true;
    c.param.amount = String(json.param.amount);
    c.param.unit = json.param.unit;
  } else if (json.param) {
    c.param.number = String(json.param.value);
  }
  if (Array.isArray(json.value) && (json.op === "in" || json.op === "not in")) {
    c.list = json.value.map(listItemText).join(", ");
  } else if (Array.isArray(json.value)) {
    c.slots = [valueSlot(json.value[0], type), valueSlot(json.value[1], type)];
  } else if (json.value) {
    c.slots = [valueSlot(json.value, type), newSlot(type)];
  }
  return c;
}

function valueSlot(v, type) {
  const slot = newSlot(type);
  if (v.kind === "relative") { slot.mode = "relative"; slot.amount = String(v.amount); slot.unit = v.unit; }
  else if (v.kind === "today") slot.mode = "today";
  else if (v.kind === "date" || v.kind === "datetime") { slot.mode = v.kind; slot.text = v.value; }
  else slot.text = String(v.value);
  return slot;
}

function listItemText(v) {
  if (v.kind === "relative") return v.amount + " " + (v.amount === 1 ? v.unit.replace(/s$/, "") : v.unit) + " ago";
  if (v.kind === "today") return "today";
  if (v.kind === "string" && /[,"]|^\s|\s$/.test(v.value)) return '"' + v.value.replace(/"/g, '""') + '"';
  return String(v.value);
}

// "Pune, Nagpur" or "\"Mumbai, MH\", Pune": commas split, double quotes keep a value whole.
function splitList(text) {
  const items = [];
  let current = "", quoted = false, wasQuoted = false;
  const push = () => {
    const value = wasQuoted ? current : current.trim();
    if (value !== "" || wasQuoted) items.push(value);
    current = "";
    wasQuoted = false;
  };
  for (let i = 0; i < (text || "").length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { current += '"'; i++; }
      else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') { quoted = true; wasQuoted = true; current = current.trim(); }
    else if (ch === ",") push();
    else current += ch;
  }
  push();
  return items;
}
