// Shared rendering helpers: element building, tables, forms, messages, dialogs.
import { ApiError } from './api.js';
import { codes } from './codes.js';

// A message the console itself gives the user (a file not chosen, too large): shown as it is,
// unlike a script error, whose English text means nothing to a user.
export class UserError extends Error {}

export const SCRIPT_ERROR_MESSAGE = '页面出错，请刷新页面后重试';
const VALIDATION_TOP_LINE = '提交的内容有误，请按标出的提示修改';

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

// Where an action's field errors belong: the form (or dialog, or card) of the button that acted, so
// that two forms with a field of one name (a screen's 用户名 and another's) are not confused.
export function scopeOf(button) {
  const view = document.getElementById('view');
  const scope = button && button.closest && button.closest('form, .dialog, section, article, .card');
  return scope || view;
}

// The input a field error names within the scope (by its whole path, else its last segment).
function inputFor(name, scope) {
  if (!scope || name.startsWith('_')) return null;
  const last = name.split('.').pop();
  return scope.querySelector(`[name="${CSS.escape(name)}"]`) || scope.querySelector(`[name="${CSS.escape(last)}"]`);
}

// A field the screen has no input for (proofs, a nested term, a value typed into a dialog) by the
// labels the platform publishes: the names the console's forms and dialogs send.
const OTHER_LABELS = {
  proofs: '证明材料', file: '文件', unit: '单位信息', terms: '岗位与条款', signed_on: '签约日期',
  reason: '原因', new_password: '新密码', password: '密码', current_password: '当前密码', display_name: '名称',
  agreement_type: '协议类型', deadline: '登记截止日期', notice: '须知', note: '说明', department_review: '院系审核',
  response_days: '应约有效期（天）', exam_number: '考生号', activation_code: '激活码', username: '用户名',
};
function fieldLabel(name) {
  const labels = { ...OTHER_LABELS, ...(codes().destination_field_labels || {}) };
  const last = name.split('.').pop();
  return labels[name] || labels[last] || name;
}

function labelOf(input, name) {
  const label = input && input.closest('.field') && input.closest('.field').querySelector('.field-label');
  return label ? label.textContent : fieldLabel(name);
}

// The marks of earlier errors go when the user acts again or corrects the field.
export function clearMarks(root = document) {
  for (const node of root.querySelectorAll('.invalid')) unmarkInput(node);
  for (const node of root.querySelectorAll('.field-error')) node.remove();
}

function unmarkInput(input) {
  input.classList.remove('invalid');
  input.removeAttribute('aria-invalid');
  const hint = input.closest('.field')?.querySelector(':scope > .hint');
  if (hint) input.setAttribute('aria-describedby', hint.id);
  else input.removeAttribute('aria-describedby');
}

function unmark(event) {
  const target = event.target;
  if (!target || !target.classList || !target.classList.contains('invalid')) return;
  unmarkInput(target);
  const next = target.nextElementSibling;
  if (next && next.classList.contains('field-error')) next.remove();
}
document.addEventListener('input', unmark, true);
document.addEventListener('change', unmark, true);

// Marks the inputs the API named within the scope, with the reason under each (read out with the
// field, which is marked invalid), and takes the user to the first of them.
let errorCount = 0;
function markFields(fields, scope) {
  clearMarks(scope || document);
  let first = null;
  for (const [name, reason] of fields) {
    const input = inputFor(name, scope);
    if (!input) continue;
    errorCount += 1;
    const id = `field-error-${errorCount}`;
    input.classList.add('invalid');
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    input.after(h('small', { class: 'field-error', id }, reason));
    first = first || input;
  }
  if (first && typeof first.focus === 'function') first.focus({ preventScroll: false });
}

export function errorDetail(error, scope = document.getElementById('view')) {
  if (!(error instanceof ApiError)) return null;
  const parts = [];
  const fields = flattenErrors(error.errors);
  markFields(fields, scope);
  if (fields.length) {
    // _schema, _body: about the request as a whole, no field to name
    parts.push(h('ul', { class: 'field-errors' }, fields.map(([name, reason]) =>
      h('li', { dataset: { field: name } }, name.startsWith('_') ? reason : [labelOf(inputFor(name, scope), name), '：', reason]))));
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

// The sentence a user reads for an error: the API's, with the request id of a server failure (what
// support needs), a general line over field errors, and never a script's English.
export function errorMessage(error) {
  if (error instanceof UserError) return error.message;
  if (!(error instanceof ApiError)) return SCRIPT_ERROR_MESSAGE;
  let message = error.code === 'validation_error' && error.errors ? VALIDATION_TOP_LINE : error.message;
  if (error.status >= 500 && error.requestId) message += `（错误编号：${error.requestId}）`;
  return message;
}

export function reportError(error, scope) {
  // the login is over: the login page says so (a message here would land on it)
  if (error instanceof ApiError && error.sessionEnded) return;
  if (!(error instanceof ApiError) && !(error instanceof UserError)) console.error(error); // eslint-disable-line no-console
  flash('error', errorMessage(error), errorDetail(error, scope || document.getElementById('view')));
  // the API's code stays on the message (data-code) for support, out of the user's sentence
  const text = document.querySelector('#flash .notice-text');
  if (text && error instanceof ApiError && error.code) text.dataset.code = error.code;
}

// Loads data again (after an action, a page change): a failure is shown instead of lost in a
// promise nobody waits for, and what is on the screen stays until the new data has arrived.
export async function refresh(reload) {
  try {
    await reload();
    return true;
  } catch (error) {
    reportError(error);
    return false;
  }
}

// Draws a whole screen again: into a copy of the view first, swapped in once drawn, so that a
// failed load keeps the old screen (and the user where it was) with the error above it.
export function redraw(view, draw) {
  return refresh(async () => {
    const fresh = view.cloneNode(false);
    await draw(fresh);
    view.replaceWith(fresh);
  });
}

// Runs an action from a button: disabled while it runs, success or the API's error shown (field
// errors marked in the button's own form).
export async function act(button, run, done) {
  if (button) button.disabled = true;
  const view = document.getElementById('view');
  if (view) clearMarks(view);
  try {
    const result = await run();
    // null: the user cancelled a dialog, nothing was sent.
    if (done && result !== null) flash('success', typeof done === 'function' ? done(result) : done);
    return result;
  } catch (error) {
    reportError(error, scopeOf(button));
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      keepFocus(button);
    }
  }
}

// A control disabled while it worked, or drawn again, drops the keyboard's focus to the page: it
// goes back to the control, or to the screen's heading when the control is gone.
export function keepFocus(control) {
  if (document.activeElement && document.activeElement !== document.body) return;
  const target = control && control.isConnected ? control : document.querySelector('#view h1');
  if (target && typeof target.focus === 'function') target.focus({ preventScroll: true });
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
    h('span', { role: 'status' }, `共 ${page.total} 条，第 ${page.page}/${pages} 页`),
    h('button', { type: 'button', class: 'small', disabled: page.page <= 1, onclick: () => onPage(page.page - 1) }, '上一页'),
    h('button', { type: 'button', class: 'small', disabled: page.page >= pages, onclick: () => onPage(page.page + 1) }, '下一页'));
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, children);
}

export function pageTitle(title, ...extra) {
  return h('div', { class: 'page-title' }, h('h1', { tabindex: '-1' }, title), extra);
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

// A labelled control. A required one shows a mark (read out as 必填 from the control's own
// required state); the hint sits outside the label, as the control's description, so that the
// control's name stays its label.
let hintCount = 0;
export function field(label, control, hint) {
  const required = control && control.required;
  let note = null;
  if (hint) {
    hintCount += 1;
    note = h('small', { class: 'hint', id: `field-hint-${hintCount}` }, hint);
    if (control && control.setAttribute) control.setAttribute('aria-describedby', note.id);
  }
  return h('div', { class: 'field' },
    h('label', {}, h('span', {}, h('span', { class: 'field-label' }, label),
      required ? h('span', { class: 'required-mark', 'aria-hidden': 'true' }, ' *') : null), control),
    note);
}

export function input(name, props = {}) {
  return h('input', { name, type: 'text', ...props });
}

// Phone keyboards: digits only for codes made of digits (考生号, 行政区划代码, 邮政编码; not
// type=number, which drops leading zeros and adds a spinner), the phone pad for phone numbers, and
// capitals without autocorrection for codes of letters and digits (激活码, 统一社会信用代码).
export const DIGITS = { inputmode: 'numeric', pattern: '[0-9]*' };
export const PHONE = { type: 'tel' };
export const CODE = { autocapitalize: 'characters', autocorrect: 'off', spellcheck: 'false' };

// label: its name for screen readers where no visible label is around it (a filter bar, a table
// row); a blank choice "全部院校" names it 院校 unless told otherwise.
export function select(name, options, value, { blank, label } = {}) {
  const choices = blank !== undefined ? [['', blank], ...options] : options;
  const named = label || (blank && blank.startsWith('全部') && blank.length > 2 ? blank.slice(2) : null);
  // `selected` as an attribute, so that a form's reset() comes back to it
  return h('select', { name, 'aria-label': named }, choices.map(([code, label]) =>
    h('option', { value: code, selected: value !== undefined && value !== null && String(code) === String(value) }, label)));
}

// The upload limits the services hold to (a file over them is refused only after it was sent):
// checked before sending, so that a user on a slow line does not wait for a refusal.
export const MAX_DOCUMENT_MB = 10; // 证明材料, 签约材料, 解约函
export const MAX_ROSTER_MB = 50;   // 生源文件
// What the signing service takes for a document (PDF, JPEG or PNG, judged by content): the MIME
// types let a phone offer its camera and photos (iOS hands a HEIC photo over as JPEG when JPEG is
// asked for; image/* would let it through as HEIC, which the service refuses), the extensions keep
// a desktop's file picker filtering as before.
export const DOCUMENT_ACCEPT = 'application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png';
export function documentInput(props = {}) {
  return h('input', { type: 'file', name: 'file', accept: DOCUMENT_ACCEPT, ...props });
}
export function checkFileSize(file, limitMb, what) {
  if (file && file.size > limitMb * 1024 * 1024) {
    throw new UserError(`${what}不能超过 ${limitMb} MB（所选文件约 ${(file.size / 1024 / 1024).toFixed(1)} MB），请压缩后重新选择`);
  }
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

// A modal dialog. buttons: [label, value, class]; a value that is a function is called on click and
// its result answers the dialog. With send, the confirm button's value is sent from inside the
// dialog: it stays open (the text typed stays) until the request succeeded, and shows the error in
// itself; a 409 (the record moved on: what was typed no longer applies) or an ended login closes it
// and is thrown to the caller.
// For keyboard and screen-reader users it is modal as it looks: the page behind is inert (Tab stays
// in the dialog), Escape cancels it, the message and the body are its description, and focus goes
// back to what opened it when it closes.
let dialogCount = 0;
function dialog(title, body, buttons, { send, check } = {}) {
  return new Promise((resolve, reject) => {
    dialogCount += 1;
    const ids = { title: `dialog-title-${dialogCount}`, body: `dialog-body-${dialogCount}` };
    const errorArea = h('div', { class: 'dialog-error', role: 'alert' });
    const described = h('div', { id: ids.body }, body);
    const box = h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': ids.title, 'aria-describedby': ids.body },
      h('h2', { id: ids.title }, title), described, errorArea);
    const overlay = h('div', { class: 'overlay' }, box);
    const opener = document.activeElement;
    const behind = [...document.body.children].filter((node) => !node.inert);
    const cancel = buttons.find(([label]) => label === '取消');
    let busy = false;
    const dismiss = () => {
      document.removeEventListener('keydown', onKey, true);
      overlay.remove();
      for (const node of behind) node.inert = false;
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
    };
    const close = (value) => { dismiss(); resolve(value); };
    // on the document while open: a click on the dialog's text leaves focus on the page's body,
    // where a listener on the overlay would never hear Escape
    const onKey = (event) => {
      if (event.key === 'Escape' && cancel && !busy) { event.preventDefault(); close(cancel[1]); return; }
      if (event.key !== 'Tab') return;
      // round the dialog: from its last control to its first (and back with Shift), not off the page
      const stops = [...box.querySelectorAll('input, textarea, select, button, a[href]')].filter((n) => !n.disabled);
      const [first, last] = [stops[0], stops[stops.length - 1]];
      if (!box.contains(document.activeElement)) { event.preventDefault(); (event.shiftKey ? last : first)?.focus(); }
      else if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    };
    document.addEventListener('keydown', onKey, true);
    const showError = (error) => {
      errorArea.replaceChildren(h('div', { class: 'notice notice-error' },
        h('span', { class: 'notice-text', dataset: { code: error instanceof ApiError && error.code ? error.code : '' } }, errorMessage(error)),
        errorDetail(error, box)));
    };
    const answer = async (button, value) => {
      const result = typeof value === 'function' ? value() : value;
      if (result === null || result === false || !send) { close(result); return; }
      const problem = check ? check(result) : null;
      if (problem) { showError(new UserError(problem)); return; }
      errorArea.replaceChildren();
      clearMarks(box);
      busy = true;
      let refocus = null;
      for (const b of box.querySelectorAll('button')) b.disabled = true;
      try {
        const sent = await send(result);
        close(sent === null || sent === undefined ? true : sent); // a 204 is done, not cancelled
      } catch (error) {
        if (error instanceof ApiError && (error.status === 409 || error.sessionEnded)) {
          dismiss();
          reject(error);
          return;
        }
        if (!(error instanceof ApiError) && !(error instanceof UserError)) console.error(error); // eslint-disable-line no-console
        showError(error);
        refocus = box.querySelector('[aria-invalid="true"]') || button;
      } finally {
        busy = false;
        for (const b of box.querySelectorAll('button')) b.disabled = false;
        // after the buttons are enabled again: a disabled button does not take focus
        if (refocus && overlay.isConnected) refocus.focus();
      }
    };
    box.append(h('div', { class: 'dialog-buttons' }, buttons.map(([label, value, cls]) =>
      h('button', { type: 'button', class: cls || '', dataset: { answer: String(value !== null) }, onclick: (event) => answer(event.currentTarget, value) }, label))));
    document.body.append(overlay);
    for (const node of behind) node.inert = true;
    (box.querySelector('input, textarea, select') || box.querySelector('.primary, .danger'))?.focus();
  });
}

// send: see dialog; without it, true or false.
export function confirmDialog(title, message, confirmLabel = '确定', { danger = false, send } = {}) {
  return dialog(title, h('p', { class: 'dialog-message' }, message),
    [['取消', false], [confirmLabel, true, danger ? 'danger' : 'primary']], { send });
}

// One value typed into a dialog (a new name, a new password): its text, or null when cancelled;
// with send, what send answered. An empty value is refused in the dialog itself.
export function askValue(title, label, { type = 'text', value = '', maxlength, empty, send } = {}) {
  const control = input('value', { type, value, maxlength, autocomplete: type === 'password' ? 'new-password' : 'off' });
  const refusal = empty || (type === 'password' ? '请输入新密码' : `请填写${label.replace(/（.*$/, '')}`);
  return dialog(title, field(label, control), [['取消', null], ['确定', () => control.value.trim(), 'primary']],
    { send: send || ((text) => text), check: (text) => (text ? null : refusal) });
}

export function askReason(title, { required = true, maxlength = 500, send } = {}) {
  const area = h('textarea', { name: 'reason', rows: 3, maxlength, placeholder: required ? '请填写原因（必填）' : '原因（选填）' });
  return dialog(title, h('div', {}, field('原因', area), h('small', { class: 'hint' }, `不超过 ${maxlength} 字`)),
    [['取消', null], ['确定', () => area.value.trim(), 'primary']],
    { send: send || ((text) => text), check: (text) => (required && !text ? '请填写原因' : null) });
}
