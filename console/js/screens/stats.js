// 数据统计 (图8): per school (a school: per department) 总人数 / 已登记 / 未登记 / 审核中 for each
// module with the total row, each school's 网签 state, and charts; 数据同步: the sync status.
import { download, get } from '../api.js';
import { canRead, schoolOf } from '../context.js';
import { act, badge, dash, field, fmtTime, formValues, h, pageTitle, reportError, section, select, table, withoutBlanks, percent } from '../ui.js';
import { bars, gauge, stackedBars } from '../charts.js';
import { codes } from '../codes.js';

const MODULES = [['employment', '毕业去向登记与网签统计'], ['archive', '档案信息登记统计'], ['hukou', '户口信息登记统计']];
const SERIES = [{ label: '已登记', color: '#2f7d32' }, { label: '审核中', color: '#f0a020' }, { label: '未登记', color: '#c8ccd4' }];

function figures(module, nameOf) {
  return [
    { label: '院校', value: nameOf },
    { label: '总人数', value: (r) => r[module].total },
    { label: '已登记', value: (r) => r[module].registered },
    { label: '未登记', value: (r) => r[module].unregistered },
    { label: '审核中', value: (r) => r[module].review },
  ];
}

// The 届 a province looks at: from a few seasons back to as far ahead as a roster may already be
// imported (毕业年份 up to this year + 6), newest first.
function seasons() {
  const year = Number(new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' }).slice(0, 4));
  return Array.from({ length: 11 }, (_, i) => year + 6 - i);
}

// A school's settings of a module: not asked for while the province has not switched it on.
function settingsBadge(data, row, module) {
  if (data.modules_enabled && !data.modules_enabled[module]) return badge('省级未开启', 'disabled');
  return badge(row.settings_completed[module] ? '已完成' : '未完成', row.settings_completed[module] ? 'completed' : 'pending');
}

export async function render(view, { me }) {
  const province = me.role === 'province';
  const filters = {};
  const holder = h('div', { id: 'stats-body' });
  const form = h('form', { class: 'filters', id: 'stats-filters' },
    select('graduation_year', seasons().map((y) => [String(y), `${y} 届`]), '', { blank: '全部届别' }),
    select('education_level', codes().education_levels, '', { blank: '全部学历' }),
    h('button', { type: 'submit', class: 'primary' }, '查询'),
    h('button', { type: 'button', id: 'stats-export', onclick: (e) => act(e.currentTarget, () => download(province ? '/stats/province/export.xlsx' : `/stats/schools/${schoolOf(me)}/export.xlsx`, withoutBlanks(filters), '数据统计.xlsx'), (f) => `已下载 ${f.name}（${f.size} 字节）`) }, '导出 XLSX'),
    h('button', { type: 'button', id: 'stats-refresh', onclick: () => reload().catch(reportError) }, '刷新'));
  form.addEventListener('submit', (event) => { event.preventDefault(); Object.assign(filters, formValues(form)); reload().catch(reportError); });

  async function reload() {
    const query = withoutBlanks(filters);
    // The destination breakdown is employment data: only for those who may read that module.
    const employment = province || canRead(me, 'employment');
    const [data, destinations] = await Promise.all([
      get(province ? '/stats/province' : `/stats/schools/${schoolOf(me)}`, query),
      employment ? get('/stats/destinations', province ? query : { ...query, school: schoolOf(me) }) : null,
    ]);
    const rows = data.items;
    const nameOf = province ? (r) => r.school_name : (r) => r.department_name;
    const totalRow = province ? { ...data.total, school_name: '总计', department_name: '总计' } : { ...data.total, department_name: '合计' };
    const parts = [];
    for (const [module, title] of MODULES) {
      if (province && data.modules_enabled && !data.modules_enabled[module]) {
        parts.push(section(title, h('p', { class: 'muted' }, '本省尚未开启该模块。')));
        continue;
      }
      if (data.modules && !data.modules.includes(module)) continue;  // no permission for this module
      const columns = figures(module, nameOf);
      columns[0].label = province ? '院校' : '院系';
      parts.push(section(title,
        table(columns, [totalRow, ...rows], { class: `stats stats-${module}` }),
        stackedBars(province ? '各高校登记进度' : '各院系登记进度', rows.map((r) => ({ label: nameOf(r), values: [r[module].registered, r[module].review, r[module].unregistered] })), SERIES)));
    }
    if (province) {
      parts.push(section('高校网签开启情况', table([
        { label: '院校', value: (r) => r.school_name },
        { label: '协议类型', value: (r) => dash(r.agreement_type_label) },
        ...MODULES.map(([module], i) => ({ label: ['网签设置', '档案登记设置', '户口登记设置'][i], value: (r) => settingsBadge(data, r, module) })),
      ], rows, { class: 'settings-state' })));
    }
    if (destinations) parts.push(section('毕业去向分布与落实率',
      h('div', { class: 'charts' },
        gauge('毕业去向落实率', destinations.placement.rate, `已落实 ${destinations.placement.count} / 总人数 ${destinations.total}（已登记 ${destinations.registered}）`),
        bars('落实率构成', destinations.placement.parts.map((p) => ({ label: p.name, value: p.rate })), { format: percent, max: 1 }),
        bars('毕业去向类别（人数）', destinations.categories.filter((c) => !c.parent_code && c.count > 0).map((c) => ({ label: c.name, value: c.count })).concat(
          destinations.categories.some((c) => c.count > 0) ? [] : [{ label: '暂无已登记的去向', value: 0 }])))));
    holder.replaceChildren(...parts);
    const shown = data.total.employment || Object.values(data.total).find((v) => v && typeof v === 'object' && 'total' in v);
    holder.dataset.total = String(shown ? shown.total : 0);
    holder.dataset.registered = String(data.total.employment ? data.total.employment.registered : '');
  }

  view.append(pageTitle('数据统计'), section(null, form), holder);
  await reload();
}

export async function renderSync(view, { me }) {
  const status = await get('/sync-gateway/sync/status', me.role === 'school' ? { school: schoolOf(me) } : {});
  const items = status.items || (status.school_code ? [status] : []);
  view.append(pageTitle('数据同步'),
    section(null, h('p', { class: 'hint' }, '经学校（院系）审核通过的签约及毕业去向、档案、户口信息自动同步到就业管理系统。'),
      table([
        { label: '院校', value: (r) => r.school_name || r.school_code || '总计' },
        { label: '已同步', value: (r) => r.synced },
        { label: '待同步', value: (r) => r.pending },
        { label: '同步失败', value: (r) => (r.failed ? badge(String(r.failed), 'failed') : '0') },
        { label: '最早待同步（秒）', value: (r) => dash(r.oldest_pending_age_s) },
        { label: '近一小时平均延迟（毫秒）', value: (r) => dash(r.lag_ms_avg) },
      ], status.total && items.length > 1 ? [...items, { ...status.total, school_name: '总计' }] : items, { class: 'sync' }),
      h('p', { class: 'muted' }, `更新于 ${fmtTime(new Date().toISOString())}`)));
}

