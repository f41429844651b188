'use strict';
// The policy editor's form: a model of a NetworkPolicy or WeirNetworkPolicy, the document it
// stands for, the model of a document (or null when the form cannot show all of it), and the
// form drawn from the model. app.js wires it to the YAML, the service map and the policy API.

const SECTIONS = {
  ingress: { title: 'Ingress: may connect to it', peers: 'from', entities: 'fromEntities', deny: false },
  egress: { title: 'Egress: it may connect to', peers: 'to', entities: 'toEntities', deny: false },
  ingressDeny: { title: 'Ingress deny: may never connect to it', peers: 'from', entities: 'fromEntities', deny: true },
  egressDeny: { title: 'Egress deny: it may never connect to', peers: 'to', entities: 'toEntities', deny: true },
};
const ENTITIES = ['world', 'cluster', 'host', 'remote-node', 'kube-apiserver', 'all'];
const NAMESPACE_NAME = 'kubernetes.io/metadata.name';
const RESOLVER = { namespace: 'kube-system', labels: 'k8s-app=kube-dns' };

/** "app=cart, tier=web" as matchLabels; the empty text is every pod. */
function labelsOf(text) {
  const labels = {};
  for (const pair of String(text || '').split(',').map(s => s.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at < 0) labels[pair] = ''; else labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}

function labelsText(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** "8080, 53/UDP, grpc, 8000-8100/TCP" as NetworkPolicy ports; the empty text is every port. */
function portsOf(text) {
  return String(text || '').split(',').map(s => s.trim()).filter(Boolean).map(item => {
    const [spec, ...protocols] = item.split('/');
    // "53/UDP/TCP" stays one (invalid) protocol: the parser refuses it, naming the field.
    const port = { protocol: (protocols.join('/') || 'TCP').trim().toUpperCase() };
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(spec.trim());
    if (range) {
      port.port = Number(range[1]);
      port.endPort = Number(range[2]);
    } else if (spec.trim() && spec.trim() !== '*') {
      port.port = /^\d+$/.test(spec.trim()) ? Number(spec.trim()) : spec.trim();
    }
    return port;
  });
}

function portsText(ports) {
  return (ports || []).map(p => {
    const number = p.port == null ? '*' : String(p.port) + (p.endPort != null ? '-' + p.endPort : '');
    const protocol = p.protocol || 'TCP';
    return protocol === 'TCP' && p.port != null ? number : `${number}/${protocol}`;
  }).join(', ');
}

/** An empty model: nothing selected yet, ingress isolated (as a NetworkPolicy defaults to). */
function emptyModel() {
  return { kind: 'NetworkPolicy', name: 'policy', namespace: 'default', pods: '', isolateIngress: true,
    isolateEgress: false, rules: [] };
}

function newPeer(type) {
  switch (type) {
    case 'block': return { type, cidr: '', except: '' };
    case 'fqdn': return { type, fqdn: '' };
    case 'entity': return { type, entity: 'world' };
    default: return { type: 'pods', pods: '', nsMode: 'same', ns: '' };
  }
}

/** A peer selecting a workload's pods, by its namespace's name: it stays that workload if the policy moves. */
function workloadPeer(labels, namespace) {
  return { type: 'pods', pods: labels, nsMode: 'named', ns: namespace };
}

function dnsRuleModel() {
  return { section: 'egress', ports: '53/UDP, 53/TCP',
    peers: [{ type: 'pods', pods: RESOLVER.labels, nsMode: 'named', ns: RESOLVER.namespace }] };
}

/** The document a model stands for (the policy API's parser judges it). */
function documentOf(m) {
  const weir = m.kind === 'WeirNetworkPolicy';
  const metadata = { name: m.name || 'policy' };
  if (m.namespace || !weir) metadata.namespace = m.namespace || 'default';
  // Labels and annotations the form does not show are kept as they came.
  Object.assign(metadata, m.metadata || {});
  const spec = { podSelector: m.pods.trim() ? { matchLabels: labelsOf(m.pods) } : {} };
  const types = [];
  if (m.isolateIngress || (!weir && !m.isolateEgress)) types.push('Ingress');
  if (m.isolateEgress) types.push('Egress');
  if (types.length) spec.policyTypes = types;
  for (const name of Object.keys(SECTIONS)) {
    const rules = m.rules.filter(r => r.section === name);
    if (rules.length || (name === 'ingress' && !weir)) spec[name] = rules.map(r => ruleOf(r, SECTIONS[name]));
  }
  return { apiVersion: weir ? 'weir.dev/v1' : 'networking.k8s.io/v1', kind: m.kind, metadata, spec };
}

function ruleOf(r, section) {
  const rule = {};
  const peers = [];
  const entities = [];
  const fqdns = [];
  for (const p of r.peers) {
    if (p.type === 'block') {
      const block = { cidr: p.cidr.trim() };
      const except = p.except.split(/[\s,]+/).filter(Boolean);
      if (except.length) block.except = except;
      peers.push({ ipBlock: block });
    } else if (p.type === 'entity') {
      entities.push(p.entity);
    } else if (p.type === 'fqdn') {
      const name = p.fqdn.trim();
      fqdns.push(name.includes('*') ? { matchPattern: name } : { matchName: name });
    } else {
      const peer = { podSelector: p.pods.trim() ? { matchLabels: labelsOf(p.pods) } : {} };
      if (p.nsMode === 'named') peer.namespaceSelector = { matchLabels: { [NAMESPACE_NAME]: p.ns.trim() } };
      if (p.nsMode === 'labelled') peer.namespaceSelector = { matchLabels: labelsOf(p.ns) };
      if (p.nsMode === 'any') peer.namespaceSelector = {};
      peers.push(peer);
    }
  }
  if (peers.length) rule[section.peers] = peers;
  if (entities.length) rule[section.entities] = entities;
  if (fqdns.length) rule.toFQDNs = fqdns;
  const ports = portsOf(r.ports);
  if (ports.length) rule.ports = ports;
  return rule;
}

function onlyKeys(object, allowed) {
  return object && typeof object === 'object' && Object.keys(object).every(k => allowed.includes(k));
}

/** matchLabels only: the form shows no expressions. */
function plainSelector(selector) {
  return onlyKeys(selector || {}, ['matchLabels']) ? selector || {} : null;
}

/** The form's model of a parsed document, or null when the form cannot show all of it. */
function modelOf(doc) {
  if (!doc || !doc.spec || !doc.metadata || !['NetworkPolicy', 'WeirNetworkPolicy'].includes(doc.kind)) return null;
  const spec = doc.spec;
  const weir = doc.kind === 'WeirNetworkPolicy';
  if (!onlyKeys(spec, ['podSelector', 'policyTypes', ...Object.keys(SECTIONS)])) return null;
  const selector = plainSelector(spec.podSelector);
  if (!selector) return null;
  if (!weir && doc.metadata.namespace === '') return null;
  const namespace = doc.metadata.namespace || (weir ? '' : 'default');
  const kept = {};
  for (const k of ['labels', 'annotations']) if (doc.metadata[k] != null) kept[k] = doc.metadata[k];
  const hasTypes = (spec.policyTypes || []).length > 0;
  const m = { kind: doc.kind, name: doc.metadata.name, namespace, pods: labelsText(selector.matchLabels),
    isolateIngress: hasTypes ? spec.policyTypes.includes('Ingress') : (weir ? (spec.ingress || []).length > 0 : true),
    isolateEgress: hasTypes ? spec.policyTypes.includes('Egress') : (spec.egress || []).length > 0, rules: [],
    metadata: kept };
  for (const [name, section] of Object.entries(SECTIONS)) {
    for (const rule of spec[name] || []) {
      const allowed = [section.peers, section.entities, 'ports'].concat(section.peers === 'to' ? ['toFQDNs'] : []);
      if (!onlyKeys(rule, allowed)) return null;
      const r = { section: name, peers: [], ports: portsText(rule.ports) };
      for (const peer of rule[section.peers] || []) {
        const p = peerModel(peer);
        if (!p) return null;
        r.peers.push(p);
      }
      for (const entity of rule[section.entities] || []) {
        const named = String(entity).toLowerCase().replace(/_/g, '-');
        if (!ENTITIES.includes(named)) return null;
        r.peers.push({ type: 'entity', entity: named });
      }
      for (const fqdn of rule.toFQDNs || []) r.peers.push({ type: 'fqdn', fqdn: fqdn.matchName || fqdn.matchPattern || '' });
      m.rules.push(r);
    }
  }
  return m;
}

function peerModel(peer) {
  if (peer.ipBlock) {
    if (!onlyKeys(peer, ['ipBlock'])) return null;
    return { type: 'block', cidr: peer.ipBlock.cidr, except: (peer.ipBlock.except || []).join(' ') };
  }
  if (!onlyKeys(peer, ['podSelector', 'namespaceSelector'])) return null;
  const pods = plainSelector(peer.podSelector);
  // null is no selector, as the parser reads it: the policy's own namespace.
  const namespaces = peer.namespaceSelector == null ? undefined : plainSelector(peer.namespaceSelector);
  if (!pods || namespaces === null) return null;
  const p = { type: 'pods', pods: labelsText(pods.matchLabels), nsMode: 'same', ns: '' };
  if (namespaces !== undefined) {
    const labels = namespaces.matchLabels || {};
    const keys = Object.keys(labels);
    if (!keys.length) p.nsMode = 'any';
    else if (keys.length === 1 && keys[0] === NAMESPACE_NAME) { p.nsMode = 'named'; p.ns = labels[NAMESPACE_NAME]; }
    else { p.nsMode = 'labelled'; p.ns = labelsText(labels); }
  }
  return p;
}

// ---- the form, drawn from the model ---------------------------------------------------------

/**
 * Draws the rules of the model into the container. Every input names the model field it edits
 * (data-rule, data-peer, data-field); app.js reads them back on each edit.
 */
function drawRules(container, m, workloads, readOnly) {
  const weir = m.kind === 'WeirNetworkPolicy';
  const field = (attributes, rule, peer, name) => Object.assign(attributes,
    { 'data-rule': rule, 'data-field': name }, peer == null ? {} : { 'data-peer': peer }, readOnly ? { disabled: '' } : {});
  const option = (value, text, chosen) => el('option', Object.assign({ value }, value === chosen ? { selected: '' } : {}), text);
  container.replaceChildren(...m.rules.map((r, i) => {
    const section = SECTIONS[r.section];
    const peers = r.peers.map((p, j) => {
      const type = el('select', field({ class: 'peer-type' }, i, j, 'type'),
        option('pods', 'pods by label', p.type), option('block', 'address block', p.type),
        ...(section.peers === 'to' && weir ? [option('fqdn', 'DNS name', p.type)] : []),
        ...(weir ? [option('entity', 'entity', p.type)] : []));
      let inputs;
      if (p.type === 'block') {
        inputs = [el('input', field({ class: 'peer-cidr', size: 18, value: p.cidr, placeholder: '203.0.113.0/24' }, i, j, 'cidr')),
          ' except ', el('input', field({ class: 'peer-except', size: 24, value: p.except, placeholder: 'none' }, i, j, 'except'))];
      } else if (p.type === 'fqdn') {
        inputs = [el('input', field({ class: 'peer-fqdn', size: 32, value: p.fqdn, placeholder: 'api.example.com or *.example.com' }, i, j, 'fqdn'))];
      } else if (p.type === 'entity') {
        inputs = [el('select', field({ class: 'peer-entity' }, i, j, 'entity'), ...ENTITIES.map(e => option(e, e, p.entity)))];
      } else {
        inputs = [el('input', field({ class: 'peer-pods', size: 24, value: p.pods, placeholder: 'every pod' }, i, j, 'pods')),
          ' in ', el('select', field({ class: 'peer-ns-mode' }, i, j, 'nsMode'),
            option('same', 'this namespace', p.nsMode), option('named', 'the namespace', p.nsMode),
            option('labelled', 'namespaces labelled', p.nsMode), option('any', 'any namespace', p.nsMode)),
          p.nsMode === 'named' || p.nsMode === 'labelled'
            ? el('input', field({ class: 'peer-ns', size: 20, value: p.ns,
              placeholder: p.nsMode === 'named' ? 'name' : 'every namespace' }, i, j, 'ns')) : ''];
      }
      return el('li', { class: 'peer' }, type, ' ', ...inputs, ' ',
        el('button', field({ type: 'button', class: 'remove-peer' }, i, j, 'remove'), '×'));
    });
    const add = el('select', field({ class: 'add-peer' }, i, null, 'add'),
      el('option', { value: '' }, section.peers === 'from' ? 'add a source…' : 'add a destination…'),
      option('pods', 'pods by label'), option('block', 'address block'),
      ...(section.peers === 'to' && weir ? [option('fqdn', 'DNS name')] : []),
      ...(weir ? [option('entity', 'entity')] : []),
      ...workloads.map(w => el('option', { value: 'workload:' + w.id }, 'the workload ' + w.id)));
    return el('fieldset', { class: 'rule', 'data-index': i },
      el('legend', {}, `${section.title} (rule ${i + 1})`),
      r.peers.length ? el('ul', {}, peers) : el('p', { class: 'hint' }, section.peers === 'from' ? 'From anywhere.' : 'To anywhere.'),
      add, ' ',
      el('label', {}, 'Ports ', el('input', field({ class: 'ports', size: 30, value: r.ports,
        placeholder: 'any; e.g. 8080, 53/UDP, grpc, 8000-8100, */UDP' }, i, null, 'ports'))), ' ',
      el('button', field({ type: 'button', class: 'remove-rule' }, i, null, 'remove'), 'Remove rule'));
  }));
}
