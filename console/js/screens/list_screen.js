// The shared list screen of 图6 and 图7: filters, sort, pages, export and a 查看 link per row.
import { download, get, getAll, post } from '../api.js';
import { act, field, formValues, h, input, pager, reportError, section, select, withoutBlanks, table } from '../ui.js';
import { codes } from '../codes.js';

// options: {path, searchPath, exportPath, exportName, canExport, searchHint, columns, statuses, extraFilters(me),
// sorts, me, initial}. canExport: whether the caller may download the list (图6: anyone who reads it; 图7: the
// module's 读写, as issue 4 has it). searchPath: the list's POST twin; with it the filters (an identity number
// searched for among them) go in the body of the list and export requests, never in an address servers log.
export async function listScreen(view, options) {
  const { me } = options;
  const state = { page: 1, filters: { ...(options.initial || {}) } };
  const holder = h('div', { class: 'list-holder' });
  const schools = me.role === 'province' ? await getAll('/accounts/schools') : [];
  const departments = me.role === 'school' ? (await get(`/accounts/schools/${me.scope.school}/departments`)).items : [];
  const form = h('form', { class: 'filters', id: 'list-filters' },
    input('q', { placeholder: options.searchHint || '姓名、考生号或学号', 'aria-label': `查询：${options.searchHint || '姓名、考生号或学号'}`, value: state.filters.q || '' }),
    schools.length ? select('school', schools.map((s) => [s.code, s.name]), state.filters.school || '', { blank: '全部院校' }) : null,
    departments.length ? select('department', departments.map((d) => [d.id, d.name]), state.filters.department || '', { blank: '全部院系' }) : null,
    input('major', { placeholder: '专业（代码或名称）', 'aria-label': '专业（代码或名称）', value: state.filters.major || '' }),
    select('education_level', codes().education_levels, state.filters.education_level || '', { blank: '全部学历' }),
    select('status', options.statuses, state.filters.status || '', { blank: '全部状态' }),
    (options.extraFilters || []).map((f) => select(f.name, f.options, state.filters[f.name] || '', { blank: f.blank })),
    select('sort', options.sorts, state.filters.sort || '', { blank: '默认排序', label: '排序' }),
    select('order', [['desc', '降序'], ['asc', '升序']], state.filters.order || 'desc', { label: '顺序' }),
    h('button', { type: 'submit', class: 'primary' }, '查询'),
    options.exportPath && options.canExport ? h('button', { type: 'button', id: 'export', onclick: (event) => exportList(event.currentTarget) }, '导出 XLSX') : null);

  async function exportList(button) {
    await act(button, () => download(options.exportPath, withoutBlanks(state.filters), options.exportName,
      { post: Boolean(options.searchPath) }),
      (file) => `已下载 ${file.name}（${file.size} 字节）`);
  }

  async function reload() {
    try {
      const query = { ...withoutBlanks(state.filters), page: state.page, page_size: 20 };
      const data = options.searchPath ? await post(options.searchPath, query) : await get(options.path, query);
      holder.replaceChildren(table(options.columns, data.items, { class: 'records' }), pager(data, (p) => { state.page = p; reload(); }));
    } catch (error) {
      holder.replaceChildren();
      reportError(error);
    }
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.filters = formValues(form);
    state.page = 1;
    reload();
  });
  // A province narrows to one school's departments: the 院系 choices follow the 院校 chosen.
  if (schools.length) {
    const schoolSelect = form.querySelector("select[name='school']");
    const departmentSelect = select('department', [], '', { blank: '全部院系' });
    departmentSelect.disabled = true;
    schoolSelect.after(departmentSelect);
    const fill = async (selected) => {
      const code = schoolSelect.value;
      const items = code ? (await get(`/accounts/schools/${code}/departments`)).items : [];
      departmentSelect.replaceChildren(...select('department', items.map((d) => [d.id, d.name]), selected || '', { blank: '全部院系' }).children);
      departmentSelect.disabled = !items.length;
    };
    schoolSelect.addEventListener('change', () => fill().catch(reportError));
    if (state.filters.school) await fill(state.filters.department).catch(reportError);
  }
  await reload();
  view.append(section(null, form, holder));
  return { reload };
}

// named by the row's graduate: a screen reader's list of links is not 查看 twenty times
export const viewLink = (href, who) => h('a', { href, class: 'button small view-link', 'aria-label': who ? `查看 ${who}` : null }, '查看');
export const educationLabel = (row) => row.education_level_label || codes().label('education_levels', row.education_level);
