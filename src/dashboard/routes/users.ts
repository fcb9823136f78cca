// Users page (admin): list, create, change role or password, remove. Each
// change is audited with the user's state before and after (never the
// password or its hash), and live sessions follow it.
import { ROUTES, type OkResponse, type UserResponse, type UsersResponse } from '../api-types.js';
import { writeAudit } from '../audit.js';
import { UserStoreError, validateUserName } from '../auth/user-store.js';
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

export function register(router: Router, { storage, users, sessions }: DashboardDeps): void {
  const audit = (ctx: RouteContext, action: string, subject: string, before: unknown, after: unknown): Promise<void> => {
    const p = ctx.principal as Principal;
    return writeAudit(storage, { actor: p.name, role: p.role, action, subject_type: 'user', subject, before, after, client_ip: ctx.req.remoteIp, request_id: ctx.req.requestId });
  };

  router.add(ROUTES.users, async (): Promise<UsersResponse> => ({ items: await users.list() }));

  router.add(ROUTES.userCreate, async (ctx): Promise<UserResponse> => {
    const body = jsonBody(ctx.req.body);
    const user = await storeCall(() => users.add(body.name as string, body.role as never, body.password as string));
    await audit(ctx, 'user.add', user.name, null, { name: user.name, role: user.role });
    return { user };
  });

  router.add(ROUTES.userUpdate, async (ctx): Promise<UserResponse> => {
    const name = await storeCall(async () => validateUserName(ctx.req.params.name));
    const body = jsonBody(ctx.req.body);
    if (body.role === undefined && body.password === undefined) throw new HttpError('bad_request', 'body must change role or password', 'role');
    const { before, after } = await storeCall(() => users.update(name, { role: body.role as never, password: body.password as string | undefined }));
    const passwordChanged = body.password !== undefined;
    if (passwordChanged) sessions.updateUser(name, { remove: true });
    else sessions.updateUser(name, { role: after.role });
    await audit(ctx, passwordChanged ? 'user.passwd' : 'user.role', name, { name, role: before.role }, { name, role: after.role, ...(passwordChanged ? { password_changed: true } : {}) });
    return { user: after };
  });

  router.add(ROUTES.userDelete, async (ctx): Promise<OkResponse> => {
    const name = await storeCall(async () => validateUserName(ctx.req.params.name));
    if (name === ctx.principal?.name) throw new HttpError('bad_request', 'an admin cannot remove their own account', 'name');
    const before = await storeCall(() => users.remove(name));
    sessions.updateUser(name, { remove: true });
    await audit(ctx, 'user.remove', name, { name, role: before.role }, null);
    return { ok: true };
  });
}
