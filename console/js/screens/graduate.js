// The graduate's screens: 信息确认, invitations and agreements, 毕业去向登记, 档案 and 户口 registration,
// each with its review state.
import { get, getAll, post, put, upload } from '../api.js';
import { DIGITS, MAX_DOCUMENT_MB, PHONE, UserError, act, askReason, badge, checkFileSize, dash, definitionList, documentInput, field, fmtTime, formValues, h, input, pageTitle, redraw, section, select, withoutBlanks } from '../ui.js';
import { codes } from '../codes.js';
import { agreementFacts, destinationFields } from './signing_detail.js';
import { historySection, standingApproval, statusLine } from './review.js';
import { partyActions, terminationsOf } from './agreement_actions.js';
import { splitValues, termsFields, unitFields } from './agreement_form.js';
import { transferFacts } from './registrations.js';

const graduateId = (me) => me.scope.graduate;
// destination fields that take a code of a table, chosen from it
const CODED = { unit_nature: 'employer_natures', unit_industry: 'industries', position_category: 'position_categories' };

export async function render(view, { me }) {
  const g = await get(`/records/graduates/${graduateId(me)}`);
  const rerender = () => redraw(view, (fresh) => render(fresh, { me }));
  const note = h('textarea', { name: 'note', rows: 2, placeholder: '信息有误时请说明需更正的内容' });
  const confirm = h('button', { type: 'button', class: 'primary', id: 'confirm-info' }, '信息无误，确认');
  const flag = h('button', { type: 'button', class: 'danger', id: 'flag-info' }, '信息有误，提交说明');
  confirm.addEventListener('click', () => act(confirm, () => put(`/records/graduates/${g.id}/confirmation`, { status: 'confirmed' }), '已确认基本信息').then((r) => r && rerender()));
  flag.addEventListener('click', () => act(flag, () => put(`/records/graduates/${g.id}/confirmation`, { status: 'flagged', note: note.value.trim() || null }), '已提交更正说明，学校将核实').then((r) => r && rerender()));
  view.append(pageTitle('我的信息'), section('基本信息（生源）', definitionList([
    ['姓名', g.name], ['考生号', g.exam_number], ['学号', g.student_number], ['性别', { M: '男', F: '女' }[g.gender] || g.gender],
    ['身份证号', g.identity_number], ['院系', g.department_name], ['专业', `${g.major_name}（${g.major_code}）`],
    ['学历', codes().label('education_levels', g.education_level)], ['生源所在地', g.origin_region], ['毕业年份', g.graduation_year],
    ['手机号', g.phone], ['邮箱', g.email],
  ]), h('p', {}, '信息确认：', badge(g.confirmation.status_label, g.confirmation.status), g.confirmation.note ? `（${g.confirmation.note}）` : ''),
  field('说明', note), h('div', { class: 'form-actions' }, confirm, flag)));
}

// The statuses in which an agreement is the graduate's one (signing's HELD_STATUSES): while one is,
// no invitation can be accepted and no other agreement applied for or registered.
export const HELD = ['application_department_review', 'application_school_review', 'awaiting_scan',
  'department_review', 'school_review', 'approved', 'void_review'];

// A destination registration in these statuses is the graduate's destination: no agreement beside it
// until it is voided (the API refuses with destination_registered).
const DESTINATION_HELD = ['department_review', 'school_review', 'approved', 'void_review'];

export async function renderAgreements(view, { me }) {
  const [items, destination] = await Promise.all([getAll('/signing/agreements'), get(`/signing/graduates/${graduateId(me)}/destination`)]);
  const list = { items };
  const rerender = () => redraw(view, (fresh) => renderAgreements(fresh, { me }));
  const registered = DESTINATION_HELD.includes(destination.status);
  const holding = registered || list.items.some((a) => HELD.includes(a.status));
  view.append(pageTitle('签约邀请与协议'));
  if (!list.items.length) view.append(section(null, h('p', { class: 'muted' }, '暂无签约邀请。')));
  for (const summary of list.items) {
    const agreement = await get(`/signing/agreements/${summary.id}`);
    const terminations = agreement.status === 'approved' || agreement.status === 'terminated'
      ? await terminationsOf(me, agreement, rerender) : null;
    const context = { holding: holding && !HELD.includes(agreement.status), openTermination: Boolean(terminations && terminations.dataset.open) };
    // An invitation is answered on its terms: they are read first, above 接受/拒绝 (not folded away
    // below them); once answered, the terms and the review history fold away together.
    const invited = agreement.status === 'invited';
    view.append(h('article', { class: 'card agreement', dataset: { agreement: agreement.id, status: agreement.status } },
      h('h2', {}, `${agreement.unit?.name || summary.unit_name} · ${agreement.terms?.job_title || ''}`),
      statusLine(agreement),
      invited ? h('p', {}, `请在 ${fmtTime(agreement.respond_by)} 前应约。`) : null,
      // the terms first: they are what the answer is about (then the unit, then the record's numbers)
      invited ? h('div', { class: 'invitation-terms' }, [...agreementFacts(agreement)].reverse()) : null,
      partyActions(me, agreement, rerender, context),
      invited
        ? h('details', {}, h('summary', {}, '审核记录'), historySection(agreement.history, 'agreement'))
        : h('details', {}, h('summary', {}, '协议内容与审核记录'), agreementFacts(agreement), historySection(agreement.history, 'agreement')),
      terminations));
  }
  const closed = destination.availability && !destination.availability.open ? destination.availability.reason : null;
  view.append(closed
    ? section('线下签约与补登', h('p', { class: 'muted', id: 'own-agreement-closed' }, `暂不能申请或补登协议：${closed}`))
    : holding
    ? section('线下签约与补登', h('p', { class: 'muted', id: 'own-agreement-closed' }, registered
      ? '你已登记其他毕业去向（审核中或已通过），如需签约请先在“毕业去向登记”申请作废该登记。'
      : '你已有已应约、审核中或已生效的协议，不能再申请或补登其他协议。'))
    : ownAgreementForm(rerender));
}

// 线下签约 (the unit is not on the platform: the graduate applies for the e-agreement, the school
// generates it to print and stamp) and 补登 (a paper agreement signed elsewhere, then its scan).
function ownAgreementForm(onSaved) {
  const kind = select('kind', [['offline', '申请电子就业协议（线下签约）'], ['supplementary', '补登纸质就业协议']], 'offline');
  const day = input('signed_on', { type: 'date' });
  const signedOn = field('签约日期', day);
  const form = h('form', { class: 'grid-form', id: 'own-agreement-form' }, field('方式', kind), signedOn,
    h('h3', { class: 'form-heading' }, '用人单位（甲方）'), ...unitFields(), h('h3', { class: 'form-heading' }, '岗位与条款'), ...termsFields('terms.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '提交')));
  // the signing date belongs to 补登 only, and is required there
  const showDate = () => { signedOn.hidden = kind.value !== 'supplementary'; day.required = !signedOn.hidden; day.disabled = signedOn.hidden; };
  kind.addEventListener('change', showDate);
  showDate();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { kind: chosen, signed_on: signedDay, unit, terms } = splitValues(formValues(form));
    const supplementary = chosen === 'supplementary';
    act(form.querySelector('button[type=submit]'), () => post(`/signing/agreements/${supplementary ? 'supplementary' : 'offline'}`,
      supplementary ? { unit, terms, signed_on: signedDay } : { unit, terms }),
    (a) => (supplementary ? `已补登（协议编号 ${a.number}），请上传签约材料` : `协议申请已提交（协议编号 ${a.number}），等待院系、学校审核`))
      .then((a) => a && onSaved());
  });
  return section('线下签约与补登', h('p', { class: 'hint' },
    '用人单位不在平台上时，可申请电子就业协议：审核通过后下载打印、盖章，再上传签约材料；已签订纸质协议的，选择补登并上传签约材料。'), form);
}

function destinationForm(current, onSaved) {
  const forms = codes().destination_forms || {};
  const labels = codes().destination_field_labels || {};
  const categories = codes().destination_categories.filter((c) => !c.requires_agreement);
  const chooser = select('destination_code', categories.map((c) => [c.code, `${c.code} ${c.name}`]), current.destination_code || '', { blank: '请选择毕业去向类别' });
  const fieldsBox = h('div', { class: 'grid-form' });
  const drawFields = () => {
    const code = chooser.value;
    const form = forms[code] || forms[code.slice(0, 2)] || { fields: [] };
    const saved = Object.fromEntries((Array.isArray(current.fields) ? current.fields : []).map((f) => [f.name, f.value || '']));
    const control = (name) => (CODED[name]
      ? select(name, codes()[CODED[name]], saved[name] || '', { blank: '请选择' })
      : input(name, { value: saved[name] || '' }));
    fieldsBox.replaceChildren(...form.fields.map((name) => field(labels[name] || name, control(name))),
      form.proof ? h('p', { class: 'hint' }, `需上传证明材料：${form.proof}（请先保存草稿，在登记详情上传后再提交）`) : '');
  };
  chooser.addEventListener('change', drawFields);
  drawFields();
  const body = () => {
    const values = {};
    for (const el of fieldsBox.querySelectorAll('input, select')) if (el.value.trim()) values[el.name] = el.value.trim();
    return { destination_code: chooser.value, fields: values };
  };
  const save = h('button', { type: 'button' }, '保存草稿');
  const submit = h('button', { type: 'button', class: 'primary', id: 'submit-destination' }, '提交审核');
  save.addEventListener('click', () => act(save, () => put(`/signing/graduates/${current.graduate_id}/destination/draft`, body()), '草稿已保存').then((r) => r && onSaved()));
  submit.addEventListener('click', () => act(submit, () => post(`/signing/graduates/${current.graduate_id}/destination/submit`, body()), '已提交，等待审核').then((r) => r && onSaved()));
  return h('div', {}, field('毕业去向类别', chooser), fieldsBox, h('div', { class: 'form-actions' }, save, submit));
}

export async function renderDestination(view, { me }) {
  const [current, agreements] = await Promise.all([get(`/signing/graduates/${graduateId(me)}/destination`), getAll('/signing/agreements')]);
  const rerender = () => redraw(view, (fresh) => renderDestination(fresh, { me }));
  // a graduate holding an agreement registers no other destination (the API refuses)
  const held = agreements.find((a) => HELD.includes(a.status));
  const allowed = held ? (current.allowed_actions || []).filter((a) => a !== 'save' && a !== 'submit') : current.allowed_actions || [];
  view.append(pageTitle('毕业去向登记'), section(null, h('p', { class: 'hint' }, '已签订就业协议的毕业生无需在此登记；其他毕业去向请选择类别并填写信息，经院系、学校审核。'),
    statusLine(current),
    held ? h('p', { class: 'notice-text', id: 'agreement-held' }, `你已有就业协议（${held.status_label}，协议编号 ${held.number}），无需登记其他毕业去向。`) : null,
    current.availability && !current.availability.open ? h('p', { class: 'notice-text', id: 'destination-closed' }, `暂不能登记：${current.availability.reason}`) : null,
    current.destination_code ? definitionList([['毕业去向', current.destination_name || codes().label('destination_categories', current.destination_code)],
      ...destinationFields(current)]) : null,
    allowed.includes('add_proof') && current.proof_required ? proofUpload(current, rerender) : null,
    allowed.includes('save') || allowed.includes('submit') ? destinationForm({ ...current, graduate_id: graduateId(me) }, rerender) : null,
    allowed.includes('request_void') ? voidButton(current, rerender) : null));
  if (current.history) view.append(historySection(current.history, 'destination'));
}

function proofUpload(current, reload) {
  const file = documentInput();
  const button = h('button', { type: 'button' }, '上传证明材料');
  button.addEventListener('click', async () => {
    if (await act(button, () => {
      if (!file.files.length) throw new UserError('请先选择证明材料文件（PDF、JPEG 或 PNG）');
      checkFileSize(file.files[0], MAX_DOCUMENT_MB, '证明材料');
      const data = new FormData();
      data.append('file', file.files[0]);
      return upload(`/signing/destinations/${current.id}/proofs`, data);
    }, '证明材料已上传')) await reload();
  });
  const uploaded = (current.proofs || []).map((p) => h('li', {}, `${p.filename}（${p.size} 字节）`));
  return h('div', { class: 'card' }, h('p', {}, `证明材料（${current.proof_label}）：`), uploaded.length ? h('ul', {}, uploaded) : h('p', { class: 'muted' }, '尚未上传'),
    h('span', { class: 'inline' }, field('证明材料（照片或 PDF）', file), button));
}

function voidButton(current, reload) {
  const button = h('button', { type: 'button', class: 'danger' }, '申请作废');
  button.addEventListener('click', async () => {
    if (await act(button, () => askReason('申请作废毕业去向登记', {
      send: (reason) => post(`/signing/destinations/${current.id}/void-request`, { reason }),
    }), '作废申请已提交')) await reload();
  });
  return button;
}

function transferForm(module, item, onSaved, allowed = ['save', 'submit']) {
  const types = codes().transfer_types[module];
  const t = item.transfer || {};
  const chooser = select('transfer_type', types.map((x) => [x.code, x.name]), t.transfer_type || '', { blank: module === 'archive' ? '请选择档案转寄类型' : '请选择户口迁转类型' });
  const names = module === 'archive'
    ? [['receiving_unit', '接收单位'], ['receiving_department', '接收部门'], ['address', '地址'], ['postcode', '邮政编码'], ['recipient', '收件人'], ['phone', '联系电话']]
    : [['address', '户口迁转地址'], ['receiving_unit', '接收单位'], ['postcode', '邮政编码']];
  // the keyboard each field needs on a phone: digits for the postcode, the phone pad for the phone
  const keyboard = { postcode: { ...DIGITS, maxlength: 6 }, phone: PHONE };
  const addressFields = names.map(([name, label]) => field(label, input(name, { value: t[name] || '', ...keyboard[name] })));
  const form = h('form', { class: 'grid-form', id: `${module}-form` }, field(module === 'archive' ? '档案转寄类型' : '户口迁转类型', chooser),
    addressFields);
  // A type that sends nothing anywhere (保留原校, 户口不在学校) asks for no address: its fields are
  // hidden and left out of what is sent, instead of being typed in and dropped by the API.
  const showAddress = () => {
    const type = types.find((x) => x.code === chooser.value);
    const needed = !type || type.address_required;
    for (const wrapper of addressFields) {
      wrapper.hidden = !needed;
      for (const control of wrapper.querySelectorAll('input')) control.disabled = !needed;
    }
  };
  chooser.addEventListener('change', showAddress);
  showAddress();
  const save = h('button', { type: 'button' }, '保存草稿');
  const submit = h('button', { type: 'button', class: 'primary', id: `submit-${module}` }, '提交审核');
  const gid = item.graduate_id;
  save.addEventListener('click', () => act(save, () => put(`/records/graduates/${gid}/${module}/draft`, withoutBlanks(formValues(form))), '草稿已保存').then((r) => r && onSaved()));
  submit.addEventListener('click', () => act(submit, () => post(`/records/graduates/${gid}/${module}/submit`, withoutBlanks(formValues(form))), '已提交，等待审核').then((r) => r && onSaved()));
  // only what the registration's state allows: an approved one is changed by submitting again
  return h('div', {}, form, h('div', { class: 'form-actions' }, allowed.includes('save') ? save : null, allowed.includes('submit') ? submit : null));
}

export async function renderRegistration(view, { me, params }) {
  const module = params[0];
  const item = await get(`/records/graduates/${graduateId(me)}/${module}`);
  const rerender = () => redraw(view, (fresh) => renderRegistration(fresh, { me, params }));
  const open = item.availability && item.availability.open;
  const allowed = item.allowed_actions || [];
  view.append(pageTitle(item.module_label), section(null,
    statusLine(item), standingApproval(item),
    item.availability ? h('p', { class: 'hint' }, open ? `登记截止日期：${dash(item.availability.deadline)}` : `暂不能登记：${dash(item.availability.reason)}`) : null,
    item.availability && item.availability.notice ? h('p', { class: 'notice-text' }, item.availability.notice) : null,
    item.transfer_number ? h('p', {}, `转递编号：${item.transfer_number}`) : null,
    transferFacts(module, item.transfer),
    open && (allowed.includes('save') || allowed.includes('submit')) ? transferForm(module, item, rerender, allowed) : null),
  historySection(item.history, 'registration'));
}

