// 毕业去向与网签信息管理 (图6): 在线签约管理, 补登管理, 解约管理, 去向登记管理.
import { reviewLevel } from '../context.js';
import { badge, dash, h, pageTitle } from '../ui.js';
import { codes } from '../codes.js';
import { educationLabel, listScreen, viewLink } from './list_screen.js';

const person = [
  { label: '姓名', value: (r) => r.name },
  { label: '院校', value: (r) => r.school_name },
  { label: '院系', value: (r) => r.department_name },
  { label: '专业', value: (r) => r.major_name },
  { label: '学历', value: educationLabel },
  { label: '身份证号', value: (r) => r.identity_number },
];
const SORTS = [['name', '姓名'], ['school', '院校'], ['department', '院系'], ['status', '状态'], ['updated_at', '更新时间']];
const INITIATORS = { name: 'initiator', options: [['employer', '单位'], ['graduate', '学生']], blank: '全部发起方' };
// 在线签约管理 holds the employers' invitations and the graduates' 线下签约 (the guide, §5).
const FLOWS = { name: 'flow', options: [['online', '在线签约'], ['offline', '线下签约']], blank: '全部方式' };

const KINDS = {
  online: {
    title: '在线签约管理', path: '/signing/lists/online-signing', statuses: () => codes().statuses.agreement, extra: () => [INITIATORS, FLOWS],
    columns: () => [
      { label: '签约发起方', value: (r) => r.initiator_label }, { label: '签约方式', value: (r) => r.flow_label }, ...person,
      { label: '当前协议编号', value: (r) => dash(r.number) }, { label: '签约单位', value: (r) => dash(r.unit_name) },
      { label: '学号', value: (r) => dash(r.student_number) }, { label: '签约状态', value: (r) => badge(r.status_label, r.status) },
      { label: '操作', value: (r) => viewLink(`#/agreements/${r.id}`, r.name) }],
  },
  supplementary: {
    title: '补登管理', path: '/signing/lists/supplementary', statuses: () => codes().statuses.agreement, extra: () => [],
    columns: () => [
      ...person,
      { label: '当前协议编号', value: (r) => dash(r.number) }, { label: '签约单位', value: (r) => dash(r.unit_name) },
      { label: '学号', value: (r) => dash(r.student_number) }, { label: '签约状态', value: (r) => badge(r.status_label, r.status) },
      { label: '操作', value: (r) => viewLink(`#/agreements/${r.id}`, r.name) }],
  },
  terminations: {
    title: '解约管理', path: '/signing/lists/terminations', statuses: () => codes().statuses.termination,
    extra: () => [INITIATORS, { name: 'mode', options: [['online', '线上解约'], ['offline', '线下解约']], blank: '全部方式' }],
    columns: () => [
      { label: '解约方式', value: (r) => r.mode_label }, { label: '申请方', value: (r) => r.requested_by_label }, ...person,
      { label: '协议编号', value: (r) => dash(r.number) }, { label: '签约单位', value: (r) => dash(r.unit_name) },
      { label: '解约状态', value: (r) => badge(r.status_label, r.status) },
      { label: '操作', value: (r) => viewLink(`#/terminations/${r.id}`, r.name || r.graduate_name) }],
  },
  destinations: {
    // A draft is the graduate's own until submitted: the list never holds one.
    title: '去向登记管理', path: '/signing/lists/destinations', statuses: () => codes().statuses.destination.filter(([code]) => code !== 'draft'),
    extra: () => [{ name: 'destination_code', options: codes().destination_categories.filter((c) => !c.parent).map((c) => [c.code, c.name]), blank: '全部去向' }],
    columns: () => [
      ...person, { label: '毕业去向', value: (r) => r.destination_label }, { label: '单位/院校', value: (r) => dash(r.unit_name) },
      { label: '学号', value: (r) => dash(r.student_number) }, { label: '登记状态', value: (r) => badge(r.status_label, r.status) },
      { label: '操作', value: (r) => viewLink(`#/destinations/${r.id}`, r.name || r.graduate_name) }],
  },
};

export async function render(view, { me, params, query }) {
  const kind = KINDS[params[0]];
  // Terminations are reviewed by the school alone: a department has no queue of them.
  const level = params[0] === 'terminations' && reviewLevel(me) === 'department' ? null : reviewLevel(me);
  const initial = Object.fromEntries(query.entries());
  view.append(pageTitle(kind.title,
    level ? h('a', { class: 'button small', id: 'review-queue', href: `#/signing/${params[0]}?status=${level}_review` }, level === 'school' ? '待学校审核' : '待院系审核') : null));
  await listScreen(view, {
    me, initial, path: kind.path, exportPath: `${kind.path}/export.xlsx`, exportName: `${kind.title}.xlsx`,
    // 只读 may download as well as view (the guide's 表1); whoever sees the list may export it.
    canExport: true, searchHint: '姓名、考生号、学号、协议编号或单位名称',
    columns: kind.columns(), statuses: kind.statuses(), extraFilters: kind.extra(), sorts: SORTS,
  });
}
