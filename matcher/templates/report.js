// The report's behaviour: charts from the JSON blob, paged sortable tables, paged patient sections.
// Input values are only ever placed with textContent, never parsed as HTML.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var PAGE = 25;
  var PATIENT_PAGE = 10;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function patientLink(id) {
    var link = el("a", { className: "pid", text: id });
    link.href = "#patient=" + encodeURIComponent(id);
    return link;
  }

  function pager(total, size, page, onPage) {
    var pages = Math.max(1, Math.ceil(total / size));
    var first = total ? page * size + 1 : 0;
    var last = Math.min(total, (page + 1) * size);
    var previous = el("button", { type: "button", text: "‹ previous" });
    var next = el("button", { type: "button", text: "next ›" });
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
    previous.addEventListener("click", function () { onPage(page - 1); });
    next.addEventListener("click", function () { onPage(page + 1); });
    return el("span", { className: "pager" }, [
      previous, el("span", { text: first + "–" + last + " of " + total + " (page " + (page + 1) + " of " + pages + ")" }), next
    ]);
  }

  function compare(a, b, kind) {
    var emptyA = a === null || a === undefined || a === "";
    var emptyB = b === null || b === undefined || b === "";
    if (emptyA || emptyB) return emptyA === emptyB ? 0 : emptyA ? 1 : -1;
    if (kind === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  // A table rendered from {columns: [{label, kind}], rows: [[...]], sort}: click a header to sort,
  // type to filter, and page through PAGE rows at a time.
  function PagedTable(host, spec) {
    this.host = host;
    this.spec = spec;
    this.page = 0;
    this.sortColumn = spec.sort === null || spec.sort === undefined ? null : spec.sort;
    this.descending = this.sortColumn !== null && spec.columns[this.sortColumn].kind === "number";
    this.query = "";
    var self = this;
    this.filter = el("input", { type: "search", placeholder: "filter rows…", "aria-label": "Filter rows" });
    this.filter.addEventListener("input", function () { self.query = self.filter.value.toLowerCase(); self.page = 0; self.render(); });
    this.pagerSlot = el("span");
    this.table = el("table", { className: "sortable" });
    host.appendChild(el("div", { className: "controls" }, [this.filter, this.pagerSlot]));
    host.appendChild(el("div", { className: "scroll" }, [this.table]));
    this.render();
  }

  PagedTable.prototype.rows = function () {
    var query = this.query;
    var rows = this.spec.rows.map(function (row, index) { return { row: row, index: index }; });
    if (query) {
      rows = rows.filter(function (item) {
        return item.row.some(function (cell) { return cell !== null && String(cell).toLowerCase().indexOf(query) >= 0; });
      });
    }
    if (this.sortColumn !== null) {
      var column = this.sortColumn, kind = this.spec.columns[column].kind, sign = this.descending ? -1 : 1;
      rows.sort(function (x, y) {
        var order = compare(x.row[column], y.row[column], kind);
        var empty = x.row[column] === null || y.row[column] === null;
        return (empty ? order : sign * order) || x.index - y.index;
      });
    }
    return rows;
  };

  PagedTable.prototype.render = function () {
    var self = this;
    var rows = this.rows();
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    var head = el("tr", {}, this.spec.columns.map(function (column, index) {
      var active = self.sortColumn === index;
      var button = el("button", { type: "button", className: "sort" }, [
        el("span", { text: column.label }),
        el("span", { className: "arrow", text: active ? (self.descending ? "▼" : "▲") : "" })
      ]);
      button.addEventListener("click", function () {
        self.descending = active ? !self.descending : false;
        self.sortColumn = index;
        self.page = 0;
        self.render();
      });
      var th = el("th", { className: column.kind === "number" ? "num" : "" }, [button]);
      th.setAttribute("aria-sort", active ? (self.descending ? "descending" : "ascending") : "none");
      return th;
    }));
    var body = el("tbody", {}, rows.slice(this.page * PAGE, (this.page + 1) * PAGE).map(function (item) {
      return el("tr", {}, item.row.map(function (cell, index) {
        var kind = self.spec.columns[index].kind;
        var td = el("td", { className: kind === "number" ? "num" : kind === "date" ? "date" : "" });
        if (kind === "patient") td.appendChild(patientLink(cell));
        else td.textContent = cell === null || cell === undefined ? "" : String(cell);
        return td;
      }));
    }));
    if (!rows.length) {
      body.appendChild(el("tr", {}, [el("td", { className: "empty", text: "no rows", colspan: String(this.spec.columns.length) })]));
    }
    this.table.replaceChildren(el("thead", {}, [head]), body);
    this.pagerSlot.replaceChildren(pager(rows.length, PAGE, this.page, function (page) { self.page = page; self.render(); }));
  };

  // Patient sections: verdict per trial, failed criteria with their quotes, columns to measure, plans.
  var patients = data.patients;
  var patientState = { query: "", status: "", exact: null, page: 0 };

  function badge(text) { return el("span", { className: "badge " + text, text: text }); }

  function trialDetail(entry) {
    if (typeof entry === "number") return [];
    var parts = [];
    var failed = entry[1], missing = entry[2], planIndex = entry[3], words = entry[4];
    if (failed.length) {
      parts.push(el("div", { text: "Fails:" }));
      parts.push(el("ul", {}, failed.map(function (index, position) {
        var criterion = patients.criteria[index];
        var why = words[position] >= 0 ? patients.reasons[words[position]] : criterion[1];
        return el("li", {}, [
          document.createTextNode(why + " "), el("span", { className: "mono", text: "(" + criterion[0] + ")" }),
          el("div", { className: "quote", text: criterion[1] + ": “" + criterion[2] + "”" })
        ]);
      })));
    }
    if (missing.length) {
      parts.push(el("div", { text: "Measure to decide: " + missing.map(function (i) { return patients.columns[i]; }).join(", ") }));
    }
    if (planIndex >= 0) {
      var plan = patients.plans[planIndex];
      var windowText = "Plan: eligible from " + plan[0] + " until " + (plan[1] || "the horizon (open)") +
        (plan[2] === "unknown" ? ", then unknown until the columns are measured" : "");
      parts.push(el("div", { text: windowText }));
      parts.push(el("ul", {}, (plan[3].length ? plan[3] : ["wait"]).map(function (action) { return el("li", { text: action }); })));
    }
    return parts;
  }

  function patientCard(row) {
    var outcome = row[1] === "assigned"
      ? "Assigned to " + row[2] + (row[3] ? " from " + row[3] : "") + ": " + row[4]
      : row[4];
    var rows = row[6].map(function (entry, position) {
      var code = typeof entry === "number" ? entry : entry[0];
      return el("tr", {}, [
        el("td", { className: "mono", text: patients.trials[position] }),
        el("td", {}, [badge(patients.statuses[code])]),
        el("td", {}, trialDetail(entry))
      ]);
    });
    var card = el("article", { className: "patient" }, [
      el("h3", {}, [el("span", { className: "mono", text: row[0] }), badge(row[1])]),
      el("div", { className: "outcome", text: outcome }),
      row[5].length ? el("ul", {}, row[5].map(function (action) { return el("li", { text: action }); })) : null,
      el("table", {}, [el("tbody", {}, rows)])
    ]);
    if (patientState.exact !== null) card.classList.add("focus");
    return card;
  }

  function renderPatients() {
    var query = patientState.query, status = patientState.status, exact = patientState.exact;
    var rows = patients.rows.filter(function (row) {
      if (exact !== null) return row[0] === exact;
      return (!status || row[1] === status) && (!query || row[0].toLowerCase().indexOf(query) >= 0);
    });
    var pages = Math.max(1, Math.ceil(rows.length / PATIENT_PAGE));
    patientState.page = Math.min(patientState.page, pages - 1);
    var shown = rows.slice(patientState.page * PATIENT_PAGE, (patientState.page + 1) * PATIENT_PAGE);
    var list = document.getElementById("patient-list");
    list.replaceChildren.apply(list, shown.length ? shown.map(patientCard) : [el("p", { className: "empty", text: "no patient matches" })]);
    document.getElementById("patient-pager").replaceChildren(
      pager(rows.length, PATIENT_PAGE, patientState.page, function (page) { patientState.page = page; renderPatients(); })
    );
  }

  var search = document.getElementById("patient-search");
  var statusFilter = document.getElementById("patient-status");
  search.addEventListener("input", function () {
    patientState.query = search.value.toLowerCase();
    patientState.exact = null;
    patientState.page = 0;
    renderPatients();
  });
  statusFilter.addEventListener("change", function () {
    patientState.status = statusFilter.value;
    patientState.exact = null;
    patientState.page = 0;
    renderPatients();
  });

  function followHash() {
    var prefix = "#patient=";
    if (location.hash.indexOf(prefix) !== 0) return;
    var id = decodeURIComponent(location.hash.slice(prefix.length));
    patientState.exact = id;
    patientState.page = 0;
    search.value = id;
    renderPatients();
    document.getElementById("patients").scrollIntoView();
  }
  window.addEventListener("hashchange", followHash);

  document.querySelectorAll("[data-table]").forEach(function (host) {
    new PagedTable(host, data.tables[host.getAttribute("data-table")]);
  });
  renderPatients();
  followHash();

  var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  document.querySelectorAll("[data-chart]").forEach(function (host) {
    var figure = data.charts[host.getAttribute("data-chart")];
    Plotly.newPlot(host, figure.data, figure.layout, config);
  });
})();
