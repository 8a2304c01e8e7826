// Who is logged in and what they may do, from the account accounts answers at /me.
import { session } from './api.js';

export const STAFF_ROLES = ['admin', 'province', 'school', 'department'];

export function currentUser() {
  const stored = session.load();
  return stored && stored.me ? stored.me : null;
}

// The permission of a school or department user on a module: 'write', 'read' or 'none'.
// Province and admin users read every module of their scope (they review nothing).
export function access(me, module) {
  if (!me) return 'none';
  if (me.role === 'province' || me.role === 'admin') return 'read';
  if (me.role === 'school' || me.role === 'department') return (me.permissions || {})[module] || 'none';
  return 'none';
}

export const canRead = (me, module) => access(me, module) !== 'none';
export const canWrite = (me, module) => access(me, module) === 'write';

// The review level of a user ('department' or 'school'), or null for a user who does not review.
export function reviewLevel(me) {
  return me && (me.role === 'school' || me.role === 'department') ? me.role : null;
}

export const schoolOf = (me) => (me && me.scope ? me.scope.school : null);
export const provinceOf = (me) => (me && me.scope ? me.scope.province : null);
