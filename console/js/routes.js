// Each route loads its screen module on demand; a screen exports render(view, {me, params, query}).
const using = (name, fn) => () => import(`./screens/${name}.js`).then((m) => ({ render: (view, ctx) => m[fn](view, ctx) }));
const screen = (name) => using(name, 'render');

export const ROUTES = [
  { pattern: /^\/login(?:\/(staff|graduate|employer))?$/, load: screen('login'), public: true, redirectWhenLoggedIn: true },
  { pattern: /^\/activate$/, load: using('login', 'renderActivate'), public: true },
  { pattern: /^\/password$/, load: using('login', 'renderPassword') },
  { pattern: /^\/register$/, load: using('employer', 'renderRegister'), public: true },
  { pattern: /^\/home$/, load: screen('home') },
  { pattern: /^\/accounts$/, load: screen('accounts') },
  { pattern: /^\/settings$/, load: screen('settings') },
  { pattern: /^\/roster$/, load: screen('roster') },
  { pattern: /^\/signing\/(online|supplementary|terminations|destinations)(?:\?.*)?$/, load: screen('signing_lists') },
  { pattern: /^\/agreements\/([\w-]+)$/, load: using('signing_detail', 'renderAgreement') },
  { pattern: /^\/terminations\/([\w-]+)$/, load: using('signing_detail', 'renderTermination') },
  { pattern: /^\/destinations\/([\w-]+)$/, load: using('signing_detail', 'renderDestination') },
  { pattern: /^\/registrations\/(archive|hukou)(?:\?.*)?$/, load: screen('registrations') },
  { pattern: /^\/registrations\/(archive|hukou)\/([\w-]+)$/, load: using('registrations', 'renderDetail') },
  { pattern: /^\/stats$/, load: screen('stats') },
  { pattern: /^\/sync$/, load: using('stats', 'renderSync') },
  { pattern: /^\/me$/, load: screen('graduate') },
  { pattern: /^\/me\/agreements$/, load: using('graduate', 'renderAgreements') },
  { pattern: /^\/me\/destination$/, load: using('graduate', 'renderDestination') },
  { pattern: /^\/me\/(archive|hukou)$/, load: using('graduate', 'renderRegistration') },
  { pattern: /^\/employer$/, load: screen('employer') },
  { pattern: /^\/employer\/invite$/, load: using('employer', 'renderInvite') },
  { pattern: /^\/employer\/agreements$/, load: using('employer', 'renderAgreements') },
];
