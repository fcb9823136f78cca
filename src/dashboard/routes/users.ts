// Users page (admin): list, create, change role or password, remove. Each
// change is audited with the user's state before and after (never the
// password or its hash), its row written before the change (audit.ts),
// and live sessions follow it once it is made.
import { ROUTES, type OkResponse, type UserResponse, type UsersResponse } from '../api-types.js';
import { auditedPlan } from '../audit.js';
import { UserStoreError, validateUserName, type PlannedChange } from '../auth/user-store.js';
import type { DashboardDeps } from '../deps.js';
import { HttpError } from '../http/errors.js';
import { jsonBody } from '../http/params.js';
import type { Principal, RouteContext, Router } from '../router.js';

/** The store's input errors as API errors naming the field. */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UserStoreError) {
      const code = err.code === 'ERR_USER_EXISTS' ? 'conflict' : err.code === 'ERR_USER_NOT_FOUND' ? 'not_found' : 'bad_request';
      throw new HttpError(code, err.message, err.field);
    }
    throw err;
  }
}

export function register(router: Router, { storage, users, sessions, log }: DashboardDeps): void {
  /** The plan's audit row first, then the change (audit.ts: no change without its row). */
  const audited = <R>(ctx: RouteContext, action: string, subject: string, plan: PlannedChange<unknown, unknown, R>, after?: unknown): Promise<R> => {
    const p = ctx.principal as Principal;
    const record = { actor: p.name, role: p.role, action, subject_type: 'user', subject, after, client_ip: ctx.req.remoteIp, request_id: ctx.req.requestId };
    return storeCall(() => auditedPlan(storage, record, plan, log));
  };

  router.add(ROUTES.users, async (): Promise<UsersResponse> => ({ items: await users.list() }));

  router.add(ROUTES.userCreate, async (ctx): Promise<UserResponse> => {
    const body = jsonBody(ctx.req.body);
    const plan = await storeCall(() => users.planAdd(body.name as string, body.role as never, body.password as string));
    const user = await audited(ctx, 'user.add', plan.after.name, plan);
    return { user };
  });

  router.add(ROUTES.userUpdate, async (ctx): Promise<UserResponse> => {
    const name = await storeCall(async () => validateUserName(ctx.req.params.name));
    const body = jsonBody(ctx.req.body);
    if (body.role === undefined && body.password === undefined) throw new HttpError('bad_request', 'body must change role or password', 'role');
    const plan = await storeCall(() => users.planUpdate(name, { role: body.role as never, password: body.password as string | undefined }));
    const passwordChanged = body.password !== undefined;
    const { after } = await audited(ctx, passwordChanged ? 'user.passwd' : 'user.role', name, plan, { ...plan.after, ...(passwordChanged ? { password_changed: true } : {}) });
    if (passwordChanged) sessions.updateUser(name, { remove: true });
    else sessions.updateUser(name, { role: after.role });
    return { user: after };
  });

  router.add(ROUTES.userDelete, async (ctx): Promise<OkResponse> => {
    const name = await storeCall(async () => validateUserName(ctx.req.params.name));
    if (name === ctx.principal?.name) throw new HttpError('bad_request', 'an admin cannot remove their own account', 'name');
    const plan = await storeCall(() => users.planRemove(name));
    await audited(ctx, 'user.remove', name, plan);
    sessions.updateUser(name, { remove: true });
    return { ok: true };
  });
}
