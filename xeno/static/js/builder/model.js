// The builder's rule tree: nested AND/OR groups (each may be negated) of conditions on the
// fields GET segments/fields describes. Every node has an id the drawing uses for its controls.

let uid = 0;
function nextId(prefix) {
  uid += 1;
  return prefix + uid;
}

export function newGroup(op, not, children) {
  return { kind: "group", id: nextId("g"), op: op || "and", not: !!not, children: children || [] };
}

// One value of a condition: plain text or number, or for a date one of relative ("3 months
// ago"), date, today or date-time; for a choice field (campaign N IS …) its first choice.
export function newSlot(type, field) {
  const text = type === "choice" && field && field.choices && field.choices.length ? field.choices[0] : "";
  return { mode: type === "datetime" ? "relative" : "plain", text, amount: "", unit: "days" };
}

// What a field takes after its name (GET segments/fields says: a number such as a campaign's,
// or a period "in the last N days"); an optional period starts off ("all time").
export function newParam() {
  return { on: false, number: "", amount: "", unit: "days" };
}

export function defaultOp(field) {
  const prefer = field.type === "text" ? "=" : field.type === "datetime" ? "<" : ">";
  return field.operators.indexOf(prefer) >= 0 ? prefer : field.operators[0];
}

// The fields the server offers and the tree being built on them.
export class Model {
  constructor() {
    this.fields = [];
    this.byName = {};
    this.root = newGroup("and");
  }

  // the fields as GET segments/fields lists them
  setFields(fields) {
    this.fields = fields;
    this.byName = {};
    fields.forEach((f) => { this.byName[f.name] = f; });
  }

  field(name) {
    return this.byName[name];
  }

  // the type a field's values have ("text" for a field the server no longer offers)
  typeOf(name) {
    return (this.byName[name] || { type: "text" }).type;
  }

  // a condition on the named field, or on the first field, with that field's usual operator
  newCondition(fieldName) {
    const field = this.byName[fieldName] || this.fields[0];
    return {
      kind: "condition", id: nextId("c"), field: field.name, op: defaultOp(field),
      slots: [newSlot(field.type, field), newSlot(field.type, field)], list: "", param: newParam()
    };
  }

  clear() {
    this.root = newGroup("and");
  }

  addCondition(group) {
    const c = this.newCondition();
    group.children.push(c);
    return c;
  }

  // an empty group that joins the other way from its parent: its conditions are added to it
  // one by one, so no blank condition appears by itself
  addGroup(group) {
    const g = newGroup(group.op === "and" ? "or" : "and", false, []);
    group.children.push(g);
    return g;
  }

  remove(parent, node) {
    parent.children.splice(parent.children.indexOf(node), 1);
  }

  // Point a condition at another field: keep its operator if the field has it, and its
  // values if they are of the same type.
  setField(c, name) {
    const previous = this.byName[c.field];
    const next = this.byName[name];
    c.field = next.name;
    if (next.operators.indexOf(c.op) < 0) c.op = defaultOp(next);
    if (next.type !== previous.type || next.type === "choice") {
      c.slots = [newSlot(next.type, next), newSlot(next.type, next)];
      c.list = "";
    }
    const kind = (p) => (p ? p.kind : null);
    if (kind(previous.parameter) !== kind(next.parameter)) c.param = newParam();
  }
}
