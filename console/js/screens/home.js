// 平台首页 (图3): a welcome, where to start, and the operation guide.
import { get } from '../api.js';
import { canRead, provinceOf } from '../context.js';
import { badge, h, pageTitle, section, table } from '../ui.js';

export async function render(view, { me }) {
  view.append(pageTitle('首页'));
  const welcome = me.role === 'province'
    ? ['欢迎使用本系统，请进入', h('a', { href: '#/settings' }, '【功能设置】'), '设置相关功能。']
    : me.role === 'school'
      ? ['欢迎使用本系统。省级用户开启模块后，请在', h('a', { href: '#/settings' }, '【功能设置】'), '完成签约和登记设置，并在', h('a', { href: '#/roster' }, '【生源管理】'), '导入毕业生生源。']
      : ['欢迎使用本系统，请在左侧菜单审核本院系毕业生的登记信息。'];
  view.append(section(null, h('p', { class: 'welcome' }, welcome),
    h('a', { class: 'button primary', href: '/guide.html', target: '_blank', rel: 'noopener', id: 'guide-button' }, '操作指南')));
  const province = provinceOf(me);
  if (province) {
    const modules = await get(`/accounts/provinces/${province}/modules`);
    view.append(section(`${modules.province_name || province} 模块开启情况`, table([
      { label: '模块', value: (m) => m.label },
      { label: '状态', value: (m) => badge(m.status_label, m.enabled ? 'enabled' : 'none') },
      { label: '本账号权限', value: (m) => (me.role === 'province' ? '查看' : permissionLabel(me, m.module)) },
    ], modules.modules)));
  }
}

const ACCESS_LABELS = { write: '读写', read: '只读', none: '无权限' };
function permissionLabel(me, module) {
  return canRead(me, module) ? ACCESS_LABELS[me.permissions[module]] : '无权限';
}
