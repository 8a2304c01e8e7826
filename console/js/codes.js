// The code tables (console/data/codes.json, a copy of the platform's reference tables kept in
// step by tests/browser/test_console_codes.py), loaded once at start.
import { ApiError, NETWORK_DETAIL } from './api.js';

let tables = null;

// Only a success is kept: after a failure the next screen asks again (app.js renders a 重新加载).
export async function loadCodes() {
  if (!tables) {
    let response;
    try {
      response = await fetch('/data/codes.json', { signal: AbortSignal.timeout ? AbortSignal.timeout(60000) : undefined });
    } catch {
      throw new ApiError(0, { code: 'network_error', detail: NETWORK_DETAIL });
    }
    if (!response.ok) throw new ApiError(response.status, { code: 'codes_unavailable', detail: `代码表未能加载（HTTP ${response.status}），请刷新页面后重试` });
    tables = await response.json();
  }
  return tables;
}

export function codes() {
  const t = tables || {};
  return {
    ...t,
    label(table, code) {
      const row = (t[table] || []).find((r) => (Array.isArray(r) ? r[0] : r.code) === code);
      return row ? (Array.isArray(row) ? row[1] : row.name) : (code || '--');
    },
  };
}
