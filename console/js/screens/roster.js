// 生源管理: the school imports its roster (CSV or XLSX, all or nothing, every bad row shown),
// lists its graduates (identity numbers masked), takes a graduate with nothing registered off the
// roster and puts it back (移出生源/恢复), hands out activation codes (one graduate's again after a lost
// code or a forgotten password) and reads the graduates' 信息确认.
import { api, download, get, getAll, post, upload } from '../api.js';
import { canWrite, schoolOf } from '../context.js';
import { MAX_ROSTER_MB, UserError, act, askValue, badge, checkFileSize, confirmDialog, field, formValues, h, input, pageTitle, pager, refresh, reportError, section, select, table, withoutBlanks } from '../ui.js';
import { codes } from '../codes.js';

export async function render(view, { me }) {
  const school = schoolOf(me);
  const writable = me.role === 'school' && canWrite(me, 'employment');
  view.append(pageTitle('生源管理'));
  if (writable) view.append(importSection(school), activationSection(school));
  view.append(await graduatesSection(school, me, writable), await confirmationsSection(school));
}

function importSection(school) {
  const result = h('div', { id: 'import-result' });
  const form = h('form', { class: 'grid-form', id: 'roster-import' },
    field('生源文件（CSV 或 XLSX）', h('input', { type: 'file', name: 'file', accept: '.csv,.xlsx', required: true, id: 'roster-file' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'confirm_year_changes', id: 'confirm-year-changes' }),
      ' 确认修改毕业年份（文件中有毕业生的届别与已导入的不同，如延期毕业）'),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'primary' }, '导入生源'),
      h('button', { type: 'button', class: 'link', onclick: () => act(null, () => download('/records/roster/template.csv', {}, '生源模板.csv')) }, '下载 CSV 模板'),
      h('button', { type: 'button', class: 'link', onclick: () => act(null, () => download('/records/roster/template.xlsx', {}, '生源模板.xlsx')) }, '下载 XLSX 模板')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { file } = formValues(form);
    result.replaceChildren();
    act(form.querySelector('button'), () => {
      if (!file) throw new UserError('请先选择生源文件（CSV 或 XLSX）');
      checkFileSize(file, MAX_ROSTER_MB, '生源文件');
      const data = new FormData();
      data.append('file', file);
      data.append('confirm_year_changes', form.querySelector('#confirm-year-changes').checked ? 'true' : 'false');
      return upload(`/records/schools/${school}/roster/imports`, data);
    },
      (job) => `导入成功：新增 ${job.created} 人，更新 ${job.updated} 人，未变化 ${job.unchanged} 人`)
      .then((job) => {
        if (!job) return;
        const skipped = job.withdrawn ? `，已移出生源未导入 ${job.withdrawn}（如需恢复请在“已移出”列表中操作）` : '';
        result.replaceChildren(h('p', { class: 'ok', id: 'import-summary' }, `文件 ${job.filename}：共 ${job.total} 行，新增 ${job.created}，更新 ${job.updated}，未变化 ${job.unchanged}${skipped}。`));
        if (job.row_notices && job.row_notices.length) {
          // the rows the school must know of: left alone (withdrawn) or moved to another 届
          result.append(h('p', { class: 'hint' }, '请核对以下各行：'), table([
            { label: '行号', value: (n) => n.row },
            { label: '列', value: (n) => n.column },
            { label: '说明', value: (n) => n.reason },
          ], job.row_notices, { class: 'row-notices' }));
        }
      });
  });
  return section('导入生源', h('p', { class: 'hint' }, '整个文件校验通过后才会写入；有错误时不导入任何数据，并列出每一行的错误。按考生号更新已导入的毕业生。'), form, result);
}

function activationSection(school) {
  const holder = h('div');
  const button = h('button', { type: 'button', class: 'primary', id: 'issue-codes' }, '发放激活码');
  button.addEventListener('click', () => act(button, () => post(`/accounts/schools/${school}/activation-codes/issue`), (r) => `已发放 ${r.codes.length} 个激活码，剩余 ${r.remaining} 个待发放`)
    .then((r) => {
      if (!r) return;
      holder.replaceChildren(h('p', { class: 'hint' }, '激活码只显示这一次，请立即打印或分发给毕业生。'), table([
        { label: '考生号', value: (c) => c.exam_number },
        { label: '姓名', value: (c) => c.name },
        { label: '激活码', value: (c) => h('code', { class: 'activation-code' }, c.activation_code) },
      ], r.codes, { class: 'activation-codes', empty: '没有待发放的激活码' }));
    }));
  return section('毕业生账号激活码', h('p', { class: 'hint' }, '为尚未发放激活码的毕业生生成激活码；每个激活码只发放一次。'), button, holder);
}

async function graduatesSection(school, me, writable) {
  const holder = h('div');
  const reissued = h('div');
  const filters = { q: '', education_level: '', department: '', withdrawn: '' };
  let page = 1;
  const departments = me.role === 'school' ? (await get(`/accounts/schools/${school}/departments`)).items : [];
  const form = h('form', { class: 'filters' },
    input('q', { placeholder: '姓名、考生号或学号', 'aria-label': '查询：姓名、考生号或学号' }),
    me.role === 'school' ? select('department', departments.map((d) => [d.id, d.name]), '', { blank: '全部院系' }) : null,
    select('education_level', codes().education_levels, '', { blank: '全部学历' }),
    me.role === 'school' ? select('withdrawn', [['true', '已移出生源']], '', { blank: '在册生源', label: '生源状态' }) : null,
    h('button', { type: 'submit' }, '查询'));
  // the reason is sent from inside its dialog: refused, it stays typed there
  const withdraw = (g) => askValue(`移出生源：${g.name}（${g.exam_number}）`, '移出原因（如 退学、误导入）', {
    maxlength: 200, empty: '请填写移出原因', send: (reason) => post(`/records/schools/${school}/graduates/${g.id}/withdrawal`, { reason }),
  });
  const reinstate = async (g) => {
    if (!await confirmDialog('恢复生源', `将 ${g.name}（${g.exam_number}）恢复到在册生源，并恢复其账号登录？`, '恢复')) return null;
    return api('DELETE', `/records/schools/${school}/graduates/${g.id}/withdrawal`);
  };
  const actions = (g) => {
    const button = g.withdrawn
      ? h('button', { type: 'button', class: 'link reinstate' }, '恢复')
      : h('button', { type: 'button', class: 'link withdraw' }, '移出生源');
    button.addEventListener('click', () => act(button, () => (g.withdrawn ? reinstate(g) : withdraw(g)),
      (r) => (r.withdrawn ? `已将 ${r.name} 移出生源` : `已恢复 ${r.name} 的生源`))
      .then((r) => { if (r) refresh(reload); }));
    if (g.withdrawn) return button;
    return h('span', { class: 'row-actions' }, reissueButton(g), ' ', button);
  };
  // a lost code or a forgotten password: a new code, shown once; an activated graduate activates again
  const reissueButton = (g) => {
    const reissue = h('button', { type: 'button', class: 'link reissue-code' }, '重发激活码');
    reissue.addEventListener('click', () => act(reissue, async () => {
      if (!await confirmDialog('重发激活码', `为 ${g.name}（${g.exam_number}）生成新的激活码？原激活码作废；已激活的毕业生原密码失效、登录会话退出，需用新激活码重新激活并设置密码。`, '重发')) return null;
      return post(`/accounts/schools/${school}/graduates/${g.id}/activation-code`);
    }, (r) => `已为 ${r.name} 生成新的激活码`).then((r) => {
      if (!r) return;
      reissued.replaceChildren(h('p', { class: 'ok', id: 'reissued-code' }, `${r.name}（${r.exam_number}）的新激活码：`,
        h('code', { class: 'activation-code' }, r.activation_code),
        r.password_cleared ? '。原密码已失效，请毕业生用新激活码重新激活。' : '。只显示这一次，请立即交给毕业生。'));
    }));
    return reissue;
  };
  const reload = async () => {
    try {
      const data = await get(`/records/schools/${school}/graduates`, { ...withoutBlanks(filters), page, page_size: 20 });
      const columns = [
        { label: '考生号', value: (g) => g.exam_number },
        { label: '学号', value: (g) => g.student_number },
        { label: '姓名', value: (g) => g.name },
        { label: '院系', value: (g) => g.department_name },
        { label: '专业', value: (g) => g.major_name },
        { label: '学历', value: (g) => codes().label('education_levels', g.education_level) },
        { label: '身份证号', value: (g) => g.identity_number },
      ];
      if (filters.withdrawn) {
        columns.push({ label: '移出原因', value: (g) => g.withdrawn?.reason || '--' });
        // signing recorded something for it after the student was imported again under another 考生号
        columns.push({ label: '签约记录', value: (g) => (g.withdrawn?.signing_records ? badge('有签约记录，需处理', 'warning') : '--') });
      }
      if (writable) columns.push({ label: '操作', value: actions });
      holder.replaceChildren(table(columns, data.items, { class: 'graduates' }), pager(data, (p) => { page = p; reload(); }));
    } catch (error) { reportError(error); }
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); Object.assign(filters, formValues(form)); page = 1; reload(); });
  await reload();
  return section('毕业生生源', h('p', { class: 'hint' }, '移出生源：毕业生退学或误导入时使用，只能移出尚未提交任何签约、去向、档案或户口信息的毕业生；移出后其账号停用，不计入统计，重新导入文件也不会恢复，需在“已移出生源”中恢复。重发激活码：毕业生遗失激活码或忘记密码时使用。'), form, reissued, holder);
}

async function confirmationsSection(school) {
  const holder = h('div');
  const choose = select('status', [['flagged', '有异议'], ['pending', '待确认'], ['confirmed', '已确认']], 'flagged', { blank: '全部', label: '确认状态' });
  const reload = async () => {
    const items = await getAll(`/records/schools/${school}/roster/confirmations`, withoutBlanks({ status: choose.value }));
    holder.replaceChildren(table([
      { label: '考生号', value: (c) => c.exam_number },
      { label: '姓名', value: (c) => c.name },
      { label: '院系', value: (c) => c.department_name },
      { label: '确认状态', value: (c) => badge(c.status_label, c.status) },
      { label: '说明', value: (c) => c.note || '--' },
    ], items));
  };
  choose.addEventListener('change', () => reload().catch(reportError));
  await reload();
  return section('信息确认', field('状态', choose), holder);
}
