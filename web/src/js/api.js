// The JSON APIs the pages read: the catalog (Backstage's catalog API under
// /api/catalog/), the central-config provider's sync status and the
// kafka-topology plugin.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: 'application/json' }, ...options });
  } catch (e) {
    throw new ApiError(`The greenroom host did not answer (${e.message}). Is it running?`, 0);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    // Backstage's error shape: { error: { name, message } }.
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [value].flat()) {
      if (v !== undefined && v !== null && v !== '') q.append(key, String(v));
    }
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Backstage's filter syntax: one string per alternative, "k=v,k=v" within.
export function filterString(filter) {
  return Object.entries(filter)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export const catalog = {
  // GET /entities/by-query: a page of entities and the cursors around it.
  query({ filter = {}, fields, orderField, term, termFields, limit, cursor }) {
    if (cursor) return request(`/api/catalog/entities/by-query${query({ cursor, limit, fields: fields?.join(',') })}`);
    return request(
      `/api/catalog/entities/by-query${query({
        filter: filterString(filter),
        fields: fields?.join(','),
        orderField,
        fullTextFilterTerm: term,
        fullTextFilterFields: term ? termFields?.join(',') : undefined,
        limit,
      })}`,
    );
  },
  facets(facets, filter = {}) {
    return request(`/api/catalog/entity-facets${query({ facet: facets, filter: filterString(filter) })}`);
  },
  byRef({ kind, namespace, name }) {
    const path = [kind, namespace, name].map(encodeURIComponent).join('/');
    return request(`/api/catalog/entities/by-name/${path}`);
  },
  // Greenroom's addition: the file and line an entity was read from.
  source({ kind, namespace, name }) {
    const path = [kind, namespace, name].map(encodeURIComponent).join('/');
    return request(`/api/catalog/entities/by-name/${path}/source`);
  },
};

export const centralConfig = {
  status() {
    return request('/api/central-config/status');
  },
  lastSync(provider) {
    return request(`/api/central-config/last-sync${query({ provider })}`);
  },
  refresh(provider) {
    return request(`/api/central-config/refresh${query({ provider })}`, { method: 'POST' });
  },
};

// The kafka-topology plugin: clusters, a cluster's graph as Cytoscape.js
// elements, a topic with its producers and consumers, a service's topics.
export const kafkaTopology = {
  clusters() {
    return request('/api/kafka-topology/clusters');
  },
  // cluster: a name, or null for every cluster together.
  graph(cluster) {
    return request(cluster ? `/api/kafka-topology/clusters/${encodeURIComponent(cluster)}/graph` : '/api/kafka-topology/graph');
  },
  topic(cluster, name) {
    return request(`/api/kafka-topology/topics/${encodeURIComponent(cluster)}/${encodeURIComponent(name)}`);
  },
  service(name) {
    return request(`/api/kafka-topology/services/${encodeURIComponent(name)}`);
  },
  status() {
    return request('/api/kafka-topology/status');
  },
};
