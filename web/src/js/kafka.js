// The Kafka topology page: who produces to and consumes from which topics,
// as a layered graph drawn with Cytoscape.js (from npm): data flows left to
// right, producers, topics, consumers, and on through streams apps.
//
//   #/kafka?cluster=<name>|*&q=<topic text>&service=<name>&collapse=project|cluster|none
//
// The graph is the plugin's Cytoscape.js export of one cluster (or of every
// cluster, "*"); the filters and the collapsing happen here, on the
// elements, so changing them costs no request.  A click on a node (or on a
// topic in the list under the filters, for the keyboard) opens its details
// from the API: a topic's settings, producers and consumers, a service's
// topics.  Large topologies stay readable: above COLLAPSE_ABOVE nodes the
// topics are folded by JulieOps project (or by cluster) unless the URL asks
// otherwise.
import { kafkaTopology } from './api.js';
import { announce, errorBox, h, plural } from './dom.js';
import { replaceQuery } from './router.js';

const COLLAPSE_ABOVE = 1500;
const LIST_LIMIT = 25;

let cytoscapeModule = null;
// Loaded on this page only: the other pages do not pay for it.
async function cytoscape() {
  cytoscapeModule ??= import('../vendor/cytoscape/cytoscape.esm.min.mjs');
  return (await cytoscapeModule).default;
}

function readState(params) {
  const collapse = params.get('collapse');
  return {
    cluster: params.get('cluster') ?? '',
    q: params.get('q') ?? '',
    service: params.get('service') ?? '',
    // null: not chosen, the page decides from the graph's size.
    collapse: ['project', 'cluster', 'none'].includes(collapse) ? collapse : null,
  };
}

function writeState(state) {
  const p = new URLSearchParams();
  if (state.cluster) p.set('cluster', state.cluster);
  if (state.q) p.set('q', state.q);
  if (state.service) p.set('service', state.service);
  if (state.collapse) p.set('collapse', state.collapse);
  return p;
}

const isTopic = (d) => d.kind === 'topic';

// The elements to draw: the filters applied, then topics folded into one
// node per project or cluster when asked.  Pure: (graph, state) → elements.
export function shapeGraph(graph, { q, service, collapse }) {
  const nodes = graph.nodes.map((n) => n.data);
  const edges = graph.edges.map((e) => e.data);
  const byId = new Map(nodes.map((d) => [d.id, d]));
  let keep = null; // ids kept, or null for all
  if (q || service) {
    const text = q.toLowerCase();
    let topics = new Set(nodes.filter((d) => isTopic(d) && (!text || d.label.toLowerCase().includes(text))).map((d) => d.id));
    let serviceId = null;
    if (service) {
      serviceId = nodes.find((d) => !isTopic(d) && d.label === service)?.id ?? null;
      const touched = new Set();
      for (const e of edges) {
        if (e.source === serviceId && byId.get(e.target) && isTopic(byId.get(e.target))) touched.add(e.target);
        if (e.target === serviceId && byId.get(e.source) && isTopic(byId.get(e.source))) touched.add(e.source);
      }
      topics = new Set([...topics].filter((id) => touched.has(id)));
    }
    keep = new Set(topics);
    if (serviceId) keep.add(serviceId);
    // Everyone producing to or consuming from a kept topic, and the Connect
    // cluster running a kept connector.
    for (const e of edges) {
      if (e.kind === 'runs-in') continue;
      if (topics.has(e.target)) keep.add(e.source);
      if (topics.has(e.source)) keep.add(e.target);
    }
    for (const e of edges) if (e.kind === 'runs-in' && keep.has(e.source)) keep.add(e.target);
  }
  const kept = keep ? nodes.filter((d) => keep.has(d.id)) : nodes;
  const keptEdges = keep ? edges.filter((e) => keep.has(e.source) && keep.has(e.target)) : edges;

  // Folding topics: a group node per project (topics without one stay) or
  // per cluster; edges follow their topic into the group, counted once.
  const groupOf = new Map();
  const groups = new Map();
  if (collapse === 'project' || collapse === 'cluster') {
    for (const d of kept) {
      if (!isTopic(d)) continue;
      const key = collapse === 'project' ? d.project : d.cluster;
      if (!key) continue;
      const id = `group:${collapse}:${collapse === 'project' ? `${d.cluster}/` : ''}${key}`;
      if (!groups.has(id)) groups.set(id, { id, kind: 'group', groupBy: collapse, key, cluster: d.cluster, topics: [] });
      groups.get(id).topics.push(d.label);
      groupOf.set(d.id, id);
    }
    for (const g of groups.values()) g.label = `${g.key} (${plural(g.topics.length, 'topic')})`;
  }
  const outNodes = kept.filter((d) => !groupOf.has(d.id)).concat([...groups.values()]);
  const seen = new Map();
  for (const e of keptEdges) {
    const source = groupOf.get(e.source) ?? e.source;
    const target = groupOf.get(e.target) ?? e.target;
    const id = `${e.kind}:${source}->${target}`;
    if (seen.has(id)) seen.get(id).count++;
    else seen.set(id, { ...e, id, source, target, count: 1 });
  }
  return { nodes: outNodes, edges: [...seen.values()], folded: groupOf.size, groups: groups.size };
}

const LAYER_GAP = 300;
const ROW_GAP = 30;

// Layered positions, left to right.  Each node's layer is the longest path
// to it from a node nothing points at (so a topic written by a streams app
// sits right of the topics the app reads); a node nothing points at moves
// right next to its first successor, so unwritten topics sit beside their
// consumers rather than with the producers.  Within a layer, nodes are
// ordered by the mean row of their predecessors (then by label), which
// keeps most edges short and uncrossed.  Cycles (an app reading and writing
// one topic) are broken where the walk finds them.  Pure: O(nodes + edges)
// plus the sorts, so 5,000 topics lay out in milliseconds.
export function layeredPositions(nodes, edges) {
  const index = new Map(nodes.map((d, i) => [d.id, i]));
  const succ = nodes.map(() => []);
  const pred = nodes.map(() => []);
  for (const e of edges) {
    const a = index.get(e.source);
    const b = index.get(e.target);
    if (a === undefined || b === undefined || a === b) continue;
    succ[a].push(b);
    pred[b].push(a);
  }
  const layer = new Array(nodes.length).fill(0);
  const indeg = pred.map((p) => p.length);
  const queue = [];
  indeg.forEach((d, i) => d === 0 && queue.push(i));
  const done = new Array(nodes.length).fill(false);
  let visited = 0;
  for (;;) {
    while (queue.length) {
      const i = queue.shift();
      done[i] = true;
      visited++;
      for (const j of succ[i]) {
        layer[j] = Math.max(layer[j], layer[i] + 1);
        if (--indeg[j] === 0) queue.push(j);
      }
    }
    if (visited === nodes.length) break;
    // A cycle: start again from the first node left, as if its other
    // predecessors were not there.
    const next = done.findIndex((x, i) => !x && indeg[i] > 0);
    indeg[next] = 0;
    queue.push(next);
  }
  for (let i = 0; i < nodes.length; i++) {
    if (pred[i].length || !succ[i].length) continue;
    layer[i] = Math.max(layer[i], Math.min(...succ[i].map((j) => layer[j])) - 1);
  }
  // A node with no edge at all (a topic nobody uses) joins the layer that
  // holds most of its kind.
  const common = new Map();
  for (let i = 0; i < nodes.length; i++) {
    if (!pred[i].length && !succ[i].length) continue;
    const counts = common.get(nodes[i].kind) ?? new Map();
    counts.set(layer[i], (counts.get(layer[i]) ?? 0) + 1);
    common.set(nodes[i].kind, counts);
  }
  for (let i = 0; i < nodes.length; i++) {
    const counts = common.get(nodes[i].kind);
    if (pred[i].length || succ[i].length || !counts) continue;
    layer[i] = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
  }
  const layers = [];
  layer.forEach((l, i) => (layers[l] ??= []).push(i));
  const row = new Array(nodes.length).fill(0);
  const positions = {};
  let tallest = 0;
  for (const members of layers) if (members) tallest = Math.max(tallest, members.length);
  layers.forEach((members, l) => {
    if (!members) return;
    const key = (i) => (pred[i].length ? pred[i].reduce((s, j) => s + row[j], 0) / pred[i].length : Infinity);
    members.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) return ka === Infinity ? 1 : kb === Infinity ? -1 : ka - kb;
      return nodes[a].label.localeCompare(nodes[b].label);
    });
    const offset = (tallest - members.length) / 2;
    members.forEach((i, k) => {
      row[i] = offset + k;
      positions[nodes[i].id] = { x: l * LAYER_GAP, y: (offset + k) * ROW_GAP };
    });
  });
  return positions;
}

const STYLE = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'font-size': 11,
      'text-valign': 'center',
      'text-halign': 'right',
      'text-margin-x': 4,
      'background-color': '#31506e',
      width: 16,
      height: 16,
      color: '#1c2321',
      'text-wrap': 'ellipsis',
      'text-max-width': 220,
      // Labels too small to read are not drawn: large graphs stay fluid.
      'min-zoomed-font-size': 7,
    },
  },
  { selector: 'node[kind = "topic"]', style: { shape: 'round-rectangle', 'background-color': '#1f6f4a', width: 22, height: 12 } },
  { selector: 'node[?external]', style: { 'background-color': '#ffffff', 'border-width': 2, 'border-style': 'dashed', 'border-color': '#7a4b00' } },
  { selector: 'node[kind = "kafka-streams"]', style: { shape: 'diamond', 'background-color': '#6b3fa0' } },
  { selector: 'node[kind = "kafka-connect"], node[kind = "connector"]', style: { shape: 'hexagon', 'background-color': '#7a4b00' } },
  { selector: 'node[kind = "user"], node[kind = "platform"]', style: { 'background-color': '#5a6662' } },
  { selector: 'node[kind = "group"]', style: { shape: 'round-rectangle', 'background-color': '#155238', width: 34, height: 20, 'font-weight': 'bold' } },
  { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#f0b400' } },
  {
    selector: 'edge',
    style: {
      width: 1.2,
      'curve-style': 'bezier',
      'target-arrow-shape': 'triangle',
      'arrow-scale': 0.8,
      'line-color': '#9aa7a2',
      'target-arrow-color': '#9aa7a2',
    },
  },
  { selector: 'edge[kind = "produces"]', style: { 'line-color': '#1d6b3c', 'target-arrow-color': '#1d6b3c' } },
  { selector: 'edge[kind = "consumes"]', style: { 'line-color': '#0f5c9c', 'target-arrow-color': '#0f5c9c' } },
  { selector: 'edge[kind = "runs-in"]', style: { 'line-style': 'dashed' } },
  { selector: 'edge[count > 1]', style: { width: 'mapData(count, 1, 50, 1.2, 6)' } },
];

function facts(rows) {
  return h(
    'dl',
    { class: 'facts' },
    rows.filter(Boolean).map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function where(d) {
  if (!d.file) return h('span', { class: 'muted' }, 'not known');
  return h('code', { class: 'where' }, d.line ? `${d.file}:${d.line}` : d.file);
}

function kindName(kind) {
  return { 'kafka-streams': 'Kafka Streams app', 'kafka-connect': 'Kafka Connect cluster', connector: 'connector', application: 'service', user: 'user', platform: 'platform service', topic: 'topic' }[kind] ?? kind;
}

export async function renderKafka(view, params) {
  const state = readState(params);
  document.title = 'Kafka topology · greenroom';
  view.append(
    h('h1', { tabindex: '-1' }, 'Kafka topology'),
    h('p', { class: 'lead' }, 'Who produces to and consumes from which topics, as the topology files in the config repository describe them. Producers are on the left, consumers on the right; click a node for its details.'),
  );
  let clusters;
  try {
    clusters = (await kafkaTopology.clusters()).clusters;
  } catch (e) {
    view.append(errorBox(e.status === 404 ? 'The kafka-topology plugin is not loaded on this host: add kafka-topology to modules.' : `The clusters could not be read: ${e.message}`));
    return null;
  }
  if (!clusters.length) {
    view.append(h('p', { class: 'notice' }, 'No topology has been synced yet. The plugin syncs on its schedule; its status is at ', h('code', {}, '/api/kafka-topology/status'), '.'));
    return null;
  }
  if (!state.cluster || (state.cluster !== '*' && !clusters.some((c) => c.name === state.cluster))) {
    // The busiest cluster first: the one people most likely came for.
    state.cluster = [...clusters].sort((a, b) => b.topics - a.topics || a.name.localeCompare(b.name))[0].name;
  }

  const clusterSelect = h(
    'select',
    { id: 'k-cluster', name: 'cluster' },
    clusters.map((c) => h('option', { value: c.name, selected: c.name === state.cluster }, `${c.name} (${plural(c.topics, 'topic')})`)),
    clusters.length > 1 ? h('option', { value: '*', selected: state.cluster === '*' }, 'All clusters') : null,
  );
  const topicInput = h('input', { id: 'k-topic', type: 'search', name: 'q', value: state.q, autocomplete: 'off', placeholder: 'Part of a topic name' });
  const serviceSelect = h('select', { id: 'k-service', name: 'service' });
  const collapseSelect = h(
    'select',
    { id: 'k-collapse', name: 'collapse' },
    h('option', { value: 'none' }, 'Every topic'),
    h('option', { value: 'project' }, 'By project'),
    h('option', { value: 'cluster' }, 'By cluster'),
  );
  const summary = h('p', { class: 'muted graph-summary', id: 'k-summary', 'aria-live': 'polite' }, 'Loading the graph…');
  const matches = h('ul', { class: 'plain-list topic-matches', id: 'k-matches', 'aria-label': 'Matching topics' });
  const graphBox = h('div', { id: 'kafka-graph', class: 'kafka-graph', role: 'img', 'aria-label': 'Topology graph', 'aria-describedby': 'k-summary' });
  const details = h('aside', { id: 'kafka-details', class: 'card kafka-details', 'aria-live': 'polite', 'aria-label': 'Details' }, h('p', { class: 'muted' }, 'Select a node, or a topic from the list, to see its details.'));
  view.append(
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'k-cluster' }, 'Cluster'), clusterSelect),
      h('div', { class: 'field field-grow' }, h('label', { for: 'k-topic' }, 'Topic'), topicInput),
      h('div', { class: 'field' }, h('label', { for: 'k-service' }, 'Service'), serviceSelect),
      h('div', { class: 'field' }, h('label', { for: 'k-collapse' }, 'Topics shown'), collapseSelect),
    ),
    summary,
    matches,
    h('div', { class: 'kafka-layout' }, graphBox, details),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Legend' },
      h('li', {}, h('span', { class: 'swatch swatch-topic' }), 'topic'),
      h('li', {}, h('span', { class: 'swatch swatch-external' }), 'topic defined nowhere'),
      h('li', {}, h('span', { class: 'swatch swatch-service' }), 'service or user'),
      h('li', {}, h('span', { class: 'swatch swatch-streams' }), 'Kafka Streams app'),
      h('li', {}, h('span', { class: 'swatch swatch-connect' }), 'Kafka Connect'),
      h('li', {}, h('span', { class: 'line line-produces' }), 'produces'),
      h('li', {}, h('span', { class: 'line line-consumes' }), 'consumes'),
    ),
  );

  const Cytoscape = await cytoscape();
  let graph = null; // the API's elements for the chosen cluster
  let cy = null;
  let loadSeq = 0;

  async function showDetails(d) {
    const seq = ++loadSeq;
    details.replaceChildren(h('p', { class: 'muted' }, `Loading ${d.label}…`));
    let body;
    try {
      if (d.kind === 'group') {
        body = [
          h('h2', {}, d.key),
          h('p', { class: 'muted' }, `${plural(d.topics.length, 'topic')} of ${d.groupBy === 'project' ? 'project' : 'cluster'} ${d.key}, folded into one node. Choose “Every topic” to see them one by one.`),
          h('ul', { class: 'plain-list' }, d.topics.slice(0, 100).map((t) => h('li', {}, h('code', {}, t)))),
        ];
      } else if (isTopic(d)) {
        const t = await kafkaTopology.topic(d.cluster, d.label);
        const people = (list) => (list.length ? h('ul', { class: 'plain-list' }, list.map((p) => h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: () => selectNode(`principal:${p.name}`, `connector:${p.name}`) }, p.name), ' ', h('span', { class: 'muted small' }, kindName(p.kind))))) : h('span', { class: 'muted' }, 'none'));
        body = [
          h('p', { class: 'eyebrow' }, t.defined ? 'Topic' : 'Topic defined nowhere'),
          h('h2', { class: 'wrap' }, t.name),
          facts([
            ['Cluster', t.cluster],
            t.partitions ? ['Partitions', String(t.partitions)] : null,
            t.replicationFactor ? ['Replication', String(t.replicationFactor)] : null,
            t.project ? ['Project', t.project] : null,
            t.dataType ? ['Data type', t.dataType] : null,
            t.format ? ['Format', t.format] : null,
            ['Defined in', where(t)],
            ...Object.entries(t.config ?? {}).map(([k, v]) => [k, h('code', {}, v)]),
          ]),
          h('h3', {}, `Producers (${t.producers.length})`),
          people(t.producers),
          h('h3', {}, `Consumers (${t.consumers.length})`),
          people(t.consumers),
        ];
      } else {
        const s = await kafkaTopology.service(d.label);
        const topics = (list) => (list.length ? h('ul', { class: 'plain-list' }, list.map((x) => h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: () => selectNode(`topic:${x.cluster}/${x.topic}`) }, x.topic), state.cluster === '*' ? h('span', { class: 'muted small' }, ` on ${x.cluster}`) : null))) : h('span', { class: 'muted' }, 'none'));
        body = [
          h('p', { class: 'eyebrow' }, kindName(s.kind)),
          h('h2', { class: 'wrap' }, s.name),
          facts([
            s.principal ? ['Principal', h('code', {}, s.principal)] : null,
            s.runsIn ? ['Runs in', s.runsIn] : null,
            s.class ? ['Class', h('code', { class: 'wrap' }, s.class)] : null,
            ['Defined in', s.declared === false ? h('span', { class: 'muted' }, 'only referenced') : where(s)],
          ]),
          h('h3', {}, `Writes (${s.produces.length})`),
          topics(s.produces),
          h('h3', {}, `Reads (${s.consumes.length})`),
          topics(s.consumes),
        ];
      }
    } catch (e) {
      body = [errorBox(`The details could not be read: ${e.message}`)];
    }
    if (seq !== loadSeq) return;
    details.replaceChildren(...body);
    announce(`Details of ${d.label}`);
  }

  // Selects the first of these node ids the graph shows, and opens it.
  function selectNode(...ids) {
    const node = ids.map((id) => cy?.getElementById(id)).find((n) => n && n.nonempty());
    if (!node) return;
    cy.elements().unselect();
    node.select();
    cy.animate({ center: { eles: node } }, { duration: 200 });
    showDetails(node.data());
  }

  function fillServices() {
    const names = [...new Set(graph.nodes.filter((n) => !isTopic(n.data)).map((n) => n.data.label))].sort((a, b) => a.localeCompare(b));
    serviceSelect.replaceChildren(h('option', { value: '' }, 'All services'), ...names.map((n) => h('option', { value: n, selected: n === state.service }, n)));
    if (state.service && !names.includes(state.service)) state.service = '';
  }

  function draw() {
    const total = graph.nodes.length;
    const hasProjects = graph.nodes.some((n) => n.data.project);
    // Large and unfiltered: fold by project (JulieOps), or by cluster when
    // every cluster is shown, unless the URL chose.
    const fold = hasProjects ? 'project' : state.cluster === '*' ? 'cluster' : 'none';
    const collapse = state.collapse ?? (total > COLLAPSE_ABOVE && !state.q && !state.service ? fold : 'none');
    collapseSelect.value = collapse;
    const shaped = shapeGraph(graph, { q: state.q, service: state.service, collapse });
    cy?.destroy();
    graphBox.dataset.ready = 'false';
    const elements = [
      ...shaped.nodes.map((data) => ({ group: 'nodes', data })),
      ...shaped.edges.map((data) => ({ group: 'edges', data })),
    ];
    const positions = layeredPositions(shaped.nodes, shaped.edges);
    cy = Cytoscape({
      container: graphBox,
      elements,
      style: STYLE,
      wheelSensitivity: 0.3,
      minZoom: 0.02,
      maxZoom: 4,
      selectionType: 'single',
      boxSelectionEnabled: false,
      layout: { name: 'preset', positions, fit: true, padding: 24, animate: false },
      // Thousands of elements: pan and zoom on a snapshot, redraw after.
      textureOnViewport: elements.length > 3000,
      hideEdgesOnViewport: elements.length > 3000,
    });
    graphBox.cy = cy; // for the browser test, which clicks a node where it is drawn
    cy.on('tap', 'node', (evt) => showDetails(evt.target.data()));
    graphBox.dataset.nodeCount = String(cy.nodes().length);
    graphBox.dataset.edgeCount = String(cy.edges().length);
    graphBox.dataset.ready = 'true';
    const filtered = state.q || state.service;
    summary.textContent = `${plural(cy.nodes().length, 'node')} and ${plural(cy.edges().length, 'edge')} shown${filtered ? ` (filtered from ${plural(total, 'node')})` : ''}${shaped.folded ? `; ${plural(shaped.folded, 'topic')} folded into ${plural(shaped.groups, 'group')}` : ''}.`;
    // The topics the text filter finds, as buttons: the graph by keyboard.
    matches.replaceChildren();
    if (state.q) {
      const found = graph.nodes.filter((n) => isTopic(n.data) && n.data.label.toLowerCase().includes(state.q.toLowerCase()));
      for (const n of found.slice(0, LIST_LIMIT)) {
        matches.append(h('li', {}, h('button', { type: 'button', class: 'link-button', onclick: () => (cy.getElementById(n.data.id).nonempty() ? selectNode(n.data.id) : showDetails(n.data)) }, n.data.label)));
      }
      if (found.length > LIST_LIMIT) matches.append(h('li', { class: 'muted' }, `…and ${found.length - LIST_LIMIT} more`));
      if (!found.length) matches.append(h('li', { class: 'muted' }, 'No topic matches.'));
    }
    announce(summary.textContent);
  }

  async function load() {
    summary.textContent = 'Loading the graph…';
    graphBox.dataset.ready = 'false';
    try {
      graph = await kafkaTopology.graph(state.cluster === '*' ? null : state.cluster);
    } catch (e) {
      summary.replaceChildren(errorBox(`The graph could not be read: ${e.message}`));
      return;
    }
    if (!view.isConnected) return;
    fillServices();
    draw();
  }

  function update(push = true) {
    replaceQuery(writeState(state), { push });
  }

  clusterSelect.addEventListener('change', async () => {
    state.cluster = clusterSelect.value;
    state.service = '';
    update();
    await load();
  });
  let typing = null;
  topicInput.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.q = topicInput.value.trim();
      update(false);
      draw();
    }, 250);
  });
  serviceSelect.addEventListener('change', () => {
    state.service = serviceSelect.value;
    update();
    draw();
    if (state.service) {
      const node = graph.nodes.find((n) => !isTopic(n.data) && n.data.label === state.service);
      if (node) selectNode(node.data.id);
    }
  });
  collapseSelect.addEventListener('change', () => {
    state.collapse = collapseSelect.value;
    update();
    draw();
  });

  await load();
  return () => {
    clearTimeout(typing);
    cy?.destroy();
  };
}
