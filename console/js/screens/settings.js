// 功能设置 (图5). A province switches each module on (for good) and sets each school's agreement
// type; a school with read-write permission completes its settings for each module.
import { get, getAll, post, put } from '../api.js';
import { canRead, canWrite, provinceOf, schoolOf } from '../context.js';
import { act, badge, confirmDialog, field, fmtTime, formValues, h, input, pageTitle, redraw, refresh, section, select, table } from '../ui.js';

const AGREEMENT_TYPES = [['three_party', '三方协议'], ['two_party', '两方协议']];

export async function render(view, { me }) {
  view.append(pageTitle('功能设置'));
  if (me.role === 'province') await renderProvince(view, provinceOf(me));
  else await renderSchool(view, me);
}

async function renderProvince(view, province) {
  const modulesHolder = h('div');
  const schoolsHolder = h('div');
  const reload = async () => {
    const [modules, schools] = await Promise.all([
      get(`/accounts/provinces/${province}/modules`),
      getAll(`/accounts/provinces/${province}/school-settings`),
    ]);
    modulesHolder.replaceChildren(table([
      { label: '模块', value: (m) => m.label },
      { label: '状态', value: (m) => badge(m.status_label, m.enabled ? 'enabled' : 'none') },
      { label: '开启时间', value: (m) => fmtTime(m.enabled_at) },
      { label: '操作', value: (m) => (m.enabled ? h('span', { class: 'muted' }, '已开启，不可关闭') : enableControl(province, m, reload)) },
    ], modules.modules, { class: 'modules' }));
    schoolsHolder.replaceChildren(table([
      { label: '院校', value: (s) => `${s.school_name}（${s.school_code}）` },
      { label: '电子就业协议书类型', value: (s) => agreementTypeControl(s, reload) },
      ...['employment', 'archive', 'hukou'].map((module, i) => ({
        label: ['网签设置', '档案登记设置', '户口登记设置'][i],
        value: (s) => { const m = s.modules.find((x) => x.module === module); return badge(m.status_label, m.completed ? 'completed' : m.enabled ? 'pending' : 'none'); },
      })),
    ], schools, { class: 'school-settings' }));
  };
  await reload();
  view.append(
    section('模块开启', h('p', { class: 'hint' }, '毕业去向登记与网签、档案信息登记、户口信息登记三者分开开启。注意：一旦开启，不可再关闭。'), modulesHolder),
    section('各高校协议类型与设置情况', h('p', { class: 'hint' }, '两方协议（甲方用人单位、乙方毕业生）需院校鉴证；三方协议（甲方、乙方、丙方学校）需院校审核。'), schoolsHolder));
}

function enableControl(province, module, reload) {
  const kind = module.module === 'employment' ? select('agreement_type', AGREEMENT_TYPES, 'three_party') : null;
  const button = h('button', { type: 'button', class: 'primary small', dataset: { enable: module.module } }, '开启');
  button.addEventListener('click', async () => {
    const sure = await confirmDialog('开启模块', `确定开启“${module.label}”吗？一旦开启，不可再关闭。`, '确定开启', { danger: true });
    if (!sure) return;
    const body = kind ? { agreement_type: kind.value } : {};
    if (await act(button, () => post(`/accounts/provinces/${province}/modules/${module.module}/enable`, body), `已开启“${module.label}”`)) await refresh(reload);
  });
  return h('span', { class: 'inline' }, kind ? field('默认协议类型', kind) : null, button);
}

function agreementTypeControl(school, reload) {
  const choice = select('agreement_type', AGREEMENT_TYPES, school.agreement_type, { blank: '未设置', label: `${school.school_name || school.school_code} 电子就业协议书类型` });
  const save = h('button', { type: 'button', class: 'small', dataset: { agreementType: school.school_code } }, '保存');
  save.addEventListener('click', async () => {
    if (await act(save, () => put(`/accounts/schools/${school.school_code}/agreement-type`, { agreement_type: choice.value }),
      `已将${school.school_name}的协议类型设为${choice.selectedOptions[0].textContent}`)) await refresh(reload);
  });
  return h('span', { class: 'inline' }, choice, save);
}

async function renderSchool(view, me) {
  const school = schoolOf(me);
  if (canRead(me, 'employment')) {
    const signing = await get(`/signing/schools/${school}/settings`);
    const form = h('form', { class: 'grid-form', id: 'signing-settings' },
      field('院系审核', h('span', {}, h('input', { type: 'checkbox', name: 'department_review', checked: signing.department_review !== false }), ' 签约须先经院系审核')),
      field('签约须知', h('textarea', { name: 'notice', rows: 2 }, signing.notice || '')),
      canWrite(me, 'employment') ? h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '保存网签设置')) : null);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = formValues(form);
      act(form.querySelector('button'), () => put(`/signing/schools/${school}/settings`, { department_review: values.department_review, notice: values.notice || null }),
        '网签设置已保存').then((saved) => saved && rerender(view, me));
    });
    view.append(section('毕业去向登记与网签设置',
      h('p', {}, '协议类型：', h('strong', {}, signing.agreement_type_label || '未设置'), '　状态：',
        badge(signing.completed ? '已完成设置' : (signing.reason || '未完成'), signing.completed ? 'completed' : 'pending')),
      fieldset(form, !canWrite(me, 'employment'))));
  }
  for (const [module, title] of [['archive', '档案信息登记设置'], ['hukou', '户口信息登记设置']]) {
    if (!canRead(me, module)) continue;
    const settings = await get(`/records/schools/${school}/settings/${module}`);
    const form = h('form', { class: 'grid-form', id: `${module}-settings` },
      field('院系审核', h('span', {}, h('input', { type: 'checkbox', name: 'department_review', checked: settings.department_review !== false }), ' 登记须先经院系审核')),
      field('登记截止日期', input('deadline', { type: 'date', value: settings.deadline || '', min: chinaToday(), max: `${Number(chinaToday().slice(0, 4)) + 1}-12-31`, required: true })),
      field('登记须知', h('textarea', { name: 'notice', rows: 2 }, settings.notice || '')),
      canWrite(me, module) ? h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '保存设置')) : null);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values = formValues(form);
      act(form.querySelector('button'), () => put(`/records/schools/${school}/settings/${module}`,
        { department_review: values.department_review, deadline: values.deadline, notice: values.notice || null }), `${title}已保存`)
        .then((saved) => saved && rerender(view, me));
    });
    view.append(section(title,
      h('p', {}, '状态：', badge(settings.completed ? '已完成设置' : (settings.reason || '未完成'), settings.completed ? 'completed' : settings.enabled ? 'pending' : 'none')),
      fieldset(form, !canWrite(me, module) || !settings.enabled)));
  }
}

function rerender(view, me) {
  return redraw(view, (fresh) => render(fresh, { me }));
}

function fieldset(form, readOnly) {
  if (readOnly) for (const element of form.elements) element.disabled = true;
  return form;
}

// Today in China (YYYY-MM-DD), whatever the browser's zone: the API refuses a deadline before it.
function chinaToday() {
  return new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
}
