// 账号管理 (表1, 图4): a province manages its school accounts and their three module permissions, and
// oversees the units of its province (a new password, stopping an account);
// a school its department accounts (never above its own permissions, nor above the school's highest).
import { get, getAll, post, put } from '../api.js';
import { schoolOf } from '../context.js';
import { act, askValue, badge, field, formValues, h, input, pageTitle, pager, refresh, section, select, table, withoutBlanks } from '../ui.js';

const MODULES = [['employment', '基本信息和就业信息'], ['archive', '档案信息'], ['hukou', '户口信息']];
const ACCESS = [['write', '读写'], ['read', '只读'], ['none', '无权限']];

function permissionEditor(account, base, reload) {
  const selects = MODULES.map(([module, label]) => field(label, select(module, ACCESS, account.permissions[module])));
  const save = h('button', { type: 'button', class: 'small primary', dataset: { save: account.username } }, '保存权限');
  const form = h('form', { class: 'inline-permissions', dataset: { account: account.username } }, selects, save);
  save.addEventListener('click', () => act(save, () => put(`/accounts/${base}/${account.id}/permissions`, formValues(form)),
    base === 'school-accounts'
      ? `已保存 ${account.username} 的模块权限（该账号需重新登录；该校院系账号高于学校的权限随之降低）`
      : `已保存 ${account.username} 的模块权限（该账号需重新登录）`).then((r) => r && refresh(reload)));
  return form;
}

// 修改账号信息: the name shown, a new password for a holder who forgot it (its sessions end), and
// disabling or enabling the account again.
function accountActions(account, base, reload) {
  const path = `/accounts/${base}/${account.id}`;
  const rename = h('button', { type: 'button', class: 'small', dataset: { rename: account.username } }, '修改名称');
  // sent from inside the dialog: a refused name stays typed there with the reason
  rename.addEventListener('click', () => act(rename, () => askValue(`修改 ${account.username} 的名称`, '名称', {
    value: account.display_name, maxlength: 100, send: (name) => put(path, { display_name: name }),
  }), `已修改 ${account.username} 的名称`).then((r) => r && refresh(reload)));
  const reset = h('button', { type: 'button', class: 'small', dataset: { reset: account.username } }, '重置密码');
  reset.addEventListener('click', () => act(reset, () => askValue(`为 ${account.username} 设置新密码`, '新密码（至少 8 位，含字母和数字）', {
    type: 'password', send: (password) => post(`${path}/password`, { new_password: password }),
  }), `已重置 ${account.username} 的密码，原登录已失效`));
  const toggle = h('button', { type: 'button', class: 'small', dataset: { toggle: account.username } }, account.disabled ? '启用' : '停用');
  toggle.addEventListener('click', () => act(toggle, () => post(`${path}/${account.disabled ? 'enable' : 'disable'}`),
    `${account.username} 已${account.disabled ? '启用' : '停用'}`).then((r) => r && refresh(reload)));
  return h('div', { class: 'account-actions' }, rename, reset, toggle);
}

async function renderList(view, { base, filters, createForm, title }) {
  let page = 1;
  const holder = h('div');
  const reload = async () => {
    const data = await get(`/accounts/${base}`, { ...filters, page, page_size: 20 });
    holder.replaceChildren(table([
      { label: '用户名', value: (a) => a.username },
      { label: '名称', value: (a) => a.display_name },
      { label: base === 'school-accounts' ? '院校' : '院系', value: (a) => (base === 'school-accounts' ? `${a.school_name}（${a.school_code}）` : a.department_name) },
      { label: '状态', value: (a) => badge(a.status_label, a.disabled ? 'disabled' : 'enabled') },
      { label: '模块管理权限', value: (a) => permissionEditor(a, base, reload) },
      { label: '账号信息', value: (a) => accountActions(a, base, reload) },
    ], data.items), pager(data, (p) => { page = p; refresh(reload); }));
  };
  // a province has a hundred schools and more: search by username, name or school code, or status
  const search = h('form', { class: 'filters', id: `${base}-search` },
    input('q', { placeholder: base === 'school-accounts' ? '用户名、名称或学校代码' : '用户名或名称', 'aria-label': base === 'school-accounts' ? '查询：用户名、名称或学校代码' : '查询：用户名或名称' }),
    select('status', [['active', '正常'], ['disabled', '已停用']], '', { blank: '全部状态' }),
    h('button', { type: 'submit', class: 'primary' }, '查询'));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const { q, status } = formValues(search);
    const code = base === 'school-accounts' && /^\d{5}$/.test(q) ? q : null;  // a 学校代码
    Object.assign(filters, { q: code ? undefined : q || undefined, school: code || filters.school, status: status || undefined });
    if (!code && base === 'school-accounts') delete filters.school;
    page = 1;
    refresh(reload);
  });
  await reload();
  view.append(section(title, search, holder), createForm(reload));
}

function createAccountForm(kind, options, reload) {
  const place = kind === 'school'
    ? field('学校', select('school_code', options))
    : field('院系', select('department_id', options));
  const form = h('form', { class: 'grid-form', id: `create-${kind}-account` },
    field('用户名', input('username', { required: true })),
    field('名称', input('display_name', { required: true })),
    field('初始密码', input('password', { type: 'password', required: true, autocomplete: 'new-password' })),
    place,
    MODULES.map(([module, label]) => field(label, select(module, ACCESS, module === 'employment' ? 'write' : 'none'))),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '新增账号')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = formValues(form);
    const permissions = Object.fromEntries(MODULES.map(([m]) => [m, values[m]]));
    MODULES.forEach(([m]) => delete values[m]);
    act(form.querySelector('button'), () => post(`/accounts/${kind}-accounts`, { ...withoutBlanks(values), permissions }),
      (a) => `已新增账号 ${a.username}`).then((created) => { if (created) { form.reset(); refresh(reload); } });
  });
  return section(kind === 'school' ? '新增学校账号' : '新增院系账号', form);
}

// 用人单位账号: a unit that forgot its password, or whose credit code someone else registered first,
// proves itself to the province (its business licence); the province sets a new password to hand over
// (the account's sessions end) or stops the account.
async function employerSection(view) {
  let page = 1;
  const filters = {};
  const holder = h('div');
  const actions = (unit) => {
    const path = `/accounts/employer-accounts/${unit.employer_id}`;
    const reset = h('button', { type: 'button', class: 'small', dataset: { resetUnit: unit.credit_code } }, '重置密码');
    reset.addEventListener('click', () => act(reset, () => askValue(`为 ${unit.name}（${unit.username}）设置新密码`, '新密码（至少 8 位，含字母和数字；核验营业执照后交给单位）', {
      type: 'password', send: (password) => post(`${path}/password`, { new_password: password }),
    }), `已重置 ${unit.name} 的密码，原登录已失效`));
    const disabled = unit.status === 'disabled';
    const toggle = h('button', { type: 'button', class: 'small', dataset: { toggleUnit: unit.credit_code } }, disabled ? '启用' : '停用');
    toggle.addEventListener('click', () => act(toggle, () => post(`${path}/${disabled ? 'enable' : 'disable'}`),
      `${unit.name} 的账号已${disabled ? '启用' : '停用'}`).then((r) => r && refresh(reload)));
    return h('div', { class: 'account-actions' }, reset, toggle);
  };
  const reload = async () => {
    const data = await get('/accounts/employer-accounts', { ...filters, page, page_size: 20 });
    holder.replaceChildren(table([
      { label: '单位名称', value: (u) => u.name },
      { label: '统一社会信用代码', value: (u) => u.credit_code },
      { label: '用户名', value: (u) => u.username },
      { label: '联系人', value: (u) => `${u.contact_name} ${u.contact_phone}` },
      { label: '状态', value: (u) => badge(u.stopped_by_label ? `${u.status_label}（${u.stopped_by_label}）` : u.status_label, u.status === 'disabled' ? 'disabled' : 'enabled') },
      { label: '账号', value: actions },
    ], data.items, { class: 'employer-accounts', empty: '没有用人单位' }), pager(data, (p) => { page = p; refresh(reload); }));
  };
  const search = h('form', { class: 'filters', id: 'employer-accounts-search' },
    input('q', { placeholder: '单位名称、信用代码或用户名', 'aria-label': '查询：单位名称、信用代码或用户名' }), h('button', { type: 'submit', class: 'primary' }, '查询'));
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    filters.q = formValues(search).q || undefined;
    page = 1;
    refresh(reload);
  });
  await reload();
  view.append(section('用人单位账号', h('p', { class: 'hint' },
    '本省（单位所在地）注册的用人单位。单位忘记密码或信用代码被他人抢先注册时，核验其营业执照后重置密码交给单位，或停用账号。'), search, holder));
}

export async function render(view, { me }) {
  if (me.role === 'province') {
    view.append(pageTitle('账号管理'), h('p', { class: 'hint' },
      '“读写”权限包括新增、删除、修改、查看、审核、下载等；“只读”只能查看、下载；“无权限”无法进入对应模块。'));
    const schools = await getAll('/accounts/schools');
    const options = schools.map((s) => [s.code, `${s.name}（${s.code}）`]);
    await renderList(view, { base: 'school-accounts', filters: {}, title: '学校账号', createForm: (reload) => createAccountForm('school', options, reload) });
    await employerSection(view);
  } else {
    view.append(pageTitle('账号管理'), h('p', { class: 'hint' }, '院系账号的权限不能高于本校账号自己的权限。'));
    const departments = await get(`/accounts/schools/${schoolOf(me)}/departments`);
    const options = departments.items.map((d) => [d.id, `${d.name}（${d.code}）`]);
    await renderList(view, { base: 'department-accounts', filters: {}, title: '院系账号', createForm: (reload) => createAccountForm('department', options, reload) });
  }
}
