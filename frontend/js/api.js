// Every HTTP call the map page makes goes through this module (see the API contract in README.md).

/** An API failure with a message fit to show to the user. */
export class ApiError extends Error {
  constructor(message, { status = 0, field = null, code = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.field = field;
    this.code = code;
  }
}

// Relative to the page, so the front end also works when mounted under a path prefix.
function apiUrl(path, params) {
  const url = new URL(path, document.baseURI);
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return url;
}

function messageFrom(body, status) {
  if (body && typeof body === 'object') {
    if (typeof body.message === 'string' && body.message) return body.message;
    // FastAPI's own validation errors: {"detail": [{"loc": [...], "msg": "..."}]}
    if (Array.isArray(body.detail)) {
      const parts = body.detail.map((d) => {
        const where = Array.isArray(d.loc) ? d.loc.filter((p) => p !== 'query' && p !== 'body').join('.') : '';
        return where ? `${where}: ${d.msg}` : d.msg;
      });
      if (parts.length) return parts.join('；');
    }
    if (typeof body.detail === 'string' && body.detail) return body.detail;
    if (typeof body.error === 'string' && body.error) return body.error;
  }
  if (status === 404) return '请求的数据不存在 (404)。';
  if (status >= 500) return `服务器内部错误 (HTTP ${status})，请稍后重试或联系管理员。`;
  return `请求失败 (HTTP ${status})。`;
}

async function request(path, { params, method = 'GET', body } = {}) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(apiUrl(path, params), init);
  } catch {
    throw new ApiError('无法连接服务器，请检查网络后重试。');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    throw new ApiError(messageFrom(data, response.status), {
      status: response.status,
      field: data && data.field ? data.field : null,
      code: data && data.error ? data.error : null,
    });
  }
  if (data === null) throw new ApiError('服务器返回的数据无法识别。', { status: response.status });
  return data;
}

/** GET /api/cases/{id}: one case with its deadline light and the moves open to it. */
export function getCase(id) {
  return request(`api/cases/${encodeURIComponent(id)}`);
}

/** GET /api/cases/{id}/events: the case's history, oldest first. */
export function getCaseEvents(id) {
  return request(`api/cases/${encodeURIComponent(id)}/events`);
}

/** GET /api/workflow: states and actions with their Chinese names. */
export function getWorkflow() {
  return request('api/workflow');
}

/** GET /api/config: base map and initial view. */
export function getConfig() {
  return request('api/config');
}

/** GET /api/grids: a FeatureCollection of one level's grids, optionally inside bbox [minlon, minlat, maxlon, maxlat]. */
export function getGrids(level, bbox = null) {
  return request('api/grids', { params: { level, bbox } });
}

/** GET /api/grids/{code}: one grid Feature. */
export function getGrid(code) {
  return request(`api/grids/${encodeURIComponent(code)}`);
}

/** GET /api/cases: a FeatureCollection of cases; filters grid, bbox, status, limit are optional. */
export function getCases({ grid, bbox, status, limit } = {}) {
  return request('api/cases', { params: { grid, bbox, status, limit } });
}

/** GET /api/lookup: which grid of each level contains a point given in wgs84, gcj02 or bd09. */
export function lookup({ lon, lat, crs = 'wgs84' }) {
  return request('api/lookup', { params: { lon, lat, crs } });
}

/** POST /api/cases: reports a case at a point; the answer carries its grid assignment. */
export function reportCase({ lon, lat, crs = 'wgs84', category, description }) {
  return request('api/cases', { method: 'POST', body: { lon, lat, crs, category, description } });
}
