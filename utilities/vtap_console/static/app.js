// OVS-vTAP fleet console: the page's script.  Plain JavaScript, no build
// step.  Every page is a view of /api/v1 pushed by server-sent events
// (GET /api/v1/events?view=...); every change is a JSON request with the
// session's CSRF token.  Text from the database (names, matches, what a
// host reports) only ever goes into the page as text (textContent), never
// as HTML.
"use strict";

const API = "/api/v1";
const state = {
  session: null,   // {user, role, csrf_token}
  source: null,    // The EventSource of the page shown.
  fleet: null,     // The latest "fleet" part of a view: nb_cfg, hosts.
  pending: null,   // {nb_cfg, what}: a change being applied.
  chart: null,
  collectors: [],
  tapForm: null,   // Name of the tap being edited, or null for a new one.
  collectorForm: null,
};

// -- DOM helpers. ----------------------------------------------------------

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function table(headers, rows, attrs) {
  return el("table", attrs || {},
    el("thead", {}, el("tr", {}, headers.map(h =>
      el("th", {class: h.endsWith("/s") || h.startsWith("#") ? "num" : null},
         h.replace(/^#/, ""))))),
    el("tbody", {}, rows));
}

function num(x, digits) {
  return x === null || x === undefined ? "" :
    Number(x).toLocaleString("en-US", {maximumFractionDigits: digits || 0,
                                       minimumFractionDigits: digits || 0});
}

function tapLink(name) {
  return el("a", {href: "#/taps/" + encodeURIComponent(name),
                  "data-tap-link": name}, name);
}

// -- The API. --------------------------------------------------------------

class ApiError extends Error {
  constructor(status, doc) {
    super(doc.error || ("HTTP " + status));
    this.status = status;
    this.field = doc.field;
  }
}

async function call(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.session && state.session.csrf_token)
    headers["X-CSRF-Token"] = state.session.csrf_token;
  const r = await fetch(API + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)});
  let doc = {};
  try { doc = await r.json(); } catch (e) { /* Not JSON. */ }
  if (!r.ok) {
    if (r.status === 401 && path !== "/login") showLogin();
    throw new ApiError(r.status, doc);
  }
  return doc;
}

// -- Session. --------------------------------------------------------------

async function startSession() {
  try {
    state.session = await call("GET", "/session");
  } catch (e) {
    if (e.status === 401) return false;
    throw e;
  }
  const who = document.getElementById("who");
  who.textContent = state.session.user + " (" + state.session.role + ")";
  document.getElementById("logout").hidden =
    state.session.auth !== "token";
  const admin = state.session.role === "admin";
  document.body.classList.toggle("read-only", !admin);
  document.getElementById("new-tap").hidden = !admin;
  return true;
}

function showLogin() {
  const d = document.getElementById("login-dialog");
  if (!d.open) d.showModal();
}

async function login(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  try {
    state.session = await call("POST", "/login", {
      token: document.getElementById("login-token").value});
    document.getElementById("login-dialog").close();
    document.getElementById("login-token").value = "";
    await startSession();
    route();
  } catch (e) {
    showErrors(form, e);
  }
}

async function logout() {
  try { await call("POST", "/logout"); } catch (e) { /* Gone already. */ }
  location.reload();
}

// -- Live views. -----------------------------------------------------------

function follow(view, name, render) {
  if (state.source) state.source.close();
  const live = document.getElementById("live");
  let url = API + "/events?view=" + view;
  if (name !== undefined) url += "&name=" + encodeURIComponent(name);
  const source = new EventSource(url);
  state.source = source;
  source.addEventListener("view", ev => {
    const doc = JSON.parse(ev.data);
    live.textContent = "live";
    live.className = "live on";
    if (doc.fleet) {
      state.fleet = doc.fleet;
      showProgress();
    }
    render(doc);
  });
  source.onerror = () => {
    live.textContent = "reconnecting";
    live.className = "live off";
  };
}

function main(...children) {
  const m = document.getElementById("main");
  m.replaceChildren(...children.flat(Infinity).filter(c => c !== null &&
                                                      c !== undefined));
}

function admin() {
  return state.session && state.session.role === "admin";
}

function database(doc) {
  const db = doc.fleet && doc.fleet.database;
  if (db && db.connected === false)
    return el("ul", {class: "problems"}, el("li", {class: "error"},
      "Not connected to the fleet database " + db.remote +
      (db.error ? ": " + db.error : "")));
  return null;
}

function agentCell(h) {
  if (h.connected === true)
    return el("td", {class: "ok", "data-agent": "connected"}, "connected");
  if (h.connected === false)
    return el("td", {class: "bad", "data-agent": "gone"},
              "gone " + num(h.heartbeat_age) + " s");
  return el("td", {class: "muted", "data-agent": "unknown"}, "no heartbeat");
}

function renderOverview(doc) {
  const connected = doc.hosts.filter(h => h.connected).length;
  const cards = el("div", {class: "cards"},
    card(doc.hosts.length, "hosts, " + connected + " connected", "hosts"),
    card(doc.taps.length, "fleet taps", "taps"),
    card(doc.collectors.length, "collectors", "collectors"),
    card(doc.n_vms, "VM ports", "vms"),
    card(num(doc.copies_per_s, 1), "copies/s, fleet-wide", "copies"),
    card(num(doc.errors_per_s, 1), "failed copies/s", "errors"));
  const problems = doc.problems.length ?
    el("ul", {class: "problems", id: "problems"}, doc.problems.map(p =>
      el("li", {class: p.severity, "data-problem": p.kind + ":" + p.name},
         el("strong", {}, p.kind === "tap" ? tapLink(p.name) : p.name),
         " " + p.message))) :
    el("p", {class: "ok", id: "problems"}, "Nothing is wrong.");
  const hosts = table(
    ["Host", "Hostname", "Agent", "#nb_cfg", "#Lag", "#Taps", "#Errors",
     "#VMs", "Copies/s"],
    doc.hosts.map(h => el("tr", {"data-host": h.name},
      el("td", {}, h.name), el("td", {}, h.hostname), agentCell(h),
      el("td", {class: "num"}, num(h.nb_cfg)),
      el("td", {class: "num " + (h.lag ? "warn" : "")}, num(h.lag)),
      el("td", {class: "num"}, num(h.taps)),
      el("td", {class: "num " + (h.errors ? "bad" : "")}, num(h.errors)),
      el("td", {class: "num"}, num(h.vms)),
      el("td", {class: "num"}, num(h.copies_per_s, 1)))),
    {id: "hosts"});
  main(el("h1", {}, "Overview"), database(doc), cards,
       el("h2", {}, "What is wrong"), problems,
       el("h2", {}, "Hosts"), hosts,
       el("h2", {}, "Taps"), tapsTable(doc.taps),
       el("h2", {}, "Collectors"), collectorsTable(doc.collectors));
}

function card(n, label, id) {
  return el("div", {class: "card", "data-card": id},
            el("div", {class: "n"}, String(n)), el("div", {class: "l"}, label));
}

function tapsTable(taps) {
  return table(
    ["Tap", "Target", "Direction", "Collector", "#Hosts", "Backends",
     "#Copies", "Copies/s"],
    taps.map(t => el("tr", {"data-tap": t.name},
      el("td", {}, tapLink(t.name), t.enabled ? null :
         el("span", {class: "tag"}, "disabled")),
      el("td", {}, t.target), el("td", {}, t.direction),
      el("td", {}, t.collector), el("td", {class: "num"}, num(t.n_hosts)),
      el("td", {}, t.backends.map(b => el("span", {class: "tag"}, b))),
      el("td", {class: "num", "data-counter": "tx_packets"},
         num(t.tx_packets)),
      el("td", {class: "num"}, num(t.copies_per_s, 1)))),
    {id: "taps"});
}

function encapsulation(c) {
  if (c.type === "local") return "local port " + (c.port || "");
  const opts = Object.keys(c.options).sort()
    .map(k => " " + k + "=" + c.options[k]).join("");
  return c.type.toUpperCase() + " to " + (c.remote_ip || "") + opts;
}

function collectorsTable(collectors, withButtons) {
  return table(
    ["Collector", "Encapsulation", "Taps", "Hosts sending", "Copies/s"]
      .concat(withButtons && admin() ? [""] : []),
    collectors.map(c => el("tr", {"data-collector": c.name},
      el("td", {}, c.name), el("td", {}, encapsulation(c)),
      el("td", {}, c.taps.map(t => [tapLink(t), " "])),
      el("td", {}, c.hosts.join(", ")),
      el("td", {class: "num"}, num(c.copies_per_s, 1)),
      withButtons && admin() ? el("td", {},
        el("button", {class: "small", type: "button",
                      onclick: () => openCollectorForm(c)}, "Edit"), " ",
        el("button", {class: "small", type: "button",
                      "data-delete-collector": c.name,
                      onclick: () => deleteCollector(c.name)}, "Delete"))
        : null)),
    {id: "collectors"});
}

function renderCollectors(doc) {
  state.collectors = doc.collectors;
  main(el("h1", {}, "Collectors"), database(doc),
       admin() ? el("div", {class: "toolbar"}, el("button", {
         type: "button", class: "primary", id: "new-collector",
         onclick: () => openCollectorForm(null)}, "New collector")) : null,
       collectorsTable(doc.collectors, true));
}

function renderVms(doc) {
  const rows = doc.vms.map(vm => el("tr", {"data-vm": vm.iface_id || vm.port},
    el("td", {"data-field": "iface_id"}, vm.iface_id),
    el("td", {"data-field": "mac"}, vm.mac),
    el("td", {"data-field": "ips"}, vm.ips.join(" ")),
    el("td", {"data-field": "host"}, vm.chassis),
    el("td", {}, vm.bridge + " / " + vm.port),
    el("td", {"data-field": "taps"}, vm.taps.map(t => [tapLink(t), " "])),
    el("td", {}, admin() ? el("button", {
      class: "small", type: "button", "data-tap-vm": vm.iface_id || vm.port,
      onclick: () => openTapForm(null, vm)}, "Tap this VM") : null)));
  main(el("h1", {}, "VMs"), database(doc),
       doc.reported ? null : el("p", {class: "warn"},
         "The fleet database is older than schema 1.2.0: agents report no VMs."),
       table(["iface-id", "MAC", "IPs", "Host", "Bridge / port", "Taps", ""],
             rows, {id: "vms"}));
}

function settingText(k, v) {
  if (v === null || v === undefined || v === "") return null;
  if (k === "external_ids")
    return Object.keys(v).length ? JSON.stringify(v) : null;
  return String(v);
}

function renderTap(doc) {
  if (doc.error) {
    main(el("h1", {}, "Tap"), el("p", {class: "bad"}, doc.error));
    destroyChart();
    return;
  }
  const t = doc.tap;
  const settings = Object.entries(t.settings)
    .map(([k, v]) => [k, settingText(k, v)]).filter(([k, v]) => v !== null);
  const kv = el("table", {class: "kv", id: "tap-settings"}, el("tbody", {},
    el("tr", {}, el("td", {}, "target"), el("td", {}, t.target)),
    el("tr", {}, el("td", {}, "direction"), el("td", {}, t.direction)),
    el("tr", {}, el("td", {}, "collector"),
       el("td", {}, t.collector, " ", el("span", {class: "muted"},
          encapsulationOf(t.collector)))),
    settings.filter(([k]) => k !== "direction").map(([k, v]) =>
      el("tr", {}, el("td", {}, k), el("td", {}, v))),
    el("tr", {}, el("td", {}, "VMs selected"),
       el("td", {}, t.vms.join(", ") || "none"))));
  const counters = ["tx_packets", "tx_bytes", "tx_errors", "tx_dropped",
                    "sampled_out", "selected_packets"];
  const hosts = table(
    ["Host", "Bridge", "Ports", "Output", "Backend", "Reason"]
      .concat(counters.map(c => "#" + c), ["Copies/s", "Errors/s"]),
    t.hosts.map(h => el("tr", {"data-tap-host": h.chassis},
      el("td", {}, h.chassis), el("td", {}, h.bridge),
      el("td", {}, h.ports.join(", ")), el("td", {}, h.output_port),
      el("td", {"data-field": "backend"}, h.backend),
      el("td", {class: h.tap && !h.copy_error ? "muted" : "bad"},
         h.copy_error ? "copies fail: " + h.copy_error : h.reason),
      counters.map(c => el("td", {class: "num", "data-counter": c},
                           num(h.statistics[c]))),
      el("td", {class: "num"}, num(h.copies_per_s, 1)),
      el("td", {class: "num"}, num(h.errors_per_s, 1)))),
    {id: "tap-hosts"});
  const totals = el("tr", {"data-tap-host": "fleet", class: "totals"},
    el("td", {}, el("strong", {}, "fleet")), el("td", {}), el("td", {}),
    el("td", {}), el("td", {}), el("td", {}),
    counters.map(c => el("td", {class: "num", "data-counter": c},
                         el("strong", {}, num(t.totals[c])))),
    el("td", {class: "num", "data-total": "copies_per_s"},
       num(t.copies_per_s, 1)),
    el("td", {class: "num"}, num(t.errors_per_s, 1)));
  hosts.querySelector("tbody").append(totals);
  let canvas = document.getElementById("tap-chart");
  const chartBox = canvas ? canvas.parentNode :
    el("div", {class: "chart"}, el("canvas", {id: "tap-chart"}));
  main(el("h1", {}, "Tap ", el("span", {id: "tap-name"}, t.name),
          t.enabled ? null : el("span", {class: "tag"}, "disabled")),
       admin() ? el("div", {class: "toolbar"},
         el("button", {type: "button", id: "edit-tap",
                       onclick: () => openTapForm(t, null)}, "Edit"),
         el("button", {type: "button", class: "danger", id: "delete-tap",
                       onclick: () => deleteTap(t.name)}, "Delete")) : null,
       kv, el("h2", {}, "Hosts applying it"), hosts,
       el("h2", {}, "Copies and errors per second, per host"), chartBox);
  drawChart(t);
}

function encapsulationOf(name) {
  const c = state.collectors.find(x => x.name === name);
  return c ? "(" + encapsulation(c) + ")" : "";
}

const COLORS = ["#1f6feb", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f",
                "#6d4c41", "#c2185b", "#546e7a"];

function drawChart(t) {
  if (typeof Chart === "undefined") return;   // No Chart.js: numbers only.
  const datasets = [];
  t.hosts.forEach((h, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = h.history.map(p => ({x: p[0] * 1000, y: p[1]}));
    const errs = h.history.map(p => ({x: p[0] * 1000, y: p[2]}));
    datasets.push({label: h.chassis + " copies/s", data: pts,
                   borderColor: color, backgroundColor: color,
                   pointRadius: 1.5, tension: 0.2});
    datasets.push({label: h.chassis + " errors/s", data: errs,
                   borderColor: color, backgroundColor: color,
                   borderDash: [4, 4], pointRadius: 0});
  });
  const canvas = document.getElementById("tap-chart");
  if (state.chart && state.chart.canvas === canvas) {
    state.chart.data.datasets = datasets;
    state.chart.update("none");
    return;
  }
  destroyChart();
  state.chart = new Chart(canvas, {
    type: "line", data: {datasets},
    options: {
      animation: false, maintainAspectRatio: false, parsing: false,
      scales: {
        x: {type: "linear", ticks: {callback: v =>
              new Date(v).toLocaleTimeString("en-GB")}},
        y: {beginAtZero: true, title: {display: true, text: "per second"}}},
      plugins: {legend: {position: "bottom"}}}});
}

function destroyChart() {
  if (state.chart) {
    state.chart.destroy();
    state.chart = null;
  }
}

async function renderAudit() {
  if (state.source) state.source.close();
  destroyChart();
  const doc = await call("GET", "/audit");
  main(el("h1", {}, "Changes"), table(
    ["Time (UTC)", "User", "Role", "From", "Action", "Target", "Result",
     "#nb_cfg"],
    doc.records.slice().reverse().map(r => el("tr", {},
      el("td", {}, r.time), el("td", {}, r.user || ""),
      el("td", {}, r.role || ""), el("td", {}, r.remote || ""),
      el("td", {}, r.action), el("td", {}, r.target || ""),
      el("td", {class: r.result === "ok" ? "ok" : "bad"}, r.result),
      el("td", {class: "num"}, num(r.nb_cfg))))));
}

// -- Changes and their progress. -------------------------------------------

function watch(nb_cfg, what) {
  state.pending = {nb_cfg, what};
  showProgress();
}

function showProgress() {
  const box = document.getElementById("progress");
  const p = state.pending;
  if (!p || !state.fleet) return;
  const hosts = state.fleet.hosts;
  const applied = hosts.filter(h => h.nb_cfg >= p.nb_cfg).length;
  const done = applied === hosts.length;
  box.hidden = false;
  box.classList.toggle("done", done);
  box.dataset.state = done ? "done" : "applying";
  document.getElementById("progress-text").textContent = p.what + ": " +
    (done ? "applied by every host" : "applying") +
    " (" + applied + "/" + hosts.length + " hosts, nb_cfg " + p.nb_cfg + ")";
  document.getElementById("progress-bar").style.width =
    (hosts.length ? 100 * applied / hosts.length : 100) + "%";
  if (done && !p.doneAt) {
    p.doneAt = Date.now();
    setTimeout(() => {
      if (state.pending === p) {
        state.pending = null;
        box.hidden = true;
      }
    }, 8000);
  }
}

function clearErrors(form) {
  for (const e of form.querySelectorAll("[data-error-for]"))
    e.textContent = "";
  for (const e of form.querySelectorAll(".invalid"))
    e.classList.remove("invalid");
}

function showErrors(form, err, aliases) {
  let field = err.field || "";
  if (aliases && field in aliases) field = aliases[field];
  let span = form.querySelector('[data-error-for="' + CSS.escape(field) + '"]');
  if (!span) span = form.querySelector('[data-error-for=""]');
  span.textContent = err.message;
  const input = form.querySelector('[name="' + CSS.escape(field) + '"]');
  if (input) {
    input.classList.add("invalid");
    input.focus();
  }
}

const TAP_NUMBERS = ["output_vlan", "snaplen", "sampling", "max_rate"];

async function openTapForm(tap, vm) {
  const form = document.getElementById("tap-form");
  form.reset();
  clearErrors(form);
  state.tapForm = tap ? tap.name : null;
  try {
    state.collectors = (await call("GET", "/collectors")).collectors;
  } catch (e) { /* The select stays as it was. */ }
  const select = document.getElementById("tap-collector");
  select.replaceChildren(...state.collectors.map(c =>
    el("option", {value: c.name}, c.name + " (" + encapsulation(c) + ")")));
  const name = document.getElementById("tap-name");
  name.disabled = !!tap;
  document.getElementById("tap-form-title").textContent =
    tap ? "Change fleet tap " + tap.name : "New fleet tap";
  document.getElementById("tap-submit").textContent = tap ? "Save" : "Create";
  if (tap) {
    name.value = tap.name;
    document.getElementById("tap-target").value = tap.target;
    select.value = tap.collector;
    const s = tap.settings;
    document.getElementById("tap-direction").value = s.direction || "both";
    document.getElementById("tap-match").value = s.match || "";
    for (const k of TAP_NUMBERS)
      document.getElementById("tap-" + k).value = s[k] === null ? "" : s[k];
    document.getElementById("tap-offload").value = s.offload || "";
    document.getElementById("tap-enabled").checked = s.enabled !== false;
  } else if (vm) {
    const id = vm.iface_id ? "iface-id=" + vm.iface_id : "mac=" + vm.mac;
    document.getElementById("tap-target").value = id;
    name.value = "tap-" + (vm.iface_id || vm.port);
  }
  document.getElementById("tap-dialog").showModal();
}

function tapBody() {
  const v = id => document.getElementById(id).value.trim();
  const settings = {direction: v("tap-direction"), match: v("tap-match")};
  for (const k of TAP_NUMBERS) {
    const x = v("tap-" + k);
    // Numbers as typed: the server checks them (and names the field).
    if (x !== "") settings[k] = /^[0-9]+$/.test(x) ? Number(x) : x;
    else if (state.tapForm) settings[k] = null;
  }
  if (v("tap-offload")) settings.offload = v("tap-offload");
  else if (state.tapForm) settings.offload = null;
  const enabled = document.getElementById("tap-enabled").checked;
  if (!enabled) settings.enabled = false;
  else if (state.tapForm) settings.enabled = null;
  return {target: v("tap-target"), collector: v("tap-collector"), settings};
}

async function submitTap(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const body = tapBody();
  const editing = state.tapForm;
  try {
    let r;
    if (editing) {
      r = await call("PATCH", "/taps/" + encodeURIComponent(editing), body);
    } else {
      body.name = document.getElementById("tap-name").value.trim();
      r = await call("POST", "/taps", body);
    }
    document.getElementById("tap-dialog").close();
    watch(r.nb_cfg, (editing ? "Changed tap " : "Created tap ") + r.name);
    location.hash = "#/taps/" + encodeURIComponent(r.name);
  } catch (e) {
    showErrors(form, e);
  }
}

async function confirmDelete(text) {
  const d = document.getElementById("confirm-dialog");
  document.getElementById("confirm-text").textContent = text;
  d.returnValue = "";
  d.showModal();
  return new Promise(resolve => d.addEventListener("close",
    () => resolve(d.returnValue === "yes"), {once: true}));
}

async function deleteTap(name) {
  if (!await confirmDelete("Delete fleet tap " + name +
                           "? Its copies stop on every host.")) return;
  try {
    const r = await call("DELETE", "/taps/" + encodeURIComponent(name));
    watch(r.nb_cfg, "Deleted tap " + name);
    location.hash = "#/";
  } catch (e) {
    alert(e.message);
  }
}

function openCollectorForm(c) {
  const form = document.getElementById("collector-form");
  form.reset();
  clearErrors(form);
  state.collectorForm = c ? c.name : null;
  const name = document.getElementById("col-name");
  name.disabled = !!c;
  document.getElementById("collector-form-title").textContent =
    c ? "Change collector " + c.name : "New collector";
  document.getElementById("collector-submit").textContent =
    c ? "Save" : "Create";
  if (c) {
    name.value = c.name;
    document.getElementById("col-type").value = c.type;
    document.getElementById("col-where").value =
      (c.type === "local" ? c.port : c.remote_ip) || "";
    for (const [k, v] of Object.entries(c.options)) {
      const input = document.getElementById("col-" + k);
      if (input) input.value = v;
    }
  }
  collectorTypeChanged();
  document.getElementById("collector-dialog").showModal();
}

function collectorTypeChanged() {
  const local = document.getElementById("col-type").value === "local";
  document.getElementById("col-where-label").textContent =
    local ? "Port (on each host's bridge)" : "Remote IP";
}

async function submitCollector(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const v = id => document.getElementById(id).value.trim();
  const type = v("col-type");
  const body = {type};
  body[type === "local" ? "port" : "remote_ip"] = v("col-where");
  if (type !== "local") {
    const options = {};
    for (const k of ["key", "erspan_ver", "erspan_idx", "erspan_dir",
                     "erspan_hwid"]) {
      const x = v("col-" + k);
      if (x !== "") options[k] = /^[0-9]+$/.test(x) ? Number(x) : x;
    }
    body.options = options;
  }
  const editing = state.collectorForm;
  try {
    let r;
    if (editing) {
      r = await call("PUT", "/collectors/" + encodeURIComponent(editing),
                     body);
    } else {
      body.name = v("col-name");
      r = await call("POST", "/collectors", body);
    }
    document.getElementById("collector-dialog").close();
    watch(r.nb_cfg, (editing ? "Changed collector " : "Created collector ")
          + r.name);
  } catch (e) {
    showErrors(form, e, {port: "where", remote_ip: "where",
                         options: "key"});
  }
}

async function deleteCollector(name) {
  if (!await confirmDelete("Delete collector " + name + "?")) return;
  try {
    const r = await call("DELETE", "/collectors/" + encodeURIComponent(name));
    watch(r.nb_cfg, "Deleted collector " + name);
  } catch (e) {
    alert(e.message);
  }
}

// -- Routing. --------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  const m = hash.match(/^#\/taps\/(.+)$/);
  const page = m ? "tap" : hash.replace(/^#\//, "") || "overview";
  for (const a of document.querySelectorAll("header nav a"))
    a.classList.toggle("active", a.dataset.nav === page);
  if (page !== "tap") destroyChart();
  if (m) {
    follow("tap", decodeURIComponent(m[1]), renderTap);
    call("GET", "/collectors").then(d => { state.collectors = d.collectors; },
                                    () => {});
  } else if (page === "vms") {
    follow("vms", undefined, renderVms);
  } else if (page === "collectors") {
    follow("collectors", undefined, renderCollectors);
  } else if (page === "audit") {
    renderAudit().catch(e => main(el("p", {class: "bad"}, e.message)));
  } else {
    follow("overview", undefined, renderOverview);
  }
}

async function start() {
  document.getElementById("login-form").addEventListener("submit", login);
  document.getElementById("tap-form").addEventListener("submit", submitTap);
  document.getElementById("collector-form")
    .addEventListener("submit", submitCollector);
  document.getElementById("col-type")
    .addEventListener("change", collectorTypeChanged);
  document.getElementById("tap-cancel").addEventListener("click",
    () => document.getElementById("tap-dialog").close());
  document.getElementById("collector-cancel").addEventListener("click",
    () => document.getElementById("collector-dialog").close());
  document.getElementById("new-tap").addEventListener("click",
    () => openTapForm(null, null));
  document.getElementById("logout").addEventListener("click", logout);
  window.addEventListener("hashchange", route);
  if (await startSession()) route();
  else showLogin();
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch(e => main(el("p", {class: "bad"}, e.message)));
});
