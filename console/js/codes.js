// The code tables (console/data/codes.json, a copy of the platform's reference tables kept in
// step by tests/browser/test_console_codes.py), loaded once at start.
let tables = null;

export async function loadCodes() {
  if (!tables) {
    const response = await fetch('/data/codes.json');
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
