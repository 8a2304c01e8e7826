// What a party (graduate or employer) can do with one of its agreements: answer an invitation,
// withdraw it, download the approved PDF, ask for termination and answer the other party's request.
import { get, post, upload } from '../api.js';
import { act, askReason, badge, confirmDialog, h, section, table } from '../ui.js';
import { pdfButton } from './signing_detail.js';

function actionButton(label, cls, run, done, reload) {
  const button = h('button', { type: 'button', class: `small ${cls}`, dataset: { action: label } }, label);
  button.addEventListener('click', async () => { if (await act(button, run, done)) await reload(); });
  return button;
}

export function partyActions(me, agreement, reload) {
  const id = agreement.id;
  const allowed = agreement.allowed_actions || [];
  const buttons = [];
  if (me.role === 'graduate' && allowed.includes('accept')) {
    buttons.push(actionButton('接受邀请', 'primary', async () => {
      if (!(await confirmDialog('接受签约邀请', `确定接受“${agreement.unit?.name || agreement.unit_name}”的签约邀请吗？接受后其他邀请将不能再接受。`, '确定接受'))) return null;
      return post(`/signing/agreements/${id}/accept`);
    }, '已接受签约邀请，等待学校审核', reload));
  }
  if (me.role === 'graduate' && allowed.includes('decline')) {
    buttons.push(actionButton('拒绝邀请', 'danger', async () => {
      const reason = await askReason('拒绝签约邀请', { required: false });
      return reason === null ? null : post(`/signing/agreements/${id}/decline`, { reason: reason || null });
    }, '已拒绝签约邀请', reload));
  }
  if (me.role === 'employer' && allowed.includes('withdraw')) {
    buttons.push(actionButton('撤回邀请', 'danger', () => post(`/signing/agreements/${id}/withdraw`), '已撤回签约邀请', reload));
  }
  if (agreement.status === 'approved' && agreement.employer_id) {
    buttons.push(actionButton('申请解约', 'danger', async () => {
      const reason = await askReason('申请解约');
      return reason === null ? null : post(`/signing/agreements/${id}/terminations`, { reason });
    }, '解约申请已提交，等待对方确认', reload));
  } else if (agreement.status === 'approved' && me.role === 'graduate') {
    // 线下解约: the unit is not on the platform, so the graduate uploads its termination letter (解约函).
    const letter = h('input', { type: 'file', name: 'file', accept: '.pdf,.jpg,.jpeg,.png', id: 'termination-letter' });
    buttons.push(letter, actionButton('上传解约函申请解约', 'danger', async () => {
      if (!letter.files.length) throw new Error('请先选择解约函文件（PDF、JPEG 或 PNG）');
      const reason = await askReason('申请解约');
      if (reason === null) return null;
      const data = new FormData();
      data.append('file', letter.files[0]);
      data.append('reason', reason);
      return upload(`/signing/agreements/${id}/terminations`, data);
    }, '解约申请已提交，等待学校审核', reload));
  }
  return h('div', { class: 'party-actions' }, buttons, pdfButton(agreement));
}

export async function terminationsOf(me, agreement, reload) {
  const data = await get(`/signing/agreements/${agreement.id}/terminations`);
  const items = data.items || data;
  if (!items.length) return null;
  return section('解约申请', table([
    { label: '申请方', value: (t) => t.requested_by_label },
    { label: '原因', value: (t) => t.reason || '--' },
    { label: '状态', value: (t) => badge(t.status_label, t.status) },
    { label: '操作', value: (t) => {
      const allowed = t.allowed_actions || [];
      const mine = (t.requested_by === 'graduate') === (me.role === 'graduate');
      const buttons = [];
      if (!mine && allowed.includes('agree')) buttons.push(actionButton('同意解约', 'primary', () => post(`/signing/terminations/${t.id}/agree`), '已同意解约，等待学校审核', reload));
      if (!mine && allowed.includes('disagree')) {
        buttons.push(actionButton('不同意解约', 'danger', async () => {
          const reason = await askReason('不同意解约');
          return reason === null ? null : post(`/signing/terminations/${t.id}/disagree`, { reason });
        }, '已不同意解约', reload));
      }
      if (mine && allowed.includes('withdraw')) buttons.push(actionButton('撤回申请', '', () => post(`/signing/terminations/${t.id}/withdraw`), '已撤回解约申请', reload));
      return buttons.length ? h('span', { class: 'inline' }, buttons) : '--';
    } },
  ], items, { class: 'terminations' }));
}
