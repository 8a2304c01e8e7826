// 用户登录 (图1, 图2): 学校登录 for province, school and department users; separate entries for
// graduates and employers. Graduates activate their account first with the school's code.
import { login, loginRouteOf, logout, post, returnRoute, session } from '../api.js';
import { currentUser } from '../context.js';
import { homeOf } from '../menu.js';
import { CODE, DIGITS, UserError, act, field, flashNext, formValues, h, input } from '../ui.js';

const ENTRIES = {
  staff: { label: '学校登录', hint: '省级、学校、院系用户使用就业管理系统账号登录', roles: ['province', 'school', 'department', 'admin'], user: '用户名' },
  graduate: { label: '毕业生登录', hint: '用户名为考生号；首次使用请先激活账号；遗失激活码或忘记密码请联系学校重发激活码', roles: ['graduate'], user: '考生号' },
  employer: { label: '用人单位登录', hint: '没有账号的单位请先注册', roles: ['employer'], user: '用户名' },
};

const PASSWORD_RULES = '新密码至少 8 位，须含字母和数字，不能包含用户名（考生号）。';

// The 考生号 just activated, for the graduate login that follows (typed once, not twice).
let activatedUsername = '';

function banner() {
  return h('div', { class: 'login-banner' }, h('h1', {}, '全国高校毕业生毕业去向登记与网上签约平台'),
    h('p', {}, '毕业去向登记 · 网上签约 · 档案与户口信息登记'));
}

export function render(view, { params }) {
  const kind = params[0] || 'staff';
  const entry = ENTRIES[kind];
  // links to the other entries, not an ARIA tab list: choosing one goes to another page
  const tabs = h('nav', { class: 'tabs', 'aria-label': '登录入口' }, Object.entries(ENTRIES).map(([key, e]) =>
    h('a', { href: `#/login/${key}`, class: key === kind ? 'active' : '', 'aria-current': key === kind ? 'page' : null, id: `tab-${key}` }, e.label)));
  const form = h('form', { class: 'login-form', id: 'login-form' },
    h('p', { class: 'hint' }, entry.hint),
    // a graduate's username is the 考生号: the digit keyboard on a phone
    field(entry.user, input('username', { autocomplete: 'username', required: true, id: 'username', ...(kind === 'graduate' ? DIGITS : {}) })),
    field('密码', input('password', { type: 'password', autocomplete: 'current-password', required: true, id: 'password' })),
    h('button', { type: 'submit', class: 'primary wide', id: 'login-submit' }, '登录'),
    kind === 'graduate' ? h('p', {}, h('a', { href: '#/activate' }, '激活毕业生账号')) : null,
    kind === 'employer' ? h('p', {}, h('a', { href: '#/register', id: 'register-link' }, '用人单位注册')) : null);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const { username, password } = formValues(form);
    act(form.querySelector('button[type=submit]'), async () => {
      const me = await login(username, password);
      if (!entry.roles.includes(me.role)) {
        session.clear();
        throw new UserError(`该账号是${me.role_label || me.role}，请从对应的入口登录`);
      }
      // back where the login ran out, for the same account
      window.location.hash = returnRoute.take(me) || homeOf(me);
    });
  });
  view.append(banner(), h('div', { class: 'card login-card' }, tabs, form));
  if (kind === 'graduate' && activatedUsername) {
    form.elements.username.value = activatedUsername;
    activatedUsername = '';
    form.elements.password.focus();
  }
}

// 修改密码, for every role: the API revokes every token of the account at once, so the user logs in
// again with the new password.
export function renderPassword(view) {
  const form = h('form', { class: 'grid-form', id: 'password-form' },
    field('当前密码', input('current_password', { type: 'password', autocomplete: 'current-password', required: true })),
    field('新密码', input('new_password', { type: 'password', autocomplete: 'new-password', required: true })),
    h('p', { class: 'hint' }, `${PASSWORD_RULES}修改后请用新密码重新登录。`),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'primary' }, '修改密码')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // 204 answers nothing: true says it was done (act reads null as a cancelled dialog)
    act(form.querySelector('button'), () => post('/accounts/auth/password', formValues(form)).then(() => true))
      .then(async (done) => {
        if (!done) return;
        const me = currentUser();
        flashNext('success', '密码已修改，请用新密码重新登录');
        await logout().catch(() => null);
        window.location.hash = loginRouteOf(me);
      });
  });
  view.append(h('div', { class: 'page-title' }, h('h1', {}, '修改密码')), h('section', { class: 'card' }, form));
}

export function renderActivate(view) {
  const form = h('form', { class: 'login-form', id: 'activate-form' },
    h('p', { class: 'hint' }, '使用学校发放的激活码设置登录密码，激活后以考生号登录。'),
    field('考生号', input('exam_number', { required: true, autocomplete: 'username', ...DIGITS })),
    field('激活码', input('activation_code', { required: true, autocomplete: 'off', ...CODE })),
    field('新密码', input('password', { type: 'password', autocomplete: 'new-password', required: true }), PASSWORD_RULES),
    h('button', { type: 'submit', class: 'primary wide' }, '激活账号'),
    h('p', {}, h('a', { href: '#/login/graduate' }, '返回毕业生登录')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // on to the graduate login with the 考生号 filled in: only the new password is left to type
    act(form.querySelector('button'), () => post('/accounts/graduates/activate', formValues(form))).then((r) => {
      if (!r) return;
      activatedUsername = r.username || formValues(form).exam_number;
      flashNext('success', `账号 ${r.username} 已激活，请输入刚设置的密码登录`);
      window.location.hash = '#/login/graduate';
    });
  });
  view.append(banner(), h('div', { class: 'card login-card' }, h('h2', {}, '激活毕业生账号'), form));
}
