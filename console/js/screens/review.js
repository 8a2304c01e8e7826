// The review pieces every detail view shares: the review history (who, when, level, decision,
// reason) and the approve / reject buttons, shown only to a reviewer with read-write permission
// whose level the record waits for.
import { ApiError, post } from '../api.js';
import { canWrite, reviewLevel } from '../context.js';
import { act, askReason, badge, dash, flash, fmtTime, h, section, table } from '../ui.js';
import { codes } from '../codes.js';

const ROLE_LABELS = { graduate: '毕业生', employer: '用人单位', department: '院系', school: '学校', province: '省级', admin: '管理员', system: '系统' };
const EXTRA_ACTIONS = { invite: '发出签约邀请', apply: '申请电子协议', register: '补登', request: '提出解约申请', submit: '提交', save: '保存' };

export function historySection(history, kind) {
  const statuses = Object.fromEntries(((codes().statuses || {})[kind]) || []);
  const actions = (codes().actions || {})[kind] || {};
  return section('审核记录', table([
    { label: '时间', value: (e) => fmtTime(e.at) },
    // the platform's own steps (an invitation lapsing) are recorded as actor "system"
    { label: '操作人', value: (e) => (e.actor_id === 'system' ? ROLE_LABELS.system : ROLE_LABELS[e.actor_role || e.level] || dash(e.actor_role || e.level_label || e.level)) },
    { label: '操作', value: (e) => actions[e.action || e.decision] || EXTRA_ACTIONS[e.action || e.decision] || dash(e.action_label || e.decision_label || e.action || e.decision) },
    { label: '状态变化', value: (e) => {
      const to = e.to_state || e.status;
      if (!to) return '--';
      // the record's own wording where it gives one (a 补登 agreement's step is not 学生已应约)
      const after = e.to_label || e.status_label || statuses[to] || to;
      return e.from_state ? `${e.from_label || statuses[e.from_state] || e.from_state} → ${after}` : after;
    } },
    { label: '原因', value: (e) => dash(e.reason) },
  ], history || [], { class: 'history', empty: '暂无记录' }));
}

// actions: the record's allowed_actions; module: the permission module; endpoints: {review, voidReview}
export function reviewBar(me, module, allowed, endpoints, onDone) {
  const level = reviewLevel(me);
  if (!level || !canWrite(me, module)) return null;
  const buttons = [];
  const decide = (path, decision, label) => {
    const button = h('button', { type: 'button', class: decision === 'approve' ? 'primary' : 'danger', dataset: { decision } }, label);
    button.addEventListener('click', async () => {
      // a 409: another reviewer (or the applicant) acted first; the record is shown as it is now
      let conflict = null;
      const done = await act(button, async () => {
        try {
          // a rejection's reason is sent from inside its dialog: refused, it stays typed there
          return decision === 'reject'
            ? await askReason(`${label}：请填写原因`, { maxlength: 500, send: (reason) => post(path, { decision, reason }) })
            : await post(path, { decision, reason: null });
        } catch (error) {
          if (error instanceof ApiError && error.status === 409) conflict = error;
          throw error;
        }
      }, `${label}：已提交`);
      if (done) onDone(done);
      else if (conflict) {
        await onDone();
        flash('error', `${conflict.message}。该记录已由他人处理或状态已变化，页面已显示最新状态`);
      }
    });
    return button;
  };
  const reviewable = allowed.some((a) => a === `${level}_approve` || a === `application_${level}_approve`);
  if (reviewable && endpoints.review) {
    buttons.push(decide(endpoints.review, 'approve', '审核通过'), decide(endpoints.review, 'reject', '审核不通过'));
  }
  if (level === 'school' && allowed.includes('approve_void') && endpoints.voidReview) {
    buttons.push(decide(endpoints.voidReview, 'approve', '同意作废'), decide(endpoints.voidReview, 'reject', '不同意作废'));
  }
  return buttons.length ? h('div', { class: 'review-bar', id: 'review-bar' }, h('strong', {}, level === 'school' ? '学校审核：' : '院系审核：'), buttons) : null;
}

export const statusLine = (record) => h('p', { class: 'status-line' }, '当前状态：', badge(record.status_label, record.status));
// A change to an approved archive/hukou registration is reviewed while the approval stands.
export const standingApproval = (record) => (record.approval_stands && record.status !== 'approved'
  ? h('p', { class: 'hint' }, '此前审核通过的信息仍然有效：本次变更审核通过后替换，审核不通过则保留原信息。')
  : null);
