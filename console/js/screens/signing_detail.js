// 查看: an agreement, a termination or a destination registration with its review history, and
// the review buttons for a reviewer whose turn it is.
import { download, get } from '../api.js';
import { act, dash, definitionList, fmtTime, h, pageTitle, redraw, section } from '../ui.js';
import { codes } from '../codes.js';
import { historySection, reviewBar, statusLine } from './review.js';

export function graduateFacts(g) {
  return definitionList([
    ['姓名', g.name], ['考生号', g.exam_number], ['院校', g.school_name || g.school_code], ['院系', g.department_name],
    ['专业', g.major_name], ['学历', codes().label('education_levels', g.education_level)], ['身份证号', g.identity_number],
  ]);
}

export function agreementFacts(a) {
  const unit = a.unit || {};
  const terms = a.terms || {};
  return [
    section('协议信息', definitionList([
      ['协议编号', a.number], ['协议类型', a.agreement_type_label], ['签约方式', { online: '在线签约', offline: '线下签约', supplementary: '补登' }[a.flow]],
      ['签约发起方', a.initiator_label], ['应约截止', a.status === 'invited' ? fmtTime(a.respond_by) : null],
      ['文件 SHA-256', a.document_sha256],
    ])),
    section('用人单位（甲方）', a.employer_stopped ? h('p', { class: 'error', id: 'employer-stopped' }, '该单位账号已被省级就业主管部门停用：暂不能应约、审核通过或在线解约，可审核不通过或办理线下解约。') : null, definitionList([
      ['单位名称', unit.name], ['统一社会信用代码', unit.credit_code], ['单位性质', unit.nature_label], ['单位行业', unit.industry_label], ['单位所在地', unit.region], ['单位地址', unit.address],
    ])),
    section('岗位与条款', definitionList([
      ['工作职位类别', terms.position_category_label], ['岗位名称', terms.job_title], ['工作地点', terms.work_place],
      ['月薪（元）', terms.monthly_salary], ['合同期限（月）', terms.contract_months], ['试用期（月）', terms.probation_months],
      ['联系人', terms.contact_person], ['联系电话', terms.contact_phone], ['档案转寄', terms.archive_destination],
      ['户口迁转', terms.hukou_destination], ['补充条款', terms.remarks],
    ])),
  ];
}

// withHash: the SHA-256 in the success message, for those who check the file against the record.
export function pdfButton(agreement, { withHash = true } = {}) {
  if (!agreement.document_sha256) return null;
  const button = h('button', { type: 'button', class: 'primary', id: 'download-pdf' }, '下载就业协议书（PDF）');
  button.addEventListener('click', () => act(button, () => download(`/signing/agreements/${agreement.id}/agreement.pdf`, {}, `就业协议书-${agreement.number}.pdf`),
    (file) => (withHash ? `已下载 ${file.name}（${file.size} 字节，SHA-256 ${file.sha256 || agreement.document_sha256}）` : `已下载 ${file.name}`)));
  return button;
}

// The signed paper's scan (线下签约, 补登): what a reviewer compares with the terms before approving.
export function scanButton(agreement) {
  if (!agreement.has_scan) return null;
  const button = h('button', { type: 'button', id: 'download-scan' }, '下载签约材料');
  button.addEventListener('click', () => act(button, () => download(`/signing/agreements/${agreement.id}/scan`, {}, `签约材料-${agreement.number}`),
    (file) => `已下载 ${file.name}（${file.size} 字节）`));
  return button;
}

// A destination registration's proofs (录取通知书, 证明材料), each a download.
function proofList(item) {
  const proofs = item.proofs || [];
  if (!proofs.length) return null;
  return section(item.proof_label || '证明材料', h('ul', { class: 'proofs', id: 'proofs' }, proofs.map((p) => {
    const button = h('button', { type: 'button', class: 'small', dataset: { proof: p.id } }, '下载');
    button.addEventListener('click', () => act(button, () => download(`/signing/destinations/${item.id}/proofs/${p.id}`, {}, p.filename),
      (file) => `已下载 ${file.name}`));
    return h('li', {}, `${p.filename}（${Math.ceil(p.size / 1024)} KB，${fmtTime(p.uploaded_at)}） `, button);
  })));
}

export async function renderAgreement(view, { me, params }) {
  const agreement = await get(`/signing/agreements/${params[0]}`);
  const rerender = () => redraw(view, (fresh) => renderAgreement(fresh, { me, params }));
  view.append(pageTitle('签约详情', h('a', { href: '#/signing/online', class: 'button small' }, '返回列表')),
    section(null, statusLine(agreement), graduateFacts(agreement.graduate || {}),
      reviewBar(me, 'employment', agreement.allowed_actions || [], {
        review: `/signing/agreements/${agreement.id}/reviews`, voidReview: `/signing/agreements/${agreement.id}/void-reviews`,
      }, rerender), pdfButton(agreement), scanButton(agreement)),
    ...agreementFacts(agreement), historySection(agreement.history, 'agreement'));
}

export async function renderTermination(view, { me, params }) {
  const item = await get(`/signing/terminations/${params[0]}`);
  const rerender = () => redraw(view, (fresh) => renderTermination(fresh, { me, params }));
  view.append(pageTitle('解约详情', h('a', { href: '#/signing/terminations', class: 'button small' }, '返回列表')),
    section(null, statusLine(item), definitionList([
      ['解约方式', item.mode_label || { online: '线上解约', offline: '线下解约' }[item.mode]], ['申请方', item.requested_by_label],
      ['解约原因', item.reason], ['协议状态', item.agreement_status_label],
      ['协议', item.agreement_id ? h('a', { href: `#/agreements/${item.agreement_id}` }, dash(item.agreement_number || '查看协议')) : null],
      ['解约函', item.letter_attachment_id ? h('button', { type: 'button', class: 'small', onclick: (e) => act(e.currentTarget,
        () => download(`/signing/terminations/${item.id}/letter`, {}, '解约函'), (f) => `已下载 ${f.name}`) }, '下载解约函') : null],
    ]), reviewBar(me, 'employment', item.allowed_actions || [], { review: `/signing/terminations/${item.id}/reviews` }, rerender)),
    historySection(item.history, 'termination'));
}

// A registration's fields as [label, shown value] pairs (the API answers a list per form field).
export function destinationFields(item) {
  const labels = codes().destination_field_labels || {};
  const list = Array.isArray(item.fields) ? item.fields
    : Object.entries(item.fields || {}).map(([name, value]) => ({ name, value }));
  return list.map((f) => [f.label || labels[f.name] || f.name, f.value_label ? `${f.value_label}（${f.value}）` : f.value]);
}

export async function renderDestination(view, { me, params }) {
  const item = await get(`/signing/destinations/${params[0]}`);
  const rerender = () => redraw(view, (fresh) => renderDestination(fresh, { me, params }));
  const fields = destinationFields(item);
  view.append(pageTitle('去向登记详情', h('a', { href: '#/signing/destinations', class: 'button small' }, '返回列表')),
    section(null, statusLine(item), item.graduate ? graduateFacts(item.graduate) : null,
      definitionList([['毕业去向', item.destination_name || codes().label('destination_categories', item.destination_code)], ...fields]),
      reviewBar(me, 'employment', item.allowed_actions || [], {
        review: `/signing/destinations/${item.id}/reviews`, voidReview: `/signing/destinations/${item.id}/void-reviews`,
      }, rerender)),
    proofList(item), historySection(item.history, 'destination'));
}
