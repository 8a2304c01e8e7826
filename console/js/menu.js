// The menu of the provincial users' guide (首页 … 数据统计), and the graduate's and employer's,
// each entry shown only when the user's role and module permissions allow it.
import { canRead, canWrite } from './context.js';

const staff = (me) => ['admin', 'province', 'school', 'department'].includes(me.role);
// The 图6 and 图7 lists: the APIs serve them to province, school and department users, not to the admin.
const listReader = (me) => ['province', 'school', 'department'].includes(me.role);
const provinceOrSchool = (me) => me.role === 'province' || me.role === 'school';

export const MENU = [
  { label: '首页', href: '#/home', show: staff },
  { label: '账号管理', href: '#/accounts', show: provinceOrSchool },
  { label: '功能设置', href: '#/settings', show: (me) => me.role === 'province' || (me.role === 'school' && ['employment', 'archive', 'hukou'].some((m) => canWrite(me, m))) },
  { label: '生源管理', href: '#/roster', show: (me) => ['school', 'department'].includes(me.role) && canRead(me, 'employment') },
  {
    label: '毕业去向与网签信息管理', show: (me) => listReader(me) && canRead(me, 'employment'),
    children: [
      { label: '在线签约管理', href: '#/signing/online' },
      { label: '补登管理', href: '#/signing/supplementary' },
      { label: '解约管理', href: '#/signing/terminations' },
      { label: '去向登记管理', href: '#/signing/destinations' },
    ],
  },
  { label: '档案信息管理', href: '#/registrations/archive', show: (me) => listReader(me) && canRead(me, 'archive') },
  { label: '户口信息管理', href: '#/registrations/hukou', show: (me) => listReader(me) && canRead(me, 'hukou') },
  // each module's statistics by its own permission: an archive-only account has 档案信息登记统计
  { label: '数据统计', href: '#/stats', show: (me) => me.role === 'province' || (['school', 'department'].includes(me.role) && ['employment', 'archive', 'hukou'].some((m) => canRead(me, m))) },
  // archive and hukou are mirrored too: an account reading any of the three modules follows it
  { label: '数据同步', href: '#/sync', show: (me) => provinceOrSchool(me) && ['employment', 'archive', 'hukou'].some((m) => canRead(me, m)) },

  { label: '我的信息', href: '#/me', show: (me) => me.role === 'graduate' },
  { label: '签约邀请与协议', href: '#/me/agreements', show: (me) => me.role === 'graduate' },
  { label: '毕业去向登记', href: '#/me/destination', show: (me) => me.role === 'graduate' },
  { label: '档案信息登记', href: '#/me/archive', show: (me) => me.role === 'graduate' },
  { label: '户口信息登记', href: '#/me/hukou', show: (me) => me.role === 'graduate' },

  { label: '单位信息', href: '#/employer', show: (me) => me.role === 'employer' },
  { label: '发起签约邀请', href: '#/employer/invite', show: (me) => me.role === 'employer' },
  { label: '签约管理', href: '#/employer/agreements', show: (me) => me.role === 'employer' },

  { label: '操作指南', href: '/guide.html', external: true, show: () => true },
];

export function visibleMenu(me) {
  return MENU.filter((item) => item.show(me));
}

export function homeOf(me) {
  if (me.role === 'graduate') return '#/me';
  if (me.role === 'employer') return '#/employer';
  return '#/home';
}
