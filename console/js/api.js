// The API client: every call goes to the services' public APIs under /api/<service>/ with the
// user's access token. Errors arrive as application/problem+json and become ApiError.

const SESSION_KEY = 'qx.session';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `请求失败（${status}）`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || null;
    this.errors = problem.errors || null;        // per field: {field: [reasons]} (may nest)
    this.rowErrors = problem.row_errors || null; // roster import: [{row, column, reason}]
  }
}

export const session = {
  load() {
    try { return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null; } catch { return null; }
  },
  save(value) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(SESSION_KEY); },
};

function buildUrl(path, query) {
  const url = new URL(`/api${path}`, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  return url;
}

async function problemOf(response) {
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { return await response.json(); } catch { /* fall through */ }
  }
  return { title: response.statusText, detail: `请求失败（HTTP ${response.status}）` };
}

// One refresh at a time: a refresh token may be presented only once (rotation).
let refreshing = null;

async function refreshTokens() {
  const current = session.load();
  if (!current || !current.refresh_token) return false;
  if (!refreshing) {
    refreshing = (async () => {
      const response = await fetch(buildUrl('/accounts/auth/refresh'), {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      if (response.status === 401) {
        // The session is over (revoked: permissions changed, account disabled; or expired): back
        // to the login page. A refresh that failed otherwise (a 502 during a rollout) keeps it.
        session.clear();
        window.location.hash = '#/login';
        return false;
      }
      if (!response.ok) return false;
      const tokens = await response.json();
      session.save({ ...current, access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      return true;
    })().finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  }
  return refreshing;
}

async function send(method, path, { json, form, query, retry = true } = {}) {
  const headers = {};
  const current = session.load();
  if (current && current.access_token) headers.Authorization = `Bearer ${current.access_token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // FormData: the browser sets the multipart boundary
  }
  const response = await fetch(buildUrl(path, query), { method, headers, body });
  if (response.status === 401 && retry && current && current.refresh_token && !path.startsWith('/accounts/auth/')) {
    if (await refreshTokens()) return send(method, path, { json, form, query, retry: false });
  }
  return response;
}

export async function api(method, path, options = {}) {
  const response = await send(method, path, options);
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path, query) => api('GET', path, { query });

// Every item of a paged list, page after page (the APIs serve at most 100 a page): for choosers
// and screens that must not stop at the first page (a province has more than 100 schools).
export async function getAll(path, query = {}) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await get(path, { ...query, page, page_size: 100 });
    items.push(...(data.items || []));
    if (!data.pages || page >= data.pages) return items;
  }
}
export const post = (path, json) => api('POST', path, { json: json === undefined ? {} : json });
export const put = (path, json) => api('PUT', path, { json });
export const upload = (path, formData) => api('POST', path, { form: formData });

// A file download with the token: fetched as a blob, then saved through a temporary link.
export async function download(path, query, fallbackName) {
  const response = await send('GET', path, { query });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  const blob = await response.blob();
  const disposition = response.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]) : (plain ? plain[1] : fallbackName);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return { name, size: blob.size, sha256: response.headers.get('X-Content-SHA256') };
}

export async function login(username, password) {
  const tokens = await api('POST', '/accounts/auth/login', { json: { username, password }, retry: false });
  session.save({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
  try {
    const me = await get('/accounts/me');
    session.save({ ...session.load(), me });
    return me;
  } catch (error) {
    session.clear();
    throw error;
  }
}

export async function logout() {
  try { await api('POST', '/accounts/auth/logout', { retry: false }); } catch { /* the session ends here anyway */ }
  session.clear();
}
