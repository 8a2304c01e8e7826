// 档案信息管理 / 户口信息管理 (图7): every graduate of the caller's scope with its registration,
// filters, export, and the detail view with the review history and, for the reviewer whose turn
// it is, approve / reject.
import { get } from '../api.js';
import { canWrite, reviewLevel } from '../context.js';
import { badge, dash, definitionList, h, pageTitle, redraw, section } from '../ui.js';
import { codes } from '../codes.js';
import { educationLabel, listScreen, viewLink } from './list_screen.js';
import { historySection, reviewBar, standingApproval, statusLine } from './review.js';

const TITLES = { archive: '档案信息管理', hukou: '户口信息管理' };
const SORTS = [['exam_number', '考生号'], ['name', '姓名'], ['school', '院校'], ['department', '院系'], ['status', '状态'], ['updated_at', '更新时间']];

function columns(module) {
  const transfer = module === 'archive'
    ? [{ label: '档案转寄类型', value: (r) => dash(r.transfer_type_label) }, { label: '接收单位', value: (r) => dash(r.receiving_unit) }, { label: '转递编号', value: (r) => dash(r.transfer_number) }]
    : [{ label: '户口迁转类型', value: (r) => dash(r.transfer_type_label) }, { label: '户口迁转地址', value: (r) => dash(r.address) }];
  return [
    { label: '考生号', value: (r) => r.exam_number },
    { label: '姓名', value: (r) => r.name },
    { label: '院校', value: (r) => r.school_name },
    { label: '院系', value: (r) => r.department_name },
    { label: '专业', value: (r) => r.major_name },
    { label: '学历', value: educationLabel },
    { label: '生源所在地', value: (r) => r.origin_region_label || r.origin_region },
    { label: '身份证号', value: (r) => r.identity_number },
    ...transfer,
    { label: '状态', value: (r) => badge(r.status_label, r.status) },
    { label: '操作', value: (r) => viewLink(`#/registrations/${module}/${r.graduate_id}`, r.name) },
  ];
}

export async function render(view, { me, params, query }) {
  const module = params[0];
  const level = reviewLevel(me);
  view.append(pageTitle(TITLES[module],
    level ? h('a', { class: 'button small', id: 'review-queue', href: `#/registrations/${module}?status=${level}_review` }, level === 'school' ? '待学校审核' : '待院系审核') : null));
  await listScreen(view, {
    me, initial: Object.fromEntries(query.entries()), path: `/records/${module}/registrations`,
    searchPath: `/records/${module}/registrations/search`,
    exportPath: `/records/${module}/registrations/export.xlsx`, exportName: `${TITLES[module]}.xlsx`,
    canExport: me.role === 'province' || canWrite(me, module), searchHint: '姓名、考生号、学号或身份证号',
    columns: columns(module), statuses: codes().statuses.registration, sorts: SORTS,
    extraFilters: [{ name: 'transfer_type', options: codes().transfer_types[module].map((t) => [t.code, t.name]), blank: '全部类型' }],
  });
}

export function transferFacts(module, transfer) {
  const t = transfer || {};
  return definitionList(module === 'archive'
    ? [['档案转寄类型', t.transfer_type_label], ['接收单位', t.receiving_unit], ['接收部门', t.receiving_department], ['地址', t.address], ['邮政编码', t.postcode], ['收件人', t.recipient], ['联系电话', t.phone]]
    : [['户口迁转类型', t.transfer_type_label], ['户口迁转地址', t.address], ['接收单位', t.receiving_unit], ['邮政编码', t.postcode]]);
}

export async function renderDetail(view, { me, params }) {
  const [module, graduateId] = params;
  const item = await get(`/records/graduates/${graduateId}/${module}`);
  const g = item.graduate || {};
  const rerender = () => redraw(view, (fresh) => renderDetail(fresh, { me, params }));
  view.append(pageTitle(`${item.module_label}详情`, h('a', { href: `#/registrations/${module}`, class: 'button small' }, '返回列表')),
    section(null, statusLine(item), standingApproval(item), definitionList([
      ['姓名', g.name], ['考生号', g.exam_number], ['院系', g.department_name], ['专业', g.major_name],
      ['学历', codes().label('education_levels', g.education_level)], ['生源所在地', g.origin_region], ['身份证号', g.identity_number],
      ['转递编号', item.transfer_number],
    ]), transferFacts(module, item.transfer),
    reviewBar(me, module, item.allowed_actions || [], { review: `/records/graduates/${graduateId}/${module}/reviews` }, rerender)),
    historySection(item.history, 'registration'));
}
