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

// --- the session: tokens in sessionStorage, so they end with the tab and are not shared ---------

const ACCESS_KEY = 'onegrid.access_token';
const REFRESH_KEY = 'onegrid.refresh_token';

let sessionEndHandler = null;
let refreshing = null; // the refresh in flight, shared by every request that got a 401

function storedToken(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null; // storage blocked by the browser: behave as signed out
  }
}

function storeTokens({ access_token: access, refresh_token: refresh }) {
  sessionStorage.setItem(ACCESS_KEY, access);
  sessionStorage.setItem(REFRESH_KEY, refresh);
}

function clearTokens() {
  try {
    sessionStorage.removeItem(ACCESS_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    // nothing stored then
  }
}

/** True when this tab holds tokens (they may still have expired). */
export function hasSession() {
  return Boolean(storedToken(ACCESS_KEY) || storedToken(REFRESH_KEY));
}

/** handler(message) runs when the session is over and the person must sign in again. */
export function onSessionEnd(handler) {
  sessionEndHandler = handler;
}

function endSession() {
  clearTokens();
  sessionEndHandler?.('登录已失效，请重新登录。');
  return new ApiError('登录已失效，请重新登录。', { status: 401, code: 'NotAuthenticated' });
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError('无法连接服务器，请检查网络后重试。');
  }
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFrom(response, data) {
  return new ApiError(messageFrom(data, response.status), {
    status: response.status,
    field: data && data.field ? data.field : null,
    code: data && data.error ? data.error : null,
  });
}

// Trades the refresh token for a new pair (the old one is used up). Requests that get a 401 at
// the same time share one refresh: presenting a used-up token again would revoke them all.
// Resolves true when a new pair is stored, false when the server refused the refresh token.
function refreshTokens() {
  refreshing ??= (async () => {
    const token = storedToken(REFRESH_KEY);
    if (!token) return false;
    const response = await send(apiUrl('api/auth/refresh'), {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    });
    const data = await readBody(response);
    if (response.status === 401 || response.status === 422) return false;
    if (!response.ok || !data) throw errorFrom(response, data);
    storeTokens(data);
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// Sends the request with the access token; on a 401 refreshes once and retries once, and when
// that fails too the session is over (the sign-in screen comes back).
async function authorized(url, init) {
  const withToken = () => {
    const token = storedToken(ACCESS_KEY);
    const headers = { ...init.headers };
    if (token) headers.Authorization = `Bearer ${token}`;
    return { ...init, headers };
  };
  const sentWith = storedToken(ACCESS_KEY);
  const response = await send(url, withToken());
  if (response.status !== 401) return response;
  // Another request may have refreshed meanwhile: then retry with its token, no new refresh.
  const current = storedToken(ACCESS_KEY);
  const renewed = (current && current !== sentWith) || await refreshTokens();
  if (!renewed) throw endSession();
  const retried = await send(url, withToken());
  if (retried.status === 401) throw endSession();
  return retried;
}

async function request(path, { params, method = 'GET', body } = {}) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await authorized(apiUrl(path, params), init);
  const data = await readBody(response);
  if (!response.ok) throw errorFrom(response, data);
  if (data === null) throw new ApiError('服务器返回的数据无法识别。', { status: response.status });
  return data;
}

/** POST /api/auth/token: signs in and keeps the token pair for this tab. */
export async function signIn(username, password) {
  const response = await send(apiUrl('api/auth/token'), {
    method: 'POST',
    headers: { Accept: 'application/json' },
    body: new URLSearchParams({ username, password }), // the OAuth2 password flow is a form post
  });
  const data = await readBody(response);
  if (!response.ok) throw errorFrom(response, data);
  if (!data || !data.access_token) throw new ApiError('服务器返回的数据无法识别。', { status: response.status });
  storeTokens(data);
}

/** POST /api/auth/revoke: ends the refresh token on the server; this tab forgets both tokens. */
export async function signOut() {
  const token = storedToken(REFRESH_KEY);
  clearTokens(); // signed out here even when the server cannot be reached
  if (!token) return;
  try {
    await send(apiUrl('api/auth/revoke'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    });
  } catch {
    // Unreachable server: the refresh token then lives until it expires, but no page has it.
  }
}

/** GET /api/auth/me: who is signed in (username, role, display name and scope when given). */
export function getMe() {
  return request('api/auth/me');
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

// --- the places registry, red property, enterprise service and registry statistics ------------

/** GET /api/places: a FeatureCollection of one kind's places the person sees, with their grids. */
export function getPlaces({ kind, bbox, grid, limit } = {}) {
  return request('api/places', { params: { kind, bbox, grid, limit } });
}

/** GET /api/places/{id}: one place with its attributes and its grid (code, name) per level. */
export function getPlace(id) {
  return request(`api/places/${encodeURIComponent(id)}`);
}

/** GET /api/red-property/map: courtyards with map_status, map_label and colour. */
export function getCourtyardMap(bbox = null) {
  return request('api/red-property/map', { params: { bbox } });
}

/** GET /api/red-property/courtyards/{id}/claims: a courtyard's claims, oldest first. */
export function getCourtyardClaims(id) {
  return request(`api/red-property/courtyards/${encodeURIComponent(id)}/claims`);
}

/** GET /api/red-property/coverage: courtyards needing red property, claimed, by company and community. */
export function getRedPropertyCoverage() {
  return request('api/red-property/coverage');
}

/** GET /api/red-property/claimable: unmanaged courtyards without an open claim. */
export function getClaimableCourtyards() {
  return request('api/red-property/claimable');
}

/** GET /api/enterprise-service/visits: visits, latest first, optionally of one enterprise. */
export function getVisits({ enterprise, limit } = {}) {
  return request('api/enterprise-service/visits', { params: { enterprise, limit } });
}

/** GET /api/enterprise-service/coverage: visit coverage of a quarter ("2025Q3"; default this one). */
export function getVisitCoverage(quarter = null) {
  return request('api/enterprise-service/coverage', { params: { quarter } });
}

/** GET /api/registry/stats: the registry figures over what the person sees, visits in `quarter`. */
export function getRegistryStats(quarter = null) {
  return request('api/registry/stats', { params: { quarter } });
}
