// The employer's screens: register (a public page), the unit, invite a graduate, follow the
// invitations, download approved agreements and ask for termination.
import { get, getAll, post, put } from '../api.js';
import { CODE, DIGITS, PHONE, act, badge, flashNext, dash, definitionList, field, fmtTime, formValues, h, input, pageTitle, redraw, refresh, section, select, table } from '../ui.js';
import { codes } from '../codes.js';
import { agreementFacts } from './signing_detail.js';
import { historySection, statusLine } from './review.js';
import { partyActions, terminationsOf } from './agreement_actions.js';
import { splitValues, termsFields } from './agreement_form.js';

export async function render(view) {
  const unit = await get('/accounts/employers/me');
  const rerender = () => redraw(view, (fresh) => render(fresh));
  view.append(pageTitle('单位信息'), section(null, definitionList([
    ['单位名称', unit.name], ['统一社会信用代码', unit.credit_code], ['单位性质', unit.nature_label], ['单位行业', unit.industry_label],
    ['单位所在地', unit.region], ['地址', unit.address], ['联系人', unit.contact_name], ['联系电话', unit.contact_phone],
  ]), h('div', { class: 'form-actions' }, h('a', { class: 'button primary', href: '#/employer/invite' }, '发起签约邀请'), h('a', { class: 'button', href: '#/employer/agreements' }, '签约管理'))),
  section('修改单位信息', unitEditor(unit, rerender)));
}

// The unit's own data, the credit code excepted (it is the unit). Agreements already made keep the
// unit as it was; new invitations carry the new data.
function unitEditor(unit, onSaved) {
  const form = h('form', { class: 'grid-form', id: 'employer-edit' },
    field('单位名称', input('name', { required: true, value: unit.name })),
    field('单位性质', select('nature', codes().employer_natures, unit.nature)),
    field('单位行业', select('industry', codes().industries, unit.industry)),
    field('单位所在地（6位行政区划代码）', input('region', { required: true, maxlength: 6, value: unit.region, ...DIGITS })),
    field('地址', input('address', { required: true, value: unit.address })),
    field('联系人', input('contact_name', { required: true, value: unit.contact_name })),
    field('联系电话', input('contact_phone', { required: true, value: unit.contact_phone, ...PHONE })),
    h('p', { class: 'hint' }, '已签订的协议保留签订时的单位信息；此后发出的签约邀请使用修改后的信息。'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '保存单位信息')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), () => put('/accounts/employers/me', formValues(form)), '单位信息已保存').then((r) => r && onSaved());
  });
  return form;
}

export function renderRegister(view) {
  const form = h('form', { class: 'grid-form', id: 'employer-register' },
    field('单位名称', input('name', { required: true })),
    field('统一社会信用代码', input('credit_code', { required: true, maxlength: 18, ...CODE })),
    field('单位性质', select('nature', codes().employer_natures, '', { blank: '请选择' })),
    field('单位行业', select('industry', codes().industries, '', { blank: '请选择' })),
    field('单位所在地（6位行政区划代码）', input('region', { required: true, maxlength: 6, ...DIGITS })),
    field('地址', input('address', { required: true })),
    field('联系人', input('contact_name', { required: true })),
    field('联系电话', input('contact_phone', { required: true, ...PHONE })),
    field('登录用户名', input('username', { required: true, autocomplete: 'username' })),
    field('登录密码', input('password', { type: 'password', required: true, autocomplete: 'new-password' })),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '注册'), h('a', { href: '#/login/employer' }, '返回登录')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    act(form.querySelector('button'), () => post('/accounts/employers', formValues(form))).then((r) => {
      if (!r) return;
      flashNext('success', `注册成功：${r.employer ? r.employer.name : ''}，请使用登录用户名 ${r.username} 登录`);
      window.location.hash = '#/login/employer';
    });
  });
  view.append(h('div', { class: 'card register-card' }, h('h1', {}, '用人单位注册'), form));
}

export async function renderInvite(view) {
  const form = h('form', { class: 'grid-form', id: 'invite-form' },
    field('毕业生考生号', input('exam_number', { required: true, ...DIGITS })),
    field('毕业生姓名', input('name', { required: true })),
    field('应约有效期（天）', input('response_days', { type: 'number', min: 1, max: 30, value: 7 })),
    ...termsFields('terms.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '发送签约邀请')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { exam_number: examNumber, name, response_days: days, terms } = splitValues(formValues(form));
    act(form.querySelector('button'), () => post('/signing/invitations', { exam_number: examNumber, name, response_days: days, terms }),
      (a) => `签约邀请已发出（协议编号 ${a.number}），请在签约管理中跟进`).then((a) => { if (a) form.reset(); });
  });
  view.append(pageTitle('发起签约邀请'), section(null, h('p', { class: 'hint' }, '毕业生须在应约有效期内接受或拒绝；同一毕业生有未结束的邀请时不能再次邀请。'), form));
}

export async function renderAgreements(view, { me, openId }) {
  const list = { items: await getAll('/signing/agreements') };
  const rerender = (id) => redraw(view, (fresh) => renderAgreements(fresh, { me, openId: id }));
  const holder = h('div');
  view.append(pageTitle('签约管理'), section('签约邀请与协议', table([
    { label: '毕业生', value: (a) => a.name },
    { label: '院校', value: (a) => a.school_name },
    { label: '协议编号', value: (a) => dash(a.number) },
    { label: '应约截止', value: (a) => (a.status === 'invited' ? fmtTime(a.respond_by) : '--') },
    { label: '状态', value: (a) => [badge(a.status_label, a.status), terminationBadge(a.open_termination)] },
    { label: '操作', value: (a) => h('button', { type: 'button', class: 'small', dataset: { open: a.id }, onclick: () => refresh(() => openAgreement(a.id)) }, '查看') },
  ], list.items, { class: 'employer-agreements' })), holder);

  async function openAgreement(id) {
    const agreement = await get(`/signing/agreements/${id}`);
    const terminations = agreement.status === 'approved' || agreement.status === 'terminated'
      ? await terminationsOf(me, agreement, () => rerender(id)) : null;
    holder.replaceChildren(h('article', { class: 'card agreement', dataset: { agreement: agreement.id, status: agreement.status } },
      h('h2', {}, `${agreement.graduate?.name} · ${agreement.terms?.job_title || ''}`), statusLine(agreement),
      partyActions(me, agreement, () => rerender(id), { openTermination: Boolean(terminations && terminations.dataset.open) }),
      agreementFacts(agreement), historySection(agreement.history, 'agreement'), terminations));
    holder.scrollIntoView();
  }
  if (openId) await openAgreement(openId);
}

// A termination request still open on the agreement: the graduate's waits for this unit's answer.
function terminationBadge(open) {
  if (!open) return null;
  const text = open.status === 'awaiting_counterparty' && open.requested_by === 'graduate' ? '毕业生申请解约 待您确认' : open.status_label;
  return h('span', { class: 'termination-open' }, ' ', badge(text, 'termination_open'));
}
