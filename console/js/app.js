// The console's shell: the layout (header, menu, message area, view) and the hash router.
import { loginRouteOf, logout, session } from './api.js';
import { currentUser } from './context.js';
import { homeOf, visibleMenu } from './menu.js';
import { flashNext, h, reportError, showPending } from './ui.js';
import { ROUTES } from './routes.js';
import { loadCodes } from './codes.js';

const app = document.getElementById('app');

// The active entry: the menu link that is the longest prefix of the route.
function activeHref(me, path) {
  const route = path.split('?')[0];
  const links = visibleMenu(me).flatMap((item) => item.children || [item]).filter((item) => !item.external);
  const matches = links.filter((item) => route === item.href.slice(1) || route.startsWith(`${item.href.slice(1)}/`));
  return matches.sort((a, b) => b.href.length - a.href.length)[0]?.href;
}

function menuLink(item, active) {
  const current = item.href === active;
  return h('a', { href: item.href, class: current ? 'active' : '', 'aria-current': current ? 'page' : null,
    target: item.external ? '_blank' : null, rel: item.external ? 'noopener' : null,
    'aria-label': item.external ? `${item.label}（在新窗口打开）` : null }, item.label);
}

const SITE_TITLE = '全国高校毕业生毕业去向登记与网上签约平台';

function layout(me, path) {
  const active = activeHref(me, path);
  const nav = h('nav', { class: 'menu', 'aria-label': '菜单' }, visibleMenu(me).map((item, i) => (item.children
    ? h('div', { class: 'menu-group', role: 'group', 'aria-labelledby': `menu-group-${i}` },
      h('div', { class: 'menu-group-label', id: `menu-group-${i}` }, item.label), item.children.map((child) => menuLink(child, active)))
    : menuLink(item, active))));
  const view = h('main', { id: 'view', class: 'view' });
  app.className = 'shell';
  app.replaceChildren(
    // the view of the moment: a screen drawn again (ui.redraw) is a new <main>
    h('a', { class: 'skip-link', href: '#view', onclick: (event) => { event.preventDefault(); focusHeading(document.getElementById('view')); } }, '跳到主要内容'),
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: homeOf(me) }, '全国高校毕业生毕业去向登记与网上签约平台'),
      h('span', { class: 'who', id: 'who' }, `${me.display_name || me.username}（${me.role_label || me.role}）`),
      h('a', { class: 'link', id: 'change-password', href: '#/password' }, '修改密码'),
      h('button', { type: 'button', class: 'link', id: 'logout', onclick: async () => { await logout(); window.location.hash = loginRouteOf(me); } }, '退出')),
    h('div', { class: 'body' }, nav, h('div', { class: 'content' }, h('div', { id: 'flash', 'aria-live': 'polite' }), view)));
  // On a phone the menu is a strip wider than the screen: the active entry is brought into it
  // (sideways only, the page itself does not move); on a desktop it is already in view.
  requestAnimationFrame(() => nav.querySelector('.active')?.scrollIntoView({ inline: 'center', block: 'nearest' }));
  return view;
}

function bare() {
  const view = h('main', { id: 'view', class: 'view bare' });
  app.className = 'bare-shell';
  app.replaceChildren(h('div', { id: 'flash', 'aria-live': 'polite' }), view);
  return view;
}

async function render() {
  const path = (window.location.hash || '#/').slice(1) || '/';
  const me = currentUser();
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route || (!route.public && !me)) {
    window.location.hash = me ? homeOf(me) : '#/login';
    return;
  }
  if (route.public && me && route.redirectWhenLoggedIn) {
    window.location.hash = homeOf(me);
    return;
  }
  const view = route.public ? bare() : layout(me, path);
  showPending();
  // an optional group that matched nothing stays undefined (decodeURIComponent would make it "undefined")
  const params = path.match(route.pattern).slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
  try {
    await loadCodes(); // again when it failed at start (a network hiccup): it is not cached then
    const screen = await route.load();
    await screen.render(view, { me, params, query: new URLSearchParams(path.split('?')[1] || '') });
  } catch (error) {
    reportError(error);
    // never a blank screen: a way to try again without losing the place (the login stays)
    view.replaceChildren(h('section', { class: 'card load-failed', id: 'load-failed' },
      h('p', {}, '页面内容未能加载。'),
      h('button', { type: 'button', class: 'primary', id: 'reload-screen', onclick: () => render() }, '重新加载')));
  }
  // A new screen is announced as one: its title in the window's, and focus on its heading (a
  // keyboard user starts from the screen, not from the top of the page again).
  const heading = view.querySelector('h1');
  document.title = heading ? `${heading.textContent} - ${SITE_TITLE}` : SITE_TITLE;
  if (!route.public || previousPath !== null) focusHeading(view);
  previousPath = path;
  view.dataset.ready = path; // the browser tests wait for this
}

let previousPath = null;

// The screen's heading takes focus (it is not a control: tabindex -1 lets it hold focus only).
function focusHeading(view) {
  const heading = view.querySelector('h1') || view;
  if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}

// The login ran out (api.js): to the login tab of the user's role, saying why.
window.addEventListener('qx:session-ended', (event) => {
  flashNext('error', event.detail.message);
  if (window.location.hash === event.detail.login) render();
  else window.location.hash = event.detail.login;
});

// Another tab logged out or logged in as someone else (the session is shared through localStorage).
let shownUser = currentUser();
window.addEventListener('storage', (event) => {
  if (event.key !== null && event.key !== session.key) return;
  const stored = session.load();
  const now = stored && stored.me ? stored.me : null;
  if (stored && !now) return; // a login under way in the other tab: its profile follows
  if ((now && now.id) === (shownUser && shownUser.id)) return; // tokens refreshed: nothing to show
  const before = shownUser;
  shownUser = now;
  if (!now) {
    flashNext('error', '您已在其他窗口退出登录，请重新登录');
    window.location.hash = loginRouteOf(before);
  } else {
    window.location.hash = homeOf(now);
  }
});
window.addEventListener('hashchange', () => { shownUser = currentUser(); });

window.addEventListener('hashchange', render);
loadCodes().catch(() => null).finally(render);
