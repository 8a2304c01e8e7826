// What a party (graduate or employer) can do with one of its agreements: answer an invitation,
// withdraw it, download the approved PDF, ask for termination and answer the other party's request.
import { ApiError, download, get, post, upload } from '../api.js';
import { MAX_DOCUMENT_MB, UserError, act, askReason, badge, checkFileSize, confirmDialog, dash, documentInput, field, fmtTime, formValues, h, section, table } from '../ui.js';
import { fillForm, splitValues, termsFields, unitFields } from './agreement_form.js';
import { pdfButton } from './signing_detail.js';

function actionButton(label, cls, run, done, reload) {
  const button = h('button', { type: 'button', class: `small ${cls}`, dataset: { action: label } }, label);
  button.addEventListener('click', async () => {
    // a 409 means the agreement moved on meanwhile (expired, answered): show it as it is now
    let conflict = false;
    const result = await act(button, async () => {
      try { return await run(); } catch (error) { conflict = error instanceof ApiError && error.status === 409; throw error; }
    }, done);
    if (result || conflict) await reload();
  });
  return button;
}

// What the graduate commits to by accepting, said in the confirmation itself: on a phone the terms
// may have been scrolled past, and the dialog is the last look before the answer is final.
function acceptMessage(agreement) {
  const terms = agreement.terms || {};
  const months = (value) => (value === undefined || value === null || value === '' ? '--' : `${value} 个月`);
  return [
    `确定接受“${agreement.unit?.name || agreement.unit_name}”的签约邀请吗？`,
    `岗位：${dash(terms.job_title)}`,
    `月薪：${terms.monthly_salary === undefined || terms.monthly_salary === null ? '--' : `${terms.monthly_salary} 元`}`,
    `合同期限：${months(terms.contract_months)}`,
    `试用期：${months(terms.probation_months)}`,
    `工作地点：${dash(terms.work_place)}`,
    `应约截止：${fmtTime(agreement.respond_by)}`,
    '接受后其他邀请将不能再接受。',
  ].join('\n');
}

// context: {holding: another of the graduate's agreements is held (no invitation can be accepted),
// openTermination: a termination of this agreement is under way (no second one)}. The API refuses
// both; the console does not offer them.
export function partyActions(me, agreement, reload, context = {}) {
  const id = agreement.id;
  const allowed = agreement.allowed_actions || [];
  const buttons = [];
  const overdue = agreement.status === 'invited' && agreement.respond_by && new Date(agreement.respond_by) < new Date();
  if (me.role === 'graduate' && allowed.includes('accept') && !context.holding && !overdue) {
    buttons.push(actionButton('接受邀请', 'primary', async () => {
      if (!(await confirmDialog('接受签约邀请', acceptMessage(agreement), '确定接受'))) return null;
      return post(`/signing/agreements/${id}/accept`);
    }, '已接受签约邀请，等待学校审核', reload));
  }
  if (me.role === 'graduate' && allowed.includes('decline')) {
    buttons.push(actionButton('拒绝邀请', 'danger', () => askReason('拒绝签约邀请', {
      required: false, send: (reason) => post(`/signing/agreements/${id}/decline`, { reason: reason || null }),
    }), '已拒绝签约邀请', reload));
  }
  if (me.role === 'employer' && allowed.includes('withdraw')) {
    // ends the invitation for good: one stray tap must not
    buttons.push(actionButton('撤回邀请', 'danger', async () => {
      if (!(await confirmDialog('撤回签约邀请', `确定撤回对${agreement.graduate?.name || ''}的签约邀请吗？撤回后毕业生不能再接受此邀请。`, '确定撤回', { danger: true }))) return null;
      return post(`/signing/agreements/${id}/withdraw`);
    }, '已撤回签约邀请', reload));
  }
  if (me.role === 'graduate' && allowed.includes('submit_scan')) buttons.push(...scanUpload(id, reload));
  if (me.role === 'graduate' && allowed.includes('resubmit_application')) buttons.push(resubmitForm(agreement, reload));
  if (me.role === 'graduate' && allowed.includes('request_void') && !context.openTermination) {
    buttons.push(actionButton('申请作废', 'danger', () => askReason('申请作废就业协议', {
      send: (reason) => post(`/signing/agreements/${id}/void-request`, { reason }),
    }), '作废申请已提交，等待学校审核', reload));
  }
  if (context.openTermination) {
    // one termination at a time: its answer or withdrawal is in the table below
  } else if (agreement.status === 'approved' && agreement.employer_id) {
    buttons.push(actionButton('申请解约', 'danger', () => askReason('申请解约', {
      send: (reason) => post(`/signing/agreements/${id}/terminations`, { reason }),
    }), '解约申请已提交，等待对方确认', reload));
  } else if (agreement.status === 'approved' && me.role === 'graduate') {
    // 线下解约: the unit is not on the platform, so the graduate uploads its termination letter (解约函).
    const letter = documentInput({ id: 'termination-letter' });
    buttons.push(field('解约函（照片或 PDF）', letter), actionButton('上传解约函申请解约', 'danger', async () => {
      if (!letter.files.length) throw new UserError('请先选择解约函文件（PDF、JPEG 或 PNG）');
      checkFileSize(letter.files[0], MAX_DOCUMENT_MB, '解约函');
      return askReason('申请解约', { send: (reason) => {
        const data = new FormData();
        data.append('file', letter.files[0]);
        data.append('reason', reason);
        return upload(`/signing/agreements/${id}/terminations`, data);
      } });
    }, '解约申请已提交，等待学校审核', reload));
  }
  // the file's hash is for the school's checks, only noise in a graduate's message on a phone
  return h('div', { class: 'party-actions' }, buttons, pdfButton(agreement, { withHash: me.role !== 'graduate' }) || generatedPdfButton(me, agreement));
}

// A rejected application (线下签约), corrected where the review said and submitted again.
function resubmitForm(agreement, reload) {
  const form = h('form', { class: 'grid-form resubmit-form', id: `resubmit-${agreement.id}` },
    h('h3', { class: 'form-heading' }, '更正后重新提交协议申请'), ...unitFields(), ...termsFields('terms.'),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '重新提交协议申请')));
  fillForm(form, { unit: agreement.unit || {}, terms: agreement.terms || {} });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { unit, terms } = splitValues(formValues(form));
    if (await act(form.querySelector('button[type=submit]'), () => post(`/signing/agreements/${agreement.id}/application`, { unit, terms }),
      '协议申请已重新提交，等待院系、学校审核')) await reload();
  });
  return form;
}

// 签约材料: the stamped agreement's scan (线下签约 after its application passed, 补登).
function scanUpload(id, reload) {
  const file = documentInput({ id: `scan-${id}` });
  return [field('签约材料（照片或 PDF）', file), actionButton('上传签约材料并提交审核', 'primary', async () => {
    if (!file.files.length) throw new UserError('请先选择签约材料文件（PDF、JPEG 或 PNG）');
    checkFileSize(file.files[0], MAX_DOCUMENT_MB, '签约材料');
    const data = new FormData();
    data.append('file', file.files[0]);
    return upload(`/signing/agreements/${id}/scan`, data);
  }, '签约材料已上传，等待院系、学校审核', reload)];
}

// The agreement the platform generated for an offline signing, to print and stamp before the scan.
function generatedPdfButton(me, agreement) {
  if (me.role !== 'graduate' || agreement.flow !== 'offline' || agreement.status !== 'awaiting_scan') return null;
  const button = h('button', { type: 'button', class: 'primary', id: 'download-generated' }, '下载就业协议书（打印盖章）');
  button.addEventListener('click', () => act(button, () => download(`/signing/agreements/${agreement.id}/agreement.pdf`, {}, `就业协议书-${agreement.number}.pdf`),
    (file) => `已下载 ${file.name}（${file.size} 字节），打印、盖章后上传签约材料`));
  return button;
}

export async function terminationsOf(me, agreement, reload) {
  const data = await get(`/signing/agreements/${agreement.id}/terminations`);
  const items = data.items || data;
  if (!items.length) return null;
  const open = items.some((t) => ['awaiting_counterparty', 'school_review'].includes(t.status));
  const shown = section('解约申请', table([
    { label: '申请方', value: (t) => t.requested_by_label },
    { label: '原因', value: (t) => t.reason || '--' },
    { label: '状态', value: (t) => badge(t.status_label, t.status) },
    // why the other party disagreed or the school rejected it (from the termination's history)
    { label: '处理意见', value: (t) => {
      const decided = (t.history || []).filter((e) => ['disagree', 'school_reject'].includes(e.action) && e.reason);
      return decided.length ? decided[decided.length - 1].reason : '--';
    } },
    { label: '操作', value: (t) => {
      const allowed = t.allowed_actions || [];
      const mine = (t.requested_by === 'graduate') === (me.role === 'graduate');
      const buttons = [];
      // agreeing ends the agreement once the school approves: asked first, not done on one tap
      if (!mine && allowed.includes('agree')) {
        buttons.push(actionButton('同意解约', 'primary', async () => {
          if (!(await confirmDialog('同意解约', '确定同意解约吗？学校审核通过后就业协议即解除，不能恢复。', '确定同意', { danger: true }))) return null;
          return post(`/signing/terminations/${t.id}/agree`);
        }, '已同意解约，等待学校审核', reload));
      }
      if (!mine && allowed.includes('disagree')) {
        buttons.push(actionButton('不同意解约', 'danger', () => askReason('不同意解约', {
          send: (reason) => post(`/signing/terminations/${t.id}/disagree`, { reason }),
        }), '已不同意解约', reload));
      }
      if (mine && allowed.includes('withdraw')) {
        buttons.push(actionButton('撤回申请', '', async () => {
          if (!(await confirmDialog('撤回解约申请', '确定撤回解约申请吗？撤回后如需解约须重新申请。', '确定撤回'))) return null;
          return post(`/signing/terminations/${t.id}/withdraw`);
        }, '已撤回解约申请', reload));
      }
      return buttons.length ? h('span', { class: 'inline' }, buttons) : '--';
    } },
  ], items, { class: 'terminations' }));
  if (open) shown.dataset.open = 'true';
  return shown;
}
