// Weir's web UI: plain JavaScript over the relay's REST API (and, through the relay, the policy,
// DNS and alerting APIs). The API token is asked for once and kept in this tab's sessionStorage.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);
const state = { token: sessionStorage.getItem('weir.token'), map: null, live: null };
const MAX_ROWS = 500;

// ---- API ------------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: 'Bearer ' + state.token }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    signOut('The token was refused.');
    throw new Error('the token was refused');
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text }; }
  if (!response.ok) {
    throw new Error((body && body.error) || response.status + ' ' + response.statusText);
  }
  return body;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? '' : String(child)));
  }
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  return node;
}

function showError(where, error) {
  where.replaceChildren(el('p', { class: 'error' }, String(error.message || error)));
}

// ---- sign-in and navigation -----------------------------------------------------------------

function signOut(message) {
  sessionStorage.removeItem('weir.token');
  state.token = null;
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
}

async function signIn(token) {
  state.token = token;
  try {
    await api('/api/v1/status');
  } catch (e) {
    return;
  }
  sessionStorage.setItem('weir.token', token);
  $('#login').hidden = true;
  $('#app').hidden = false;
  refreshStatus();
  show('map');
}

function show(view) {
  document.querySelectorAll('.view').forEach(v => { v.hidden = v.id !== 'view-' + view; });
  document.querySelectorAll('#tabs button').forEach(b => b.classList.toggle('active', b.dataset.view === view));
  if (view !== 'flows') stopLive();
  ({ map: loadMap, flows: loadFlows, dns: loadDns, alerts: loadAlerts, editor: loadEditor })[view]();
}

async function refreshStatus() {
  try {
    const s = await api('/api/v1/status');
    $('#cluster-status').textContent = `${s.nodesConnected} node(s) connected` +
      (s.nodesUnavailable ? `, ${s.nodesUnavailable} unavailable` : '') + ` · ${s.flowsSeen} flows seen · ${s.flowsLost} lost`;
  } catch (e) {
    $('#cluster-status').textContent = '';
  }
}

// ---- service map ----------------------------------------------------------------------------

async function loadMap() {
  const target = $('#map');
  const notice = $('#map-notice');
  // Only the newest request draws: a slow answer for an older window must not replace it.
  const request = state.mapRequest = (state.mapRequest || 0) + 1;
  target.dataset.loading = '1';
  // A closed range, resolved by the relay, ending a moment ago: flows of the last seconds may
  // still be on their way from the agents (the relay allows them 10 s).
  let map;
  try {
    map = await api('/api/v1/servicemap?since=' + encodeURIComponent($('#map-since').value) + '&until=15s');
  } catch (e) {
    if (request !== state.mapRequest) return;
    delete target.dataset.loading;
    // The last map stays, marked as such; the error says why there is no newer one.
    notice.className = 'error';
    notice.textContent = `The map could not be read: ${e.message}` + (state.map ? ' (showing the previous one)' : '');
    return;
  }
  if (request !== state.mapRequest) return;
  state.map = map;
  notice.className = 'hint';
  notice.textContent = `${map.connections} connections from ${new Date(map.since).toLocaleTimeString()} to `
    + `${new Date(map.until).toLocaleTimeString()}`
    + (map.omitted ? ` — ${map.omitted} more on edges beyond the map's bounds, not drawn` : '')
    + (map.truncated ? ' — the scan stopped at its bounds: narrow the window.' : '.');
  // Drawn only while shown: a hidden view measures every text as zero wide.
  if (!$('#view-map').hidden) drawMap(target, map);
  delete target.dataset.loading;
}

function edgeClass(verdicts) {
  const dropped = (verdicts.DROPPED || 0) + (verdicts.ERROR || 0);
  const forwarded = (verdicts.FORWARDED || 0) + (verdicts.AUDIT || 0);
  return dropped && forwarded ? 'mixed' : dropped ? 'drop' : 'fwd';
}

/** A text element no wider than width: shortened with an ellipsis, the whole text in its title. */
function fittedText(attributes, text, width) {
  const node = svg('text', attributes);
  node.textContent = text;
  const title = svg('title');
  title.textContent = text;
  return { node, title, fit() {
    let shown = text;
    while (shown.length > 1 && node.getComputedTextLength() > width) {
      shown = shown.slice(0, -1);
      node.textContent = shown + '…';
    }
    node.append(title);
  } };
}

function drawMap(target, map) {
  target.replaceChildren();
  const probe = svg('text', { class: 'edge-label' });
  target.append(probe);
  const measure = text => { probe.textContent = text; return probe.getComputedTextLength(); };
  const width = Math.max(600, target.parentElement.clientWidth - 2);
  const drawn = ServiceMapLayout.layout(map, width, measure);
  probe.remove();
  target.setAttribute('width', drawn.width);
  target.setAttribute('height', Math.max(200, drawn.height));
  target.dataset.since = map.since;
  target.dataset.until = map.until;

  const defs = svg('defs');
  for (const kind of ['fwd', 'drop', 'mixed']) {
    const marker = svg('marker', { id: 'arrow-' + kind, viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6,
      markerHeight: 6, orient: 'auto' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow ' + kind }));
    defs.append(marker);
  }
  target.append(defs);
  for (const column of drawn.columns) {
    const box = svg('g', { class: 'namespace', 'data-namespace': column.name });
    box.append(svg('rect', { x: column.x, y: 4, width: column.width, height: drawn.height - 8, rx: 8 }));
    const label = fittedText({ x: column.x + 8, y: 24, class: 'namespace-label' }, column.name, column.width - 16);
    box.append(label.node);
    target.append(box);
    label.fit();
  }
  for (const e of drawn.edges) {
    const kind = edgeClass(e.edge.verdicts);
    const total = Object.values(e.edge.verdicts).reduce((a, b) => a + b, 0);
    const g = svg('g', { class: 'edge ' + kind, 'data-source': e.edge.source, 'data-destination': e.edge.destination,
      'data-count': total, 'data-ports': (e.edge.ports || []).join(',') });
    g.append(svg('path', { d: 'M' + e.points.map(p => p.join(',')).join(' L'), 'marker-end': `url(#arrow-${kind})` }));
    g.append(svg('rect', { class: 'edge-label-back', x: e.labelBox.x, y: e.labelBox.y, width: e.labelBox.width,
      height: e.labelBox.height }));
    const label = svg('text', { class: 'edge-label', x: e.labelBox.x + 3, y: e.labelBox.y + e.labelBox.height - 3 });
    label.textContent = e.label;
    g.append(label);
    const title = svg('title');
    title.textContent = e.title;
    g.append(title);
    g.addEventListener('click', () => openFlows({ from_pod: e.edge.source, to_pod: e.edge.destination }));
    target.append(g);
  }
  for (const card of drawn.cards) {
    const node = card.node;
    const g = svg('g', { class: 'workload' + (node.namespace ? '' : ' outside'), 'data-id': node.id });
    g.append(svg('rect', { x: card.x, y: card.y, width: card.width, height: card.height, rx: 6 }));
    const text = fittedText({ x: card.x + card.width / 2, y: card.y + card.height / 2 + 4 }, node.workload || node.id,
      card.width - 12);
    g.append(text.node);
    g.addEventListener('click', () => openFlows(node.namespace ? { pod: node.id } : {}));
    target.append(g);
    text.fit();
  }
  if (!map.nodes.length) {
    const empty = svg('text', { x: 20, y: 60 });
    empty.textContent = 'No connections in this window yet.';
    target.append(empty);
  }
}

// ---- flows ----------------------------------------------------------------------------------

function flowParams() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('#flow-filters'))) {
    if (String(v).trim()) params.append(k, String(v).trim());
  }
  return params;
}

function openFlows(filters) {
  const form = $('#flow-filters');
  for (const input of form.querySelectorAll('input[name], select[name]')) {
    if (input.name !== 'since') input.value = '';
  }
  for (const [k, v] of Object.entries(filters)) form.elements[k].value = v;
  show('flows');
}

async function loadFlows() {
  const params = flowParams();
  params.set('last', '200');
  const body = $('#flows-table tbody');
  const request = (state.flowsRequest = (state.flowsRequest || 0) + 1);
  try {
    const result = await api('/api/v1/flows?' + params);
    if (request !== state.flowsRequest) return; // a newer query was asked for meanwhile
    body.replaceChildren(...result.flows.reverse().map(flowRow));
    $('#flows-summary').textContent = `${result.flows.length} flow(s), newest first; ${result.scanned} read from Kafka` +
      (result.truncated ? ' (cut short: narrow the window)' : '');
  } catch (e) {
    showError($('#flows-summary'), e);
  }
  if ($('#live').checked) startLive();
}

function endpointText(pod, ip, port) {
  const who = pod ? `${pod} (${ip})` : ip;
  return port ? `${who}:${port}` : who;
}

/**
 * What the flow is, named as hubble observe names it: where the datapath saw a connection
 * (to-endpoint, from-endpoint), a DNS request or response, a drop; so the two sightings of one
 * connection read as two observation points, not as a duplicate.
 */
function flowKind(f) {
  if (f.type === 'DNS') return f.reply ? 'dns-response' : 'dns-request';
  if (f.type === 'DROP') return 'drop' + (f.observationPoint ? ' ' + f.observationPoint : '');
  if (f.type === 'POLICY_VERDICT') return 'policy-verdict' + (f.trafficDirection ? ':' + f.trafficDirection.toUpperCase() : '');
  return f.observationPoint || (f.type || '').toLowerCase().replace(/_/g, '-');
}

function flowRow(f) {
  const verdict = f.verdict + (f.dropReason ? ` (${f.dropReason})` : '');
  const kind = flowKind(f);
  return el('tr', { class: 'verdict-' + f.verdict.toLowerCase() },
    el('td', {}, new Date(f.time).toLocaleTimeString()),
    el('td', {}, endpointText(f.source, f.sourceIp, f.sourcePort)),
    el('td', {}, endpointText(f.destination, f.destinationIp, f.destinationPort)),
    el('td', { class: 'kind', title: f.trafficDirection ? 'judged at ' + f.trafficDirection : '' },
      kind + (f.reply && f.type !== 'DNS' ? ' (reply)' : '')),
    el('td', {}, f.protocol),
    el('td', { class: 'verdict' }, verdict),
    el('td', {}, (f.policies || []).join(', ')),
    el('td', {}, f.summary || (f.dnsQuery ? `DNS ${f.dnsQuery}` : '')));
}

async function startLive() {
  stopLive();
  const params = flowParams();
  params.delete('since');
  const controller = new AbortController();
  state.live = controller;
  try {
    const response = await fetch('/api/v1/flows/follow?' + params,
      { headers: { Authorization: 'Bearer ' + state.token }, signal: controller.signal });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const body = $('#flows-table tbody');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        const item = JSON.parse(line);
        if (item.lost) {
          $('#flows-summary').textContent = `${item.lost} flow(s) lost: this view fell behind`;
          continue;
        }
        body.prepend(flowRow(item));
        while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
      }
    }
  } catch (e) {
    if (e.name !== 'AbortError') showError($('#flows-summary'), e);
  }
}

function stopLive() {
  if (state.live) {
    state.live.abort();
    state.live = null;
  }
}

// ---- DNS health -----------------------------------------------------------------------------

// The DNS view's scope (all namespaces, one namespace's pods, one pod's insights) and sort order.
const dns = { namespace: null, pod: null, sort: 'unhealthy', descending: true, rows: [] };

function dnsQuery(extra) {
  const params = new URLSearchParams({ since: $('#dns-since').value });
  for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
  return params.toString();
}

async function loadDns() {
  const rows = $('#dns-health tbody');
  const insights = $('#dns-insights');
  $('#dns-health thead th').textContent = dns.namespace ? 'Pod' : 'Namespace';
  const scope = $('#dns-scope');
  scope.replaceChildren(dns.namespace
    ? el('span', {}, el('a', { href: '#', onclick: e => { e.preventDefault(); Object.assign(dns, { namespace: null, pod: null }); loadDns(); } },
      'All namespaces'), ` › ${dns.namespace}` + (dns.pod ? ` › ${dns.pod}` : ''))
    : '');
  // Only the newest request draws: a slow answer for an older scope must not replace it.
  const request = dns.request = (dns.request || 0) + 1;
  try {
    const rowsNow = await api('/api/v1/dns/health?' + dnsQuery({ namespace: dns.namespace }));
    if (request !== dns.request) return;
    dns.rows = rowsNow;
    drawDnsRows();
  } catch (e) {
    rows.replaceChildren(el('tr', {}, el('td', { colspan: 8, class: 'error' }, e.message)));
  }
  try {
    const list = await api('/api/v1/dns/insights?' + dnsQuery({ namespace: dns.namespace,
      pod: dns.pod }).replace(/since=[^&]*/, 'since=24h'));
    if (request !== dns.request) return;
    insights.replaceChildren(...(list.length ? list.map(insightCard) : [el('p', {}, 'No insights: DNS looks healthy.')]));
  } catch (e) {
    showError(insights, e);
  }
}

function drawDnsRows() {
  const key = dns.sort;
  const value = h => key === 'unhealthy' ? h.servfail + h.unanswered + h.dropped + h.nxdomain
    : key === 'name' ? (h.pod || h.namespace) : h[key];
  const sorted = [...dns.rows].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    const order = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return dns.descending ? -order : order;
  });
  $('#dns-health tbody').replaceChildren(...sorted.map(h => el('tr', { class: 'clickable', onclick: () => {
    if (!dns.namespace) Object.assign(dns, { namespace: h.namespace, pod: null });
    else dns.pod = h.pod;
    loadDns();
  } },
    el('td', {}, h.pod ? `${h.namespace}/${h.pod}` : h.namespace),
    el('td', {}, h.queries), el('td', {}, h.nxdomain), el('td', {}, h.servfail), el('td', {}, h.unanswered),
    el('td', {}, h.searchPathWasted), el('td', {}, h.latencyP95Ms.toFixed(1)), el('td', {}, h.activeInsights))));
}

function insightCard(i) {
  return el('article', { class: 'insight' + (i.resolved ? ' resolved' : '') },
    el('h3', {}, `${i.kind.replaceAll('_', ' ').toLowerCase()} — ${i.namespace}/${i.pod || i.workload || ''}`,
      i.resolved ? ' (resolved)' : ''),
    el('p', {}, i.summary),
    el('ul', {}, (i.evidence || []).map(e => el('li', {}, e))),
    i.policies && i.policies.length ? el('p', {}, 'Policies: ' + i.policies.join(', ')) : '',
    el('p', { class: 'fix' }, 'Fix: ' + i.suggestedFix));
}

// ---- alerts and silences --------------------------------------------------------------------

async function loadAlerts() {
  const rows = $('#alerts-table tbody');
  try {
    const alerts = await api('/api/v1/alerting/alerts');
    rows.replaceChildren(...alerts.map(a => el('tr', { class: 'alert-' + a.status },
      el('td', {}, a.rule), el('td', {}, a.status + (a.silencedBy.length ? ' (silenced)' : '')),
      el('td', {}, Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ')),
      el('td', {}, new Date(a.startsAt).toLocaleString()), el('td', {}, a.value),
      el('td', {}, el('button', { onclick: () => prefillSilence(a) }, 'Silence…')))));
    if (!alerts.length) rows.replaceChildren(el('tr', {}, el('td', { colspan: 6 }, 'No alerts.')));
  } catch (e) {
    rows.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'error' }, e.message)));
  }
  const silences = $('#silences-table tbody');
  try {
    const list = await api('/api/v1/alerting/silences');
    silences.replaceChildren(...list.map(s => el('tr', {},
      el('td', {}, s.matchers.map(m => typeof m === 'string' ? m : `${m.name}${m.op || '='}${m.value}`).join(', ')),
      el('td', {}, new Date(s.endsAt).toLocaleString()), el('td', {}, s.createdBy || ''), el('td', {}, s.comment || ''),
      el('td', {}, el('button', { onclick: () => expireSilence(s.id) }, 'Expire')))));
  } catch (e) {
    silences.replaceChildren(el('tr', {}, el('td', { colspan: 5, class: 'error' }, e.message)));
  }
}

function prefillSilence(alert) {
  const form = $('#silence-form');
  form.elements.matchers.value = [`alertname=${alert.rule}`,
    ...Object.entries(alert.labels).filter(([k]) => k !== 'alertname' && k !== 'severity').map(([k, v]) => `${k}=${v}`)].join(', ');
  form.elements.comment.focus();
}

async function createSilence(event) {
  event.preventDefault();
  const form = event.target;
  const matchers = form.elements.matchers.value.split(',').map(m => m.trim()).filter(Boolean);
  try {
    await api('/api/v1/alerting/silences', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ matchers, duration: form.elements.duration.value, comment: form.elements.comment.value, createdBy: 'web UI' }),
    });
    $('#silence-result').textContent = 'Silenced.';
    loadAlerts();
  } catch (e) {
    showError($('#silence-result'), e);
  }
}

async function expireSilence(id) {
  try {
    await api('/api/v1/alerting/silences/' + encodeURIComponent(id), { method: 'DELETE' });
  } finally {
    loadAlerts();
  }
}

// ---- policy editor --------------------------------------------------------------------------
//
// The form is a view of one model (editor.model); the YAML is written from it, and YAML typed by
// hand is read back through the policy API's parser (/policies/parse) into the model when the
// form can show it. A policy the form cannot show keeps the form read-only, so no click on it can
// overwrite what was typed.

const editor = { model: null, yamlOnly: false, parseTimer: null, parsing: 0, opened: null };

async function loadEditor() {
  if (!state.map) {
    try { state.map = await api('/api/v1/servicemap?since=1h'); } catch (e) { return; }
  }
  const target = $('#editor-target');
  const previous = target.value;
  target.replaceChildren(el('option', { value: '' }, 'choose…'),
    ...workloads().map(w => el('option', { value: w.id }, w.id)));
  if (previous) target.value = previous;
  await loadPolicyList();
  // Back on the tab, what is in the YAML (a suggestion with its comments, typed text) stays.
  if (!editor.model) {
    newModel();
    drawForm();
    writeYaml();
  } else {
    drawForm();
  }
}

async function loadPolicyList() {
  const select = $('#editor-policies');
  try {
    const policies = await api('/api/v1/policies');
    select.replaceChildren(...policies.map(p => {
      const ref = `${p.kind}/${p.namespace || '-'}/${p.name}`;
      return el('option', { value: ref }, `${ref} (revision ${p.revision})`);
    }));
  } catch (e) {
    showError($('#editor-result'), e);
  }
}

function workloads() {
  return (state.map ? state.map.nodes : []).filter(n => n.namespace);
}

function workload(id) {
  return workloads().find(n => n.id === id);
}

/** The labels a policy selects a workload's pods by: its own, not Weir's reserved ones. */
function selectorLabels(w) {
  const labels = {};
  for (const label of w.labels || []) {
    const at = label.indexOf('=');
    const key = label.slice(0, at);
    if (at > 0 && !key.includes(':') && !key.startsWith('io.kubernetes') && !key.startsWith('io.cilium')
        && key !== 'pod-template-hash') {
      labels[key] = label.slice(at + 1);
    }
  }
  return labels;
}

function defaultName(w) {
  return w ? `${w.workload}-policy` : 'policy';
}

function newModel() {
  editor.model = emptyModel();
  editor.opened = null;
  const w = workload($('#editor-target').value);
  if (w) choose(w);
  editor.yamlOnly = false;
  editor.opened = null;
}

/** The workload to protect: the policy's namespace and pod labels become its own. */
function choose(w) {
  const m = editor.model;
  // A name the form chose follows the workload; a typed one, or an opened policy's, stays.
  const named = !editor.opened && (!m.name || m.name === 'policy' || workloads().some(o => m.name === defaultName(o)));
  if (named) m.name = defaultName(w);
  m.namespace = w.namespace;
  m.pods = labelsText(selectorLabels(w));
}

function drawForm() {
  const m = editor.model;
  const readOnly = editor.yamlOnly;
  $('#editor-kind').value = m.kind;
  $('#editor-name').value = m.name;
  $('#editor-namespace').value = m.namespace;
  $('#editor-pods').value = m.pods;
  $('#editor-isolate-ingress').checked = m.isolateIngress;
  $('#editor-isolate-egress').checked = m.isolateEgress;
  const weir = m.kind === 'WeirNetworkPolicy';
  $('#editor-add-section').querySelectorAll('option').forEach(o => {
    o.hidden = SECTIONS[o.value].deny && !weir;
  });
  if (!weir && SECTIONS[$('#editor-add-section').value].deny) $('#editor-add-section').value = 'ingress';
  drawRules($('#editor-rules'), m, workloads().filter(w => w.id !== $('#editor-target').value), readOnly);
  $('#editor-form').querySelectorAll('input, select, button').forEach(i => {
    if (i.id !== 'editor-target') i.disabled = readOnly;
  });
  $('#editor-yaml-state').textContent = readOnly
    ? 'This policy uses what the form does not show (label expressions, or a document it cannot read): '
      + 'edit it here, as YAML (the form is read-only).'
    : (editor.opened ? `Editing ${editor.opened}.` : 'A new policy.');
}

/** An edit in the form: into the model, then the YAML; the form is redrawn when its shape changed. */
function formEdited(event) {
  // While typed YAML waits to be read, the form shows the old policy: an edit now would overwrite it.
  if (editor.yamlOnly || editor.typing) return;
  const m = editor.model;
  const t = event.target;
  let redraw = false;
  if (t.id === 'editor-target') {
    const w = workload(t.value);
    if (!w) return;
    choose(w);
    redraw = true;
  } else if (t.id === 'editor-kind') {
    const weirOnly = m.rules.some(r => SECTIONS[r.section].deny || r.peers.some(p => p.type === 'fqdn' || p.type === 'entity'));
    if (t.value === 'NetworkPolicy' && weirOnly) {
      // Dropping them would widen the policy (a rule left without peers allows any peer): the user removes them.
      t.value = m.kind;
      $('#editor-yaml-state').textContent = 'A NetworkPolicy has no deny rules, DNS names or entities: '
        + 'remove them first.';
      return;
    }
    m.kind = t.value;
    if (m.kind === 'NetworkPolicy' && !m.namespace) m.namespace = 'default';
    redraw = true;
  } else if (t.id === 'editor-name') m.name = t.value.trim();
  else if (t.id === 'editor-namespace') m.namespace = t.value.trim();
  else if (t.id === 'editor-pods') m.pods = t.value;
  else if (t.id === 'editor-isolate-ingress' || t.id === 'editor-isolate-egress') {
    m[t.id === 'editor-isolate-ingress' ? 'isolateIngress' : 'isolateEgress'] = t.checked;
    // A NetworkPolicy isolating nothing isolates ingress (Kubernetes' default): the form says so.
    if (m.kind === 'NetworkPolicy' && !m.isolateIngress && !m.isolateEgress) {
      m.isolateIngress = true;
      redraw = true;
    }
  }
  else if (t.dataset.rule != null) redraw = ruleEdited(m, t, event.type);
  else return;
  if (redraw) drawForm();
  writeYaml();
}

function ruleEdited(m, t, type) {
  const rule = m.rules[Number(t.dataset.rule)];
  const name = t.dataset.field;
  if (t.dataset.peer == null) {
    if (name === 'ports') { rule.ports = t.value; return false; }
    if (name === 'remove' && type === 'click') { m.rules.splice(Number(t.dataset.rule), 1); return true; }
    if (name === 'add' && t.value) {
      if (t.value.startsWith('workload:')) {
        const w = workload(t.value.slice('workload:'.length));
        if (!w) return true;
        rule.peers.push(workloadPeer(labelsText(selectorLabels(w)), w.namespace));
      } else {
        rule.peers.push(newPeer(t.value));
      }
      return true;
    }
    return false;
  }
  const peer = rule.peers[Number(t.dataset.peer)];
  if (name === 'remove') {
    if (type !== 'click') return false;
    rule.peers.splice(Number(t.dataset.peer), 1);
    return true;
  }
  if (name === 'type') { rule.peers[Number(t.dataset.peer)] = newPeer(t.value); return true; }
  peer[name] = t.value;
  return name === 'nsMode';
}

function addRule() {
  const section = $('#editor-add-section').value;
  editor.model.rules.push({ section, peers: [], ports: '' });
  if (section === 'egress') editor.model.isolateEgress = true;
  if (section === 'ingress') editor.model.isolateIngress = true;
  drawForm();
  writeYaml();
}

/** Egress DNS to the cluster resolver, the rule an egress policy most often forgets. */
function addDns() {
  editor.model.rules.push(dnsRuleModel());
  editor.model.isolateEgress = true;
  drawForm();
  writeYaml();
}

/** Keys a YAML reader takes for booleans or null unless quoted (true=x is a valid label). */
const YAML_WORDS = /^(true|false|null|yes|no|on|off|y|n)$/i;

/** Block-style YAML of a JSON value, every string double-quoted. */
function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (!value.length) return ' []';
    return value.map(v => {
      const inner = toYaml(v, indent + 2);
      return '\n' + pad + '-' + (inner.startsWith('\n') ? inner.replace(/^\n\s*/, ' ') : inner);
    }).join('');
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return ' {}';
    return entries.map(([k, v]) => '\n' + pad + (/^[A-Za-z][\w.\/-]*$/.test(k) && !YAML_WORDS.test(k) ? k : JSON.stringify(k)) + ':'
      + toYaml(v, indent + 2)).join('');
  }
  return ' ' + (typeof value === 'string' ? JSON.stringify(value) : String(value));
}

function writeYaml() {
  if (editor.yamlOnly) return;
  $('#editor-yaml').value = toYaml(documentOf(editor.model)).trimStart() + '\n';
}

/** YAML typed by hand: parsed by the policy API; the form follows when it can show the policy. */
function yamlTyped() {
  editor.typing = true;
  clearTimeout(editor.parseTimer);
  editor.parseTimer = setTimeout(readYaml, 400);
}

async function readYaml() {
  const asked = ++editor.parsing;
  const state_ = $('#editor-yaml-state');
  let docs;
  try {
    docs = await api('/api/v1/policies/parse', {
      method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: $('#editor-yaml').value });
  } catch (e) {
    if (asked !== editor.parsing) return;
    editor.typing = false;
    editor.yamlOnly = true;
    drawForm();
    state_.textContent = 'The YAML does not parse: ' + e.message + ' (the form is read-only until it does).';
    return;
  }
  if (asked !== editor.parsing) return; // a later edit is being read
  editor.typing = false;
  const model = docs.length === 1 ? modelOf(docs[0]) : null;
  editor.yamlOnly = !model;
  if (model) editor.model = model;
  drawForm();
}

/** The suggestion for the chosen workload, from the last 10 minutes of flows, as the YAML to review. */
async function suggestPolicy() {
  const out = $('#editor-result');
  const target = workload($('#editor-target').value);
  if (!target) return;
  out.replaceChildren(el('p', { class: 'hint' }, 'Reading the last 10 minutes of flows…'));
  try {
    const result = await api('/api/v1/policies/suggestions?since=10m&namespace=' + encodeURIComponent(target.namespace));
    const mine = result.policies.find(p => p.workload === target.id || p.workload.startsWith(target.id + ' ('));
    if (!mine) {
      out.replaceChildren(el('p', {}, `No traffic of ${target.id} in the last 10 minutes to suggest a policy from.`));
      return;
    }
    $('#editor-yaml').value = mine.yaml;
    editor.opened = null;
    await readYaml();
    const drops = (result.preview ? result.preview.changes : []).filter(c => c.after === 'DROPPED');
    out.replaceChildren(el('p', { id: 'suggested' }, `Suggested from ${result.flowsRead} recorded flows, `
      + `${mine.rules.length} rules, each commented with its traffic. `
      + (drops.length ? `Its preview drops ${drops.length} kinds of connection: preview it before applying.`
        : 'Over the same flows it drops nothing that worked.')),
    ...result.notes.map(n => el('p', { class: 'hint' }, n)));
  } catch (e) {
    showError(out, e);
  }
}

async function openPolicy() {
  const ref = $('#editor-policies').value;
  if (!ref) return;
  try {
    const detail = await api('/api/v1/policies/' + ref);
    $('#editor-yaml').value = toYaml(JSON.parse(detail.document)).trimStart() + '\n';
    editor.opened = ref;
    await readYaml();
  } catch (e) {
    showError($('#editor-result'), e);
  }
}

async function deletePolicy() {
  const ref = $('#editor-policies').value;
  if (!ref) return;
  askFirst(`Delete ${ref}? What it allows and denies stops at once.`, [], async () => {
    try {
      await api('/api/v1/policies/' + ref, { method: 'DELETE' });
      $('#editor-result').replaceChildren(el('p', { id: 'deleted' }, 'Deleted ' + ref));
      if (editor.opened === ref) editor.opened = null;
      await loadPolicyList();
    } catch (e) {
      showError($('#editor-result'), e);
    }
  });
}

/** An in-page confirmation naming what would happen; the action runs only on "confirm". */
function askFirst(text, items, action) {
  $('#editor-confirm-text').textContent = text;
  $('#editor-confirm-drops').replaceChildren(...items.map(i => el('li', {}, i)));
  $('#editor-confirm-box').hidden = false;
  $('#editor-confirm').onclick = () => { $('#editor-confirm-box').hidden = true; action(); };
  $('#editor-cancel').onclick = () => { $('#editor-confirm-box').hidden = true; };
}

async function preview() {
  const body = $('#editor-yaml').value;
  const lint = await api('/api/v1/policies?dryRun=true', {
    method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body });
  const impact = await api('/api/v1/policies/preview?minutes=10', {
    method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body });
  return { lint, impact };
}

function drawPreview(out, { lint, impact }) {
  out.replaceChildren(
    el('h3', {}, 'Lint'),
    lint.warnings.length ? el('ul', { id: 'lint-warnings' }, lint.warnings.map(w => el('li', {}, `${w.field}: ${w.message}`)))
      : el('p', { id: 'lint-warnings' }, 'No warnings.'),
    el('h3', {}, 'Impact'),
    el('p', {}, `${impact.flowsRead} recorded flows read, ${impact.connectionsJudged} connections judged` +
      (impact.truncated ? ' (cut short)' : '')),
    impact.changes.length ? el('table', { id: 'impact' }, el('thead', {}, el('tr', {},
      ['Source', 'Destination', 'Port', 'Before', 'After', 'Flows'].map(h => el('th', {}, h)))),
      el('tbody', {}, impact.changes.map(c => el('tr', { class: 'verdict-' + c.after.toLowerCase() },
        el('td', {}, c.source), el('td', {}, c.destination), el('td', {}, `${c.port}/${c.protocol}`),
        el('td', {}, c.before), el('td', {}, c.after), el('td', {}, c.flows)))))
      : el('p', { id: 'impact' }, 'No recorded connection changes its verdict.'));
}

async function previewPolicy() {
  const out = $('#editor-result');
  out.replaceChildren(el('p', { class: 'hint' }, 'Previewing against the last 10 minutes of flows…'));
  try {
    drawPreview(out, await preview());
  } catch (e) {
    showError(out, e);
  }
}

/** Apply (or stage): previewed first; new drops are named and confirmed before an apply. */
async function applyPolicy(staged) {
  const out = $('#editor-result');
  try {
    const previewed = await preview();
    drawPreview(out, previewed);
    const drops = previewed.impact.changes.filter(c => c.after === 'DROPPED');
    const go = () => submit(staged);
    if (drops.length && !staged) {
      askFirst(`Applying drops ${drops.length} kind${drops.length === 1 ? '' : 's'} of connection the recorded flows show:`,
        drops.map(c => `${c.source} → ${c.destination} ${c.port}/${c.protocol} (${c.flows} flows)`), go);
    } else {
      await go();
    }
  } catch (e) {
    showError(out, e);
  }
}

async function submit(staged) {
  const out = $('#editor-result');
  try {
    const result = await api('/api/v1/policies' + (staged ? '?staged=true' : ''), {
      method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: $('#editor-yaml').value });
    out.replaceChildren(el('p', { id: 'applied' }, (staged ? 'Staged: ' : 'Applied: ') + result.applied.map(a =>
      `${a.kind}/${a.namespace}/${a.name}` + (staged ? '' : ` revision ${a.revision}${a.changed ? '' : ' (unchanged)'}`))
      .join(', ')),
      result.warnings.length ? el('ul', {}, result.warnings.map(w => el('li', {}, `${w.field}: ${w.message}`))) : '');
    if (!staged) await loadPolicyList();
  } catch (e) {
    showError(out, e);
  }
}

// ---- wiring ---------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', e => { e.preventDefault(); signIn($('#token').value.trim()); });
  document.querySelectorAll('#tabs button').forEach(b => b.addEventListener('click', () => show(b.dataset.view)));
  $('#map-refresh').addEventListener('click', loadMap);
  $('#map-since').addEventListener('change', loadMap);
  let resized = null;
  window.addEventListener('resize', () => {
    clearTimeout(resized);
    resized = setTimeout(() => { if (state.map && !$('#view-map').hidden) drawMap($('#map'), state.map); }, 200);
  });
  $('#flow-filters').addEventListener('submit', e => { e.preventDefault(); loadFlows(); });
  $('#live').addEventListener('change', e => (e.target.checked ? startLive() : stopLive()));
  $('#dns-refresh').addEventListener('click', loadDns);
  $('#dns-since').addEventListener('change', loadDns);
  document.querySelectorAll('#dns-health thead th').forEach(th => th.addEventListener('click', () => {
    dns.descending = dns.sort === th.dataset.key ? !dns.descending : th.dataset.key !== 'name';
    dns.sort = th.dataset.key;
    drawDnsRows();
  }));
  $('#alerts-refresh').addEventListener('click', loadAlerts);
  $('#silence-form').addEventListener('submit', createSilence);
  // One listener for the whole form: every input names what it edits.
  const picked = e => e.target.tagName === 'SELECT' || e.target.type === 'checkbox';
  $('#editor-form').addEventListener('input', e => { if (!picked(e)) formEdited(e); });
  $('#editor-form').addEventListener('change', e => { if (picked(e)) formEdited(e); });
  $('#editor-form').addEventListener('click', e => { if (e.target.tagName === 'BUTTON' && e.target.dataset.rule != null) formEdited(e); });
  $('#editor-add-rule').addEventListener('click', addRule);
  $('#editor-add-dns').addEventListener('click', addDns);
  $('#editor-yaml').addEventListener('input', yamlTyped);
  $('#editor-open').addEventListener('click', openPolicy);
  $('#editor-delete').addEventListener('click', deletePolicy);
  $('#editor-new').addEventListener('click', () => { newModel(); drawForm(); writeYaml(); });
  $('#editor-suggest').addEventListener('click', suggestPolicy);
  $('#editor-preview').addEventListener('click', previewPolicy);
  $('#editor-apply').addEventListener('click', () => applyPolicy(false));
  $('#editor-stage').addEventListener('click', () => applyPolicy(true));
  setInterval(refreshStatus, 10000);
  if (state.token) signIn(state.token); else signOut();
});
