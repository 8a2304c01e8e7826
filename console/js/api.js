// The API client: every call goes to the services' public APIs under /api/<service>/ with the
// user's access token. Errors arrive as application/problem+json and become ApiError; a request
// that never got an answer (network down, timeout) becomes an ApiError with status 0.

const SESSION_KEY = 'qx.session';
// Where a user whose login ran out was (per tab): the login page takes the same account back there.
const RETURN_KEY = 'qx.return';
const REQUEST_TIMEOUT_MS = 60 * 1000;
// an upload (a 50 MB roster on a slow line, validated whole before the answer) takes longer
const UPLOAD_TIMEOUT_MS = 10 * 60 * 1000;

export const NETWORK_DETAIL = '网络连接失败，请检查网络后重试（已填写的内容仍保留在页面上）';
export const TIMEOUT_DETAIL = '服务器响应超时，请稍后重试；如为导入或上传，请先刷新查看是否已完成';
export const UNREACHABLE_DETAIL = '暂时无法连接服务器，请稍后重试';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `请求失败（${status}）`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || null;
    this.requestId = problem.request_id || null;
    this.errors = problem.errors || null;        // per field: {field: [reasons]} (may nest)
    this.rowErrors = problem.row_errors || null; // roster import: [{row, column, reason}]
    this.sessionEnded = false;                   // the login is over: the login page says so, not the screen
  }
}

// localStorage, not sessionStorage: every tab of one login shares one pair of tokens, so that one
// tab's refresh (which rotates the refresh token) is the other tabs' too. A tab opened from the
// console with a copy of the session would present the rotated token again and end every session.
export const session = {
  load() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)) || null; } catch { return null; }
  },
  save(value) { localStorage.setItem(SESSION_KEY, JSON.stringify(value)); },
  clear() {
    localStorage.removeItem(SESSION_KEY);
    forgetRotations(); // the login is over: its rotated tokens mean nothing any more
  },
  // the storage event's key: a logout (or a new login) in another tab
  key: SESSION_KEY,
};

export const returnRoute = {
  remember(route, me) {
    try { sessionStorage.setItem(RETURN_KEY, JSON.stringify({ route, username: me && me.username })); } catch { /* private mode: go home */ }
  },
  // the route for this account, once: a different account goes to its own home page
  take(me) {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(RETURN_KEY)); sessionStorage.removeItem(RETURN_KEY); } catch { return null; }
    return saved && saved.route && me && saved.username === me.username ? saved.route : null;
  },
};

// The login tab of a role (staff users log in at 学校登录).
export const loginRouteOf = (me) => (me && (me.role === 'graduate' || me.role === 'employer') ? `#/login/${me.role}` : '#/login/staff');

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

// fetch with a deadline; a failure to get any answer is an ApiError the user can read.
async function fetchOrFail(url, init, timeout = REQUEST_TIMEOUT_MS) {
  const signal = typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(timeout) : undefined;
  try {
    return await fetch(url, { ...init, signal });
  } catch (error) {
    const timedOut = error && (error.name === 'TimeoutError' || (error.name === 'AbortError' && signal && signal.aborted));
    throw new ApiError(0, timedOut
      ? { code: 'timeout', detail: TIMEOUT_DETAIL }
      : { code: 'network_error', detail: NETWORK_DETAIL });
  }
}

// The session is over (revoked, expired, or ended in another tab): back to the login tab of the
// user's role, with what to say there, and the route to come back to after logging in again.
function endSession(current, message) {
  const me = current && current.me;
  session.clear();
  const route = (window.location.hash || '').replace(/^#/, '');
  if (me && route && !route.startsWith('/login')) returnRoute.remember(route, me);
  window.dispatchEvent(new CustomEvent('qx:session-ended', { detail: { message, login: loginRouteOf(me) } }));
}

// One refresh at a time, across tabs: a refresh token may be presented only once (rotation).
// Within a tab, concurrent 401s share one refresh; between tabs, the Web Locks API serialises
// them, and a tab that gets the lock after another tab refreshed finds new tokens and uses those.
//
// It cannot find them in localStorage alone: each tab reads its own copy of localStorage, and
// another tab's write reaches that copy a moment later (Chromium sends it between processes
// with no order to the lock), so a tab granted the lock just after another tab refreshed may
// still read the refresh token that was just rotated; presenting it again would end every
// session of the user (refresh_token_reused). So the tab that refreshes also records, before it
// releases the lock, which refresh token became which tokens in IndexedDB (one store for all
// tabs, read in order), and the tab that gets the lock next looks there first.
let refreshing = null;

const ROTATIONS_DB = 'qx-session';
const ROTATIONS = 'rotations'; // the refresh token rotated -> {access_token, refresh_token, at}
const ROTATION_KEPT_MS = 24 * 60 * 60 * 1000;
let rotationsDb = null;

function rotationsStore(mode) {
  if (!rotationsDb) {
    rotationsDb = new Promise((resolve, reject) => {
      const request = indexedDB.open(ROTATIONS_DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(ROTATIONS);
      request.onsuccess = () => {
        request.result.onversionchange = () => { request.result.close(); rotationsDb = null; };
        resolve(request.result);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('IndexedDB blocked'));
    });
    rotationsDb.catch(() => { rotationsDb = null; });
  }
  return rotationsDb.then((db) => db.transaction(ROTATIONS, mode));
}

const settled = (transaction, request) => new Promise((resolve, reject) => {
  transaction.oncomplete = () => resolve(request && request.result);
  transaction.onerror = () => reject(transaction.error);
  transaction.onabort = () => reject(transaction.error || new Error('IndexedDB transaction aborted'));
});

// Without IndexedDB (a browser that refuses it) the refresh works as before: localStorage only.
async function recordRotation(rotated, tokens) {
  try {
    const transaction = await rotationsStore('readwrite');
    const store = transaction.objectStore(ROTATIONS);
    const oldest = Date.now() - ROTATION_KEPT_MS;
    store.openCursor().onsuccess = (event) => {
      const cursor = event.target.result;
      if (!cursor) return;
      if (!cursor.value || cursor.value.at < oldest) cursor.delete();
      cursor.continue();
    };
    store.put({ access_token: tokens.access_token, refresh_token: tokens.refresh_token, at: Date.now() }, rotated);
    await settled(transaction);
  } catch { /* no hand-off: the other tabs rely on localStorage */ }
}

// The newest tokens that another tab's refreshes made of this refresh token, or null.
async function rotationOf(refreshToken) {
  let found = null;
  try {
    for (let token = refreshToken, step = 0; step < 50; step += 1) {
      const transaction = await rotationsStore('readonly');
      const next = await settled(transaction, transaction.objectStore(ROTATIONS).get(token));
      if (!next || !next.refresh_token) break;
      found = next;
      token = next.refresh_token;
    }
  } catch { /* as without IndexedDB */ }
  return found;
}

function forgetRotations() {
  rotationsStore('readwrite').then((transaction) => transaction.objectStore(ROTATIONS).clear()).catch(() => null);
}

// true: retry with the stored access token; false: the session is over; 'unreachable': the
// refresh got no usable answer (network, 502/503 during a rollout): the session is kept.
async function refreshOnce(staleAccessToken) {
  const current = session.load();
  if (!current || !current.refresh_token) return false;
  const rotated = await rotationOf(current.refresh_token);
  if (rotated) {
    // another tab refreshed meanwhile, and this tab's localStorage has not caught up yet
    session.save({ ...current, access_token: rotated.access_token, refresh_token: rotated.refresh_token });
    return true;
  }
  if (current.access_token !== staleAccessToken) return true; // another tab refreshed meanwhile
  let response;
  try {
    response = await fetchOrFail(buildUrl('/accounts/auth/refresh'), {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: current.refresh_token }),
    });
  } catch {
    return 'unreachable';
  }
  if (response.status === 401) {
    const problem = await problemOf(response);
    // a refresh that lost a race (the fallback without Web Locks) may still find another tab's tokens
    const now = session.load();
    if (now && now.access_token !== staleAccessToken && problem.code !== 'refresh_token_reused') return true;
    endSession(current, /revoked|reused/.test(problem.code || '') ? '登录已失效，请重新登录' : '登录已超时，请重新登录');
    return false;
  }
  if (!response.ok) return 'unreachable';
  const tokens = await response.json();
  await recordRotation(current.refresh_token, tokens); // before the lock goes to another tab
  session.save({ ...(session.load() || current), access_token: tokens.access_token, refresh_token: tokens.refresh_token });
  return true;
}

function refreshTokens(staleAccessToken) {
  if (!refreshing) {
    const run = () => refreshOnce(staleAccessToken);
    const locked = typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request
      ? navigator.locks.request('qx-refresh', run) // not in an insecure context (plain http on a LAN address)
      : run();
    refreshing = locked.finally(() => { setTimeout(() => { refreshing = null; }, 0); });
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
  const response = await fetchOrFail(buildUrl(path, query), { method, headers, body }, form !== undefined ? UPLOAD_TIMEOUT_MS : REQUEST_TIMEOUT_MS);
  if (response.status === 401 && retry && current && current.refresh_token && !path.startsWith('/accounts/auth/')) {
    const refreshed = await refreshTokens(current.access_token);
    if (refreshed === true) return send(method, path, { json, form, query, retry: false });
    if (refreshed === 'unreachable') {
      // the login may well be fine: do not tell the user it expired
      throw new ApiError(0, { code: 'refresh_unavailable', detail: UNREACHABLE_DETAIL });
    }
    const ended = new ApiError(401, await problemOf(response));
    ended.sessionEnded = true;
    throw ended;
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

// A file download with the token: fetched as a blob, then saved through a temporary link. With
// { post: true } the filters go in a JSON body, never in the address (which servers log).
export async function download(path, query, fallbackName, { post = false } = {}) {
  const response = post ? await send('POST', path, { json: query }) : await send('GET', path, { query });
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
  session.clear(); // the other tabs see it (storage event) and go to the login page too
}
