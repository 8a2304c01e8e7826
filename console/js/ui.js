// Shared rendering helpers: element building, tables, forms, messages, dialogs.
import { ApiError } from './api.js';
import { codes } from './codes.js';

export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2).toLowerCase(), value);
    // the default too, so that a form's reset() comes back to it rather than to blank
    else if (key === 'value' && 'value' in node) { node.value = value; if ('defaultValue' in node) node.defaultValue = value; }
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export const dash = (value) => (value === undefined || value === null || value === '' ? '--' : value);

export function fmtTime(iso) {
  if (!iso) return '--';
  const date = new Date(iso.endsWith('Z') || /[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return iso;
  // China's clock wherever the browser is (a graduate abroad sees the deadline the school means)
  return date.toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
}

export const percent = (rate) => `${(100 * (rate || 0)).toFixed(1)}%`;

// --- messages ----------------------------------------------------------------------------------

export function flash(kind, message, detail) {
  const area = document.getElementById('flash');
  if (!area) return;
  area.replaceChildren(h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('span', { class: 'notice-text' }, message), detail || null,
    h('button', { class: 'notice-close', type: 'button', 'aria-label': '关闭', onclick: () => area.replaceChildren() }, '×')));
  area.scrollIntoView({ block: 'nearest' });
}

export const success = (message) => flash('success', message);

// A message for the next screen (the layout, and its message area, is rebuilt on navigation).
let pending = null;
export function flashNext(kind, message) { pending = [kind, message]; }
export function showPending() {
  if (pending) flash(...pending);
  pending = null;
}

function flattenErrors(errors, prefix = '') {
  const lines = [];
  for (const [key, value] of Object.entries(errors || {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) lines.push([name, value.join('；')]);
    else if (value && typeof value === 'object') lines.push(...flattenErrors(value, name));
    else lines.push([name, String(value)]);
  }
  return lines;
}

// The input of the current screen a field error names (by its whole path, else its last segment).
function inputFor(name) {
  const view = document.getElementById('view');
  if (!view) return null;
  const last = name.split('.').pop();
  return view.querySelector(`[name="${CSS.escape(name)}"]`) || view.querySelector(`[name="${CSS.escape(last)}"]`);
}

// A field the screen has no input for (proofs, a nested term) by the labels the platform publishes.
const OTHER_LABELS = { proofs: '证明材料', file: '文件', unit: '单位信息', terms: '岗位与条款', signed_on: '签约日期' };
function fieldLabel(name) {
  const labels = { ...OTHER_LABELS, ...(codes().destination_field_labels || {}) };
  const last = name.split('.').pop();
  return labels[name] || labels[last] || name;
}

function labelOf(input, name) {
  const label = input && input.closest('.field') && input.closest('.field').querySelector('.field-label');
  return label ? label.textContent : fieldLabel(name);
}

// Marks the inputs the API named, with the reason under each, until the next message.
function markFields(fields) {
  for (const node of document.querySelectorAll('#view .invalid')) node.classList.remove('invalid');
  for (const node of document.querySelectorAll('#view .field-error')) node.remove();
  for (const [name, reason] of fields) {
    const input = inputFor(name);
    if (!input) continue;
    input.classList.add('invalid');
    input.after(h('small', { class: 'field-error' }, reason));
  }
}

export function errorDetail(error) {
  if (!(error instanceof ApiError)) return null;
  const parts = [];
  const fields = flattenErrors(error.errors);
  markFields(fields);
  if (fields.length) {
    parts.push(h('ul', { class: 'field-errors' }, fields.map(([name, reason]) =>
      h('li', { dataset: { field: name } }, labelOf(inputFor(name), name), '：', reason))));
  }
  if (error.rowErrors && error.rowErrors.length) {
    parts.push(table([
      { label: '行号', value: (r) => r.row },
      { label: '列', value: (r) => dash(r.column) },
      { label: '错误原因', value: (r) => r.reason },
    ], error.rowErrors, { class: 'row-errors' }));
  }
  return parts.length ? h('div', { class: 'error-detail' }, parts) : null;
}

export function reportError(error) {
  if (!(error instanceof ApiError)) console.error(error); // eslint-disable-line no-console
  // the API's code stays on the message (data-code) for support, out of the user's sentence
  const message = error instanceof ApiError ? error.message : `出错了：${error.message || error}`;
  flash('error', message, errorDetail(error));
  const text = document.querySelector('#flash .notice-text');
  if (text && error instanceof ApiError && error.code) text.dataset.code = error.code;
}

// Runs an action from a button: disabled while it runs, success or the API's error shown.
export async function act(button, run, done) {
  if (button) button.disabled = true;
  try {
    const result = await run();
    // null: the user cancelled a dialog, nothing was sent.
    if (done && result !== null) flash('success', typeof done === 'function' ? done(result) : done);
    return result;
  } catch (error) {
    reportError(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// --- tables and pages --------------------------------------------------------------------------

export function table(columns, rows, { empty = '暂无数据', class: className = '' } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)));
  const body = rows.length
    ? rows.map((row) => h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label }, c.value(row)))))
    : [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))];
  return h('div', { class: 'table-wrap' }, h('table', { class: `data ${className}` }, h('thead', {}, head), h('tbody', {}, body)));
}

export function pager(page, onPage) {
  const pages = page.pages || 1;
  return h('div', { class: 'pager' },
    h('span', {}, `共 ${page.total} 条，第 ${page.page}/${pages} 页`),
    h('button', { type: 'button', class: 'small', disabled: page.page <= 1, onclick: () => onPage(page.page - 1) }, '上一页'),
    h('button', { type: 'button', class: 'small', disabled: page.page >= pages, onclick: () => onPage(page.page + 1) }, '下一页'));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, children);
}

export function pageTitle(title, ...extra) {
  return h('div', { class: 'page-title' }, h('h1', {}, title), extra);
}

export function definitionList(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([label, value]) => [h('dt', {}, label), h('dd', {}, dash(value))]));
}

export function badge(text, status) {
  const tone = /approved|enabled|completed|synced|confirmed|write/.test(status || '') ? 'ok'
    : /reject|declined|expired|failed|voided|terminated|none|withdrawn|flagged/.test(status || '') ? 'bad' : 'wait';
  return h('span', { class: `badge badge-${tone}`, dataset: { status: status || '' } }, dash(text));
}

// --- forms -------------------------------------------------------------------------------------

export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'field-label' }, label), control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function input(name, props = {}) {
  return h('input', { name, type: 'text', ...props });
}

export function select(name, options, value, { blank } = {}) {
  const choices = blank !== undefined ? [['', blank], ...options] : options;
  // `selected` as an attribute, so that a form's reset() comes back to it
  return h('select', { name }, choices.map(([code, label]) =>
    h('option', { value: code, selected: value !== undefined && value !== null && String(code) === String(value) }, label)));
}

export function formValues(form) {
  const values = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === 'checkbox') values[element.name] = element.checked;
    else if (element.type === 'file') values[element.name] = element.files[0] || null;
    else if (element.type === 'number') values[element.name] = element.value === '' ? null : Number(element.value);
    else values[element.name] = element.value.trim();
  }
  return values;
}

export function withoutBlanks(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '' && v !== null && v !== undefined));
}

// --- dialogs -----------------------------------------------------------------------------------

function dialog(title, body, buttons) {
  return new Promise((resolve) => {
    const close = (value) => { overlay.remove(); resolve(value); };
    const overlay = h('div', { class: 'overlay', role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
      h('div', { class: 'dialog' }, h('h2', {}, title), body,
        h('div', { class: 'dialog-buttons' }, buttons.map(([label, value, cls]) =>
          h('button', { type: 'button', class: cls || '', dataset: { answer: String(value !== null) }, onclick: () => close(typeof value === 'function' ? value() : value) }, label)))));
    document.body.append(overlay);
    overlay.querySelector('.primary, .danger')?.focus();
  });
}

export function confirmDialog(title, message, confirmLabel = '确定', { danger = false } = {}) {
  return dialog(title, h('p', { class: 'dialog-message' }, message),
    [['取消', false], [confirmLabel, true, danger ? 'danger' : 'primary']]);
}

// One value typed into a dialog (a new name, a new password): its text, or null when cancelled.
export function askValue(title, label, { type = 'text', value = '' } = {}) {
  const control = input('value', { type, value, autocomplete: type === 'password' ? 'new-password' : 'off' });
  return dialog(title, field(label, control), [['取消', null], ['确定', () => control.value.trim(), 'primary']]);
}

export function askReason(title, { required = true } = {}) {
  const area = h('textarea', { name: 'reason', rows: 3, placeholder: required ? '请填写原因（必填）' : '原因（选填）' });
  return dialog(title, field('原因', area), [['取消', null], ['确定', () => area.value.trim(), 'primary']]);
}
