// The segment builder: nested AND/OR groups drawn from GET /api/v1/segments/fields, kept in
// step with the "Rule" text box. The browser never evaluates a rule: the builder's model is
// turned into the API's JSON rule tree, the server renders it as text (POST /api/v1/segments/render),
// counts it (POST /api/v1/segments/preview) and explains it (POST /api/v1/segments/explain);
// text typed in the box comes back from preview as a tree that redraws the builder.
(function () {
  "use strict";

  var DEBOUNCE_MS = 300;
  var OP_LABELS = {
    "=": "=", "!=": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤",
    "between": "between", "in": "is one of", "not in": "is none of",
    "contains": "contains", "starts with": "starts with", "ends with": "ends with",
    "is empty": "is empty", "is not empty": "is not empty"
  };
  var TIME_OP_LABELS = { ">": "after (>)", ">=": "on or after (≥)", "<": "before (<)", "<=": "on or before (≤)" };
  var UNITS = ["days", "weeks", "months", "years"];
  var MODES = [["relative", "N … ago"], ["date", "date"], ["today", "today"], ["datetime", "date-time (UTC)"]];

  var root, builder, ruleBox, form, countOut, countLabel, sampleBox, statusLine, errorBox;
  var whyInput, whyResult;
  var fields = [], byName = {};
  var total = 0;
  var uid = 0;
  var seq = 0;                 // every server round trip takes a number; stale answers are dropped
  var builderTimer = null, textTimer = null;
  var pending = null;          // the promise of the sync in flight (Save waits for it)
  var lastTree = null;         // JSON tree last sent, with its model nodes, for explain counts
  var whyCustomer = "";

  function api(path, options) { return window.xeno.api(path, options); }
  function nextId(prefix) { uid += 1; return prefix + uid; }

  // ---- model -------------------------------------------------------------------------
  function newGroup(op, not, children) {
    return { kind: "group", id: nextId("g"), op: op || "and", not: !!not, children: children || [] };
  }
  function newSlot(type) {
    return { mode: type === "datetime" ? "relative" : "plain", text: "", amount: "", unit: "days" };
  }
  function newCondition(fieldName) {
    var field = byName[fieldName] || fields[0];
    var c = { kind: "condition", id: nextId("c"), field: field.name, op: defaultOp(field), slots: [], list: "" };
    c.slots = [newSlot(field.type), newSlot(field.type)];
    return c;
  }
  function defaultOp(field) {
    var prefer = field.type === "text" ? "=" : field.type === "datetime" ? "<" : ">";
    return field.operators.indexOf(prefer) >= 0 ? prefer : field.operators[0];
  }

  // ---- model → API JSON tree (incomplete conditions and empty groups are left out) ----
  function slotJson(slot, type) {
    var text = (slot.text || "").trim();
    if (type === "number" || type === "integer") return text ? { kind: "number", value: text } : null;
    if (type === "text") return text ? { kind: "string", value: slot.text } : null;
    if (slot.mode === "today") return { kind: "today" };
    if (slot.mode === "relative") {
      var n = parseInt(slot.amount, 10);
      return isNaN(n) ? null : { kind: "relative", amount: n, unit: slot.unit };
    }
    if (!text) return null;
    return { kind: slot.mode === "date" ? "date" : "datetime", value: text };
  }
  function listItemJson(item, type) {
    if (type === "number" || type === "integer") return { kind: "number", value: item };
    if (type === "text") return { kind: "string", value: item };
    var rel = /^(\d+)\s+(day|week|month|year)s?\s+ago$/i.exec(item);
    if (rel) return { kind: "relative", amount: parseInt(rel[1], 10), unit: rel[2].toLowerCase() + "s" };
    if (/^today$/i.test(item)) return { kind: "today" };
    return { kind: /^\d{4}-\d{2}-\d{2}$/.test(item) ? "date" : "datetime", value: item };
  }
  function conditionJson(c) {
    var field = byName[c.field];
    if (!field) return null;
    var out = { type: "condition", field: c.field, op: c.op };
    if (c.op === "is empty" || c.op === "is not empty") return out;
    if (c.op === "in" || c.op === "not in") {
      var items = splitList(c.list);
      if (!items.length) return null;
      out.value = items.map(function (item) { return listItemJson(item, field.type); });
      return out;
    }
    var first = slotJson(c.slots[0], field.type);
    if (!first) return null;
    if (c.op === "between") {
      var second = slotJson(c.slots[1], field.type);
      if (!second) return null;
      out.value = [first, second];
    } else {
      out.value = first;
    }
    return out;
  }
  // Returns {json, owners} or null; `owners` maps each JSON node to the model nodes it stands
  // for. Groups are flattened the way the server's tree is (an AND inside an AND merges, a
  // one-child group is its child), so the explain answer lines up node for node.
  function toJson(node, owners) {
    if (node.kind === "condition") {
      var cj = conditionJson(node);
      if (cj) owners.set(cj, [node]);
      return cj;
    }
    var parts = [];
    node.children.forEach(function (child) {
      var j = toJson(child, owners);
      if (!j) return;
      if (j.type === node.op && !(child.kind === "group" && child.not)) {
        parts = parts.concat(j.children);
      } else {
        parts.push(j);
      }
    });
    if (!parts.length) return null;
    var json = parts.length === 1 ? parts[0] : { type: node.op, children: parts };
    if (parts.length === 1) {
      owners.set(json, (owners.get(json) || []).concat([node]));
    } else {
      owners.set(json, [node]);
    }
    if (node.not) {
      json = { type: "not", child: json };
      owners.set(json, [node]);
      owners.get(json.child).splice(owners.get(json.child).indexOf(node), 1);
    }
    return json;
  }

  // ---- API JSON tree → model ---------------------------------------------------------
  function fromJson(json) {
    var g = treeToNode(json);
    if (g.kind === "group") return g;
    return newGroup("and", false, [g]);
  }
  function treeToNode(json) {
    if (json.type === "and" || json.type === "or") {
      return newGroup(json.type, false, json.children.map(treeToNode));
    }
    if (json.type === "not") {
      var inner = treeToNode(json.child);
      if (inner.kind === "group" && !inner.not) { inner.not = true; return inner; }
      return newGroup("and", true, [inner]);
    }
    var c = newCondition(json.field);
    c.field = json.field;
    c.op = json.op;
    var type = (byName[json.field] || { type: "text" }).type;
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
    var slot = newSlot(type);
    if (v.kind === "relative") { slot.mode = "relative"; slot.amount = String(v.amount); slot.unit = v.unit; }
    else if (v.kind === "today") { slot.mode = "today"; }
    else if (v.kind === "date" || v.kind === "datetime") { slot.mode = v.kind; slot.text = v.value; }
    else { slot.text = String(v.value); }
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
    var items = [], current = "", quoted = false, wasQuoted = false;
    for (var i = 0; i < (text || "").length; i++) {
      var ch = text[i];
      if (quoted) {
        if (ch === '"' && text[i + 1] === '"') { current += '"'; i++; }
        else if (ch === '"') quoted = false;
        else current += ch;
      } else if (ch === '"') { quoted = true; wasQuoted = true; current = current.trim(); }
      else if (ch === ",") { push(); }
      else current += ch;
    }
    push();
    return items;
    function push() {
      var value = wasQuoted ? current : current.trim();
      if (value !== "" || wasQuoted) items.push(value);
      current = ""; wasQuoted = false;
    }
  }

  // ---- drawing -----------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function labelled(id, text, control) {
    return el("span", { class: "rb-control" }, [el("label", { for: id, class: "sr-only", text: text }), control]);
  }

  function draw() {
    var focused = document.activeElement && builder.contains(document.activeElement) ? document.activeElement.id : null;
    builder.textContent = "";
    builder.appendChild(drawGroup(root, null, 0));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
    showCounts();
  }

  function drawGroup(group, parent, depth) {
    var id = group.id;
    var opSelect = el("select", { id: id + "-op", onchange: function (e) { group.op = e.target.value; changed(true); } }, [
      el("option", { value: "and", text: "ALL of these (AND)", selected: group.op === "and" }),
      el("option", { value: "or", text: "ANY of these (OR)", selected: group.op === "or" })
    ]);
    var notBox = el("input", { type: "checkbox", id: id + "-not", checked: group.not,
      onchange: function (e) { group.not = e.target.checked; changed(true); } });
    var head = el("div", { class: "rb-group-head" }, [
      el("span", { class: "rb-control rb-not" }, [notBox, el("label", { for: id + "-not", text: "NOT" })]),
      labelled(id + "-op", parent ? "Join this group's conditions with" : "Join conditions with", opSelect),
      el("span", { class: "rb-count", "data-count-for": id, "aria-live": "off" }),
      el("span", { class: "rb-actions" }, [
        el("button", { type: "button", class: "btn btn-small", id: id + "-add-condition", text: "+ Condition",
          onclick: function () { var c = newCondition(); group.children.push(c); changed(true, c.id + "-field"); } }),
        el("button", { type: "button", class: "btn btn-small", id: id + "-add-group", text: "+ Group",
          onclick: function () {
            var g = newGroup(group.op === "and" ? "or" : "and", false, [newCondition()]);
            group.children.push(g); changed(true, g.children[0].id + "-field");
          } }),
        parent ? el("button", { type: "button", class: "btn btn-small btn-ghost", id: id + "-remove", text: "Remove group",
          "aria-label": "Remove this group",
          onclick: function () { remove(parent, group); } }) : null
      ])
    ]);
    var list = el("ol", { class: "rb-children" });
    group.children.forEach(function (child, index) {
      var item = el("li", { class: "rb-child" });
      if (index > 0) item.appendChild(el("span", { class: "rb-joiner", text: group.op.toUpperCase() }));
      item.appendChild(child.kind === "group" ? drawGroup(child, group, depth + 1) : drawCondition(child, group));
      list.appendChild(item);
    });
    if (!group.children.length) {
      list.appendChild(el("li", { class: "rb-empty", text: parent ? "An empty group is left out." : "No conditions yet: the audience is every customer." }));
    }
    return el("div", { class: "rb-group" + (group.not ? " rb-negated" : "") + (depth % 2 ? " rb-odd" : ""),
      role: "group", "aria-label": parent ? "Group of conditions" : "All conditions", "data-node": id }, [head, list]);
  }

  function drawCondition(c, parent) {
    var id = c.id;
    var field = byName[c.field];
    var fieldSelect = el("select", { id: id + "-field", class: "rb-field",
      onchange: function (e) {
        var next = byName[e.target.value];
        var typeChanged = next.type !== field.type;
        c.field = next.name;
        if (next.operators.indexOf(c.op) < 0) c.op = defaultOp(next);
        if (typeChanged) { c.slots = [newSlot(next.type), newSlot(next.type)]; c.list = ""; }
        changed(true);
      } }, fields.map(function (f) {
        return el("option", { value: f.name, text: f.name.replace(/_/g, " "), selected: f.name === c.field });
      }));
    var opSelect = el("select", { id: id + "-op", class: "rb-op",
      onchange: function (e) { c.op = e.target.value; changed(true); } },
      field.operators.map(function (op) {
        var label = (field.type === "datetime" && TIME_OP_LABELS[op]) || OP_LABELS[op] || op;
        return el("option", { value: op, text: label, selected: op === c.op });
      }));
    var parts = [
      labelled(id + "-field", "Field", fieldSelect),
      labelled(id + "-op", "Operator", opSelect)
    ];
    parts = parts.concat(drawValue(c, field));
    parts.push(el("button", { type: "button", class: "btn btn-small btn-ghost rb-remove", id: id + "-remove",
      text: "✕", "aria-label": "Remove condition " + c.field, title: "Remove this condition",
      onclick: function () { remove(parent, c); } }));
    return el("div", { class: "rb-condition", "data-node": id }, [
      el("div", { class: "rb-row" }, parts),
      el("div", { class: "rb-meta" }, [
        el("span", { class: "rb-count", "data-count-for": id }),
        el("span", { class: "rb-resolved", "data-resolved-for": id }),
        el("span", { class: "rb-help", text: field.help })
      ])
    ]);
  }

  function drawValue(c, field) {
    if (c.op === "is empty" || c.op === "is not empty") return [];
    if (c.op === "in" || c.op === "not in") {
      var listInput = el("input", { type: "text", id: c.id + "-list", class: "rb-list", value: c.list,
        placeholder: field.type === "text" ? "Pune, Nagpur" : field.type === "datetime" ? "2024-01-01, 2024-02-01" : "2, 4, 6",
        oninput: function (e) { c.list = e.target.value; changed(false); } });
      return [labelled(c.id + "-list", "Values, separated by commas", listInput)];
    }
    var out = [drawSlot(c, 0, field)];
    if (c.op === "between") {
      out.push(el("span", { class: "rb-and", text: "and" }));
      out.push(drawSlot(c, 1, field));
    }
    return out;
  }

  function drawSlot(c, index, field) {
    var slot = c.slots[index];
    var id = c.id + "-v" + index;
    var which = c.op === "between" ? (index ? " (upper end)" : " (lower end)") : "";
    function input(attrs, label) {
      attrs.id = attrs.id || id;
      attrs.oninput = attrs.oninput || function (e) { slot.text = e.target.value; changed(false); };
      return labelled(attrs.id, label + which, el("input", attrs));
    }
    if (field.type === "number" || field.type === "integer") {
      return input({ type: "number", step: field.type === "integer" ? "1" : "any", value: slot.text,
        class: "rb-value", inputmode: "decimal", placeholder: "0" }, "Value");
    }
    if (field.type === "text") {
      return input({ type: "text", value: slot.text, class: "rb-value", placeholder: "text" }, "Value");
    }
    var mode = el("select", { id: id + "-mode", class: "rb-mode",
      onchange: function (e) {
        slot.mode = e.target.value;
        if (slot.mode === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(slot.text)) slot.text = "";
        changed(true, id + "-mode");
      } }, MODES.map(function (m) { return el("option", { value: m[0], text: m[1], selected: m[0] === slot.mode }); }));
    var parts = [labelled(id + "-mode", "Kind of date" + which, mode)];
    if (slot.mode === "relative") {
      parts.push(input({ type: "number", id: id + "-amount", min: "0", step: "1", value: slot.amount, class: "rb-amount",
        inputmode: "numeric", placeholder: "3",
        oninput: function (e) { slot.amount = e.target.value; changed(false); } }, "How many"));
      parts.push(labelled(id + "-unit", "Unit" + which, el("select", { id: id + "-unit", class: "rb-unit",
        onchange: function (e) { slot.unit = e.target.value; changed(false); } },
        UNITS.map(function (u) { return el("option", { value: u, text: u + " ago", selected: u === slot.unit }); }))));
    } else if (slot.mode === "date") {
      parts.push(input({ type: "date", value: slot.text, class: "rb-value" }, "Date"));
    } else if (slot.mode === "datetime") {
      parts.push(input({ type: "text", value: slot.text, class: "rb-value", placeholder: "2024-01-01T10:00:00Z" }, "Date-time"));
    }
    return el("span", { class: "rb-slot" }, parts);
  }

  function remove(parent, node) {
    parent.children.splice(parent.children.indexOf(node), 1);
    changed(true, parent.id + "-add-condition");
  }

  // ---- keeping the two sides and the figures in step ---------------------------------
  function changed(redraw, focusId) {
    if (redraw) {
      draw();
      if (focusId && document.getElementById(focusId)) document.getElementById(focusId).focus();
    }
    clearTimeout(builderTimer);
    clearTimeout(textTimer);
    textTimer = null;
    seq++;  // an answer still in flight describes the rule before this change
    builderTimer = setTimeout(syncFromBuilder, DEBOUNCE_MS);
  }

  function syncFromBuilder() {
    builderTimer = null;
    var owners = new Map();
    var tree = toJson(root, owners);
    var mine = ++seq;
    hideError();
    if (!tree) {
      ruleBox.value = "";
      lastTree = null;
      showTotal();
      pending = Promise.resolve();
      return pending;
    }
    setStatus("Counting…");
    pending = api("segments/render", { method: "POST", body: { tree: tree } })
      .then(function (answer) {
        if (mine !== seq) return;
        ruleBox.value = answer.rule;
        lastTree = { json: tree, owners: owners };
        return evaluate(answer.rule, mine);
      })
      .catch(function (error) {
        if (mine !== seq) return;
        setStatus((error.body && error.body.message) || "Could not read the builder's rule.", true);
      });
    return pending;
  }

  function syncFromText() {
    textTimer = null;
    var text = ruleBox.value;
    var mine = ++seq;
    if (!text.trim()) {
      hideError();
      root = newGroup("and");
      lastTree = null;
      draw();
      showTotal();
      pending = Promise.resolve();
      return pending;
    }
    setStatus("Counting…");
    pending = api("segments/preview", { method: "POST", body: { rule: text } })
      .then(function (answer) {
        if (mine !== seq) return;
        hideError();
        root = fromJson(answer.tree);
        var owners = new Map();
        lastTree = { json: toJson(root, owners), owners: owners };
        draw();
        showAudience(answer);
        return explainNow(answer.rule, mine);
      })
      .catch(function (error) { if (mine === seq) failed(error, text); });
    return pending;
  }

  function evaluate(rule, mine) {
    return Promise.all([
      api("segments/preview", { method: "POST", body: { rule: rule } }).then(function (answer) {
        if (mine === seq) showAudience(answer);
      }),
      explainNow(rule, mine)
    ]).catch(function (error) { if (mine === seq) failed(error, rule); });
  }

  function explainNow(rule, mine) {
    var body = { rule: rule };
    if (whyCustomer) body.customer_id = whyCustomer;
    return api("segments/explain", { method: "POST", body: body })
      .catch(function (error) {
        if (!whyCustomer || error.status !== 404) throw error;
        whyCustomer = "";
        whyResult.textContent = (error.body && error.body.message) || "No such customer.";
        return api("segments/explain", { method: "POST", body: { rule: rule } });
      })
      .then(function (answer) {
        if (mine !== seq) return;
        lastExplain = answer;
        showCounts();
        setStatus("");
      });
  }

  var lastExplain = null;

  function showCounts() {
    builder.querySelectorAll("[data-count-for]").forEach(function (n) { n.textContent = ""; n.removeAttribute("title"); });
    builder.querySelectorAll("[data-resolved-for]").forEach(function (n) { n.textContent = ""; });
    builder.querySelectorAll("[data-node]").forEach(function (n) { n.classList.remove("is-true", "is-false"); });
    if (!lastExplain || !lastTree) return;
    var customer = lastExplain.customer;
    walk(lastTree.json, lastExplain.tree);
    if (customer) {
      whyResult.textContent = "";
      whyResult.appendChild(document.createTextNode(customer.name + " (" + customer.id + ") is "));
      whyResult.appendChild(el("strong", { text: lastExplain.tree.matches ? "in" : "out" }));
      whyResult.appendChild(document.createTextNode(lastExplain.tree.matches
        ? ": every condition it needs holds." : ": the conditions marked ✗ keep them out."));
    }

    function walk(sent, got) {
      if (!got || sent.type !== got.type) return;
      (lastTree.owners.get(sent) || []).forEach(function (node) { mark(node, got); });
      if (sent.children && got.children && sent.children.length === got.children.length) {
        sent.children.forEach(function (child, i) { walk(child, got.children[i]); });
      }
      if (sent.child) walk(sent.child, got.child);
    }
    function mark(node, got) {
      var count = builder.querySelector('[data-count-for="' + node.id + '"]');
      if (count) {
        count.textContent = got.own_count + " match · " + got.left_count + " left";
        count.title = got.own_count + " customers match this on its own; " + got.left_count + " are still in after it";
      }
      var resolved = builder.querySelector('[data-resolved-for="' + node.id + '"]');
      if (resolved && got.resolved) resolved.textContent = got.resolved;
      var box = builder.querySelector('[data-node="' + node.id + '"]');
      if (box && typeof got.matches === "boolean") box.classList.add(got.matches ? "is-true" : "is-false");
      if (box && typeof got.matches === "boolean" && count) count.textContent += got.matches ? " · ✓ true" : " · ✗ false";
    }
  }

  function showTotal() {
    countOut.textContent = String(total);
    countLabel.textContent = "customers in total — add a condition";
    sampleBox.textContent = "";
    lastExplain = null;
    showCounts();
    setStatus("");
  }

  function showAudience(answer) {
    countOut.textContent = String(answer.count);
    countLabel.textContent = answer.count === 1 ? "customer matches this rule" : "customers match this rule";
    sampleBox.textContent = "";
    if (!answer.sample.length) return;
    var body = el("tbody");
    answer.sample.forEach(function (c) {
      body.appendChild(el("tr", {}, [
        el("td", {}, [el("span", { class: "cell-main", text: c.name }), el("span", { class: "cell-sub", text: c.id })]),
        el("td", { class: "num", text: formatInr(c.spend) }),
        el("td", { class: "num", text: String(c.visits) }),
        el("td", {}, [el("button", { type: "button", class: "btn btn-small btn-ghost", text: "Why?",
          "aria-label": "Why is " + c.id + " in?", onclick: function () { whyInput.value = c.id; why(); } })])
      ]));
    });
    sampleBox.appendChild(el("table", { class: "table sample-table", id: "sample-table" }, [
      el("caption", { class: "sr-only", text: "A sample of the audience" }),
      el("thead", {}, [el("tr", {}, ["Customer", "Spend", "Visits", "Why?"].map(function (h, i) {
        return el("th", { class: i === 1 || i === 2 ? "num" : i === 3 ? "sr-only-text" : null, text: h });
      }))]),
      body
    ]));
  }

  function formatInr(value) {
    return "₹" + Number(value).toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function failed(error, text) {
    var body = error.body || {};
    if (body.error === "invalid_rule") { showError(body, text); setStatus(""); return; }
    setStatus(body.message || error.message || "Something went wrong.", true);
  }

  // The error under the box: the message, "line L, column C", and the line with a caret.
  function showError(body, text) {
    errorBox.textContent = "";
    var message = el("p", { class: "rule-error-message" }, [el("strong", { text: body.message })]);
    if (body.line) {
      message.appendChild(document.createTextNode(" — "));
      message.appendChild(el("span", { class: "rule-error-where", id: "rule-error-where",
        text: "line " + body.line + ", column " + body.column }));
    }
    errorBox.appendChild(message);
    if (body.line) {
      var line = (text.split("\n")[body.line - 1] || "");
      errorBox.appendChild(el("pre", { class: "rule-error-context", id: "rule-error-context",
        text: line + "\n" + " ".repeat(Math.max(0, body.column - 1)) + "^" }));
      errorBox.appendChild(el("button", { type: "button", class: "btn btn-small", text: "Go to the error",
        onclick: function () { goTo(text, body.line, body.column); } }));
    }
    if (body.hint) errorBox.appendChild(el("p", { class: "hint", text: body.hint }));
    if (body.expected && body.expected.length) {
      errorBox.appendChild(el("p", { class: "hint", text: "Expected " + body.expected.join(", ") }));
    }
    errorBox.hidden = false;
    ruleBox.setAttribute("aria-invalid", "true");
    builder.classList.add("rb-stale");
  }
  function hideError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    ruleBox.removeAttribute("aria-invalid");
    builder.classList.remove("rb-stale");
  }
  function goTo(text, line, column) {
    var lines = text.split("\n"), offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += column - 1;
    ruleBox.focus();
    ruleBox.setSelectionRange(offset, Math.min(text.length, offset + 1));
  }

  function setStatus(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("is-error", !!isError);
  }

  function why() {
    whyCustomer = whyInput.value.trim();
    whyResult.textContent = whyCustomer ? "Checking…" : "";
    var rule = ruleBox.value;
    if (!rule.trim()) {
      whyResult.textContent = whyCustomer ? "Add a condition first: with none, every customer is in." : "";
      return;
    }
    explainNow(rule, seq).catch(function (error) { failed(error, rule); });
  }

  // ---- save --------------------------------------------------------------------------
  function flush() {
    if (builderTimer) { clearTimeout(builderTimer); return syncFromBuilder(); }
    if (textTimer) { clearTimeout(textTimer); return syncFromText(); }
    return pending || Promise.resolve();
  }

  function save() {
    var nameInput = document.getElementById("segment-name");
    var nameError = document.getElementById("name-error-js");
    nameError.hidden = true;
    flush().then(function () {
      var name = nameInput.value.trim();
      var rule = ruleBox.value.trim();
      if (!name) {
        nameError.textContent = "Give the segment a name.";
        nameError.hidden = false;
        nameInput.setAttribute("aria-invalid", "true");
        nameInput.focus();
        return;
      }
      if (!rule) { setStatus("Add at least one condition before saving.", true); return; }
      var id = form.getAttribute("data-segment-id");
      setStatus("Saving…");
      var call = id
        ? api("segments/" + id, { method: "PUT", body: { name: name, rule: rule } })
        : api("segments", { method: "POST", body: { name: name, rule: rule } });
      call.then(function (saved) {
        window.location.assign("/campaigns?saved=" + saved.id);
      }).catch(function (error) { failed(error, rule); });
    });
  }

  // ---- start -------------------------------------------------------------------------
  function start() {
    builder = document.getElementById("builder");
    if (!builder || !window.xeno) return;
    form = document.getElementById("segment-form");
    ruleBox = document.getElementById("rule");
    countOut = document.getElementById("audience-count");
    countLabel = document.getElementById("audience-label");
    sampleBox = document.getElementById("audience-sample");
    statusLine = document.getElementById("builder-status");
    errorBox = document.getElementById("rule-error");
    whyInput = document.getElementById("why-customer");
    whyResult = document.getElementById("why-result");
    total = parseInt(builder.getAttribute("data-total"), 10) || 0;
    var staticExplain = document.getElementById("explain-static");
    if (staticExplain) staticExplain.remove();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var action = event.submitter ? event.submitter.value : "count";
      if (action === "save") save();
      else if (action === "why") why();
      else { clearTimeout(textTimer); syncFromText(); }
    });
    ruleBox.addEventListener("input", function () {
      clearTimeout(textTimer);
      clearTimeout(builderTimer);
      builderTimer = null;
      seq++;  // whatever is in flight describes older text
      textTimer = setTimeout(syncFromText, DEBOUNCE_MS);
    });
    whyInput.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); why(); }
    });

    api("segments/fields").then(function (answer) {
      fields = answer.fields;
      fields.forEach(function (f) { byName[f.name] = f; });
      var tree = JSON.parse(builder.getAttribute("data-tree") || "null");
      root = tree ? fromJson(tree) : newGroup("and");
      builder.hidden = false;
      draw();
      if (tree) {
        // the page came with the rule's tree: count and explain it, keep the drawn builder
        var owners = new Map();
        lastTree = { json: toJson(root, owners), owners: owners };
        pending = evaluate(ruleBox.value, ++seq);
      } else if (ruleBox.value.trim()) {
        syncFromText();  // a rule the server could not read: show its error
      } else {
        showTotal();
      }
    }).catch(function (error) {
      setStatus("The visual builder could not load its fields: " + error.message, true);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
