// 账号管理 (表1, 图4): a province manages its school accounts and their three module permissions;
// a school its department accounts (never above its own permissions, nor above the school's highest).
import { get, getAll, post, put } from '../api.js';
import { schoolOf } from '../context.js';
import { act, badge, field, formValues, h, input, pageTitle, pager, section, select, table, withoutBlanks } from '../ui.js';

const MODULES = [['employment', '基本信息和就业信息'], ['archive', '档案信息'], ['hukou', '户口信息']];
const ACCESS = [['write', '读写'], ['read', '只读'], ['none', '无权限']];

function permissionEditor(account, base, reload) {
  const selects = MODULES.map(([module, label]) => field(label, select(module, ACCESS, account.permissions[module])));
  const save = h('button', { type: 'button', class: 'small primary', dataset: { save: account.username } }, '保存权限');
  const form = h('form', { class: 'inline-permissions', dataset: { account: account.username } }, selects, save);
  save.addEventListener('click', () => act(save, () => put(`/accounts/${base}/${account.id}/permissions`, formValues(form)),
    base === 'school-accounts'
      ? `已保存 ${account.username} 的模块权限（该账号需重新登录；该校院系账号高于学校的权限随之降低）`
      : `已保存 ${account.username} 的模块权限（该账号需重新登录）`).then(reload));
  return form;
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
    ], data.items), pager(data, (p) => { page = p; reload(); }));
  };
  await reload();
  view.append(section(title, holder), createForm(reload));
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
      (a) => `已新增账号 ${a.username}`).then((created) => { if (created) { form.reset(); reload(); } });
  });
  return section(kind === 'school' ? '新增学校账号' : '新增院系账号', form);
}

export async function render(view, { me }) {
  if (me.role === 'province') {
    view.append(pageTitle('账号管理'), h('p', { class: 'hint' },
      '“读写”权限包括新增、删除、修改、查看、审核、下载等；“只读”只能查看、下载；“无权限”无法进入对应模块。'));
    const schools = await getAll('/accounts/schools');
    const options = schools.map((s) => [s.code, `${s.name}（${s.code}）`]);
    await renderList(view, { base: 'school-accounts', filters: {}, title: '学校账号', createForm: (reload) => createAccountForm('school', options, reload) });
  } else {
    view.append(pageTitle('账号管理'), h('p', { class: 'hint' }, '院系账号的权限不能高于本校账号自己的权限。'));
    const departments = await get(`/accounts/schools/${schoolOf(me)}/departments`);
    const options = departments.items.map((d) => [d.id, `${d.name}（${d.code}）`]);
    await renderList(view, { base: 'department-accounts', filters: {}, title: '院系账号', createForm: (reload) => createAccountForm('department', options, reload) });
  }
}
