// `ja4 user add|list|passwd|remove|token`: dashboard accounts and wall
// tokens. Passwords come from stdin or --password-file, never from argv
// (argv is visible to every user of the machine in ps). Every change is
// written to audit_logs as done by cli:<login name>, the row before the
// change: when it cannot be written the change is not made (exit 1).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { STORAGE_ARG_HELP, STORAGE_ARG_SPEC, migrationStatus, type Storage } from '../storage/index.js';
import { AuditUnavailableError, auditedPlan, type AuditLog } from '../dashboard/audit.js';
import { UserStore, UserStoreError, validateRole, type PlannedChange } from '../dashboard/auth/user-store.js';
import { MIN_PASSWORD_LENGTH } from '../dashboard/auth/password.js';
import type { Role } from '../dashboard/api-types.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC } from '../config/index.js';
import { CliError } from './cli-error.js';
import { withStorage } from './db-command.js';
import type { CliIO } from './output.js';

export const USER_HELP = `Usage: ja4 user <command> [options]

  add NAME --role viewer|analyst|admin [--password-file FILE]
                     create a dashboard user; the password (at least ${MIN_PASSWORD_LENGTH} characters)
                     is read from FILE or from stdin (first line), never from the command line
  list               list the users and their roles
  passwd NAME [--password-file FILE]
                     set a new password (stdin or FILE); the user's sessions end
  role NAME --role viewer|analyst|admin
                     change a user's role
  remove NAME        remove a user; their sessions end
  token --wall [--name NAME]
                     create a read-only token for a wall screen and print it once:
                     open http://HOST:8000/wall#token=TOKEN (in the fragment: browsers
                     never send it, so it stays out of proxy and web server logs)
  token --list       list the tokens (their ids, never the tokens)
  token --revoke ID  revoke a token by the id shown by --list

Roles: viewer (read), analyst (+ classify, audit trail), admin (+ users).

${STORAGE_ARG_HELP}${CONFIG_ARG_HELP}
Exit status: 0 on success, 1 when the database failed, 2 on bad usage.
`;

const FLAGS = {
  role: { type: 'string' },
  'password-file': { type: 'string' },
  wall: { type: 'boolean' },
  name: { type: 'string' },
  list: { type: 'boolean' },
  revoke: { type: 'string' },
} as const;

/** Where a password comes from when there is no --password-file (tests inject it). */
export type PasswordSource = () => Promise<string>;

export async function readStdinPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is shown; prefer --password-file or a pipe): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

const firstLine = (text: string): string => text.split(/\r?\n/)[0] ?? '';

async function password(values: { 'password-file'?: string }, stdin: PasswordSource): Promise<string> {
  const file = values['password-file'];
  if (file !== undefined) {
    try {
      return firstLine(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`--password-file "${file}" cannot be read: ${(err as Error).message}`);
    }
  }
  return firstLine(await stdin());
}

async function requireSchema(storage: Storage): Promise<void> {
  const status = await migrationStatus(storage);
  if (status.find((s) => s.name.startsWith('0013_'))?.state !== 'applied') {
    throw new CliError('the dashboard tables are missing: run "ja4 db migrate" first', 1);
  }
}

const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
};

function storeError(err: unknown): never {
  if (err instanceof UserStoreError) throw new CliError(`ja4 user: ${err.message}`, err.code === 'ERR_USER_INPUT' ? 2 : 1);
  if (err instanceof AuditUnavailableError) throw new CliError(`ja4 user: ${err.message}`, 1);
  throw err;
}

export async function runUserCommand(argv: string[], io: CliIO, stdin: PasswordSource = readStdinPassword): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(USER_HELP);
    return sub === undefined ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, ...FLAGS, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 user --help" for usage.`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USER_HELP);
    return 0;
  }
  const allowed: Record<string, (keyof typeof FLAGS)[]> = {
    add: ['role', 'password-file'],
    list: [],
    passwd: ['password-file'],
    role: ['role'],
    remove: [],
    token: ['wall', 'name', 'list', 'revoke'],
  };
  const flags = allowed[sub];
  if (!flags) throw new CliError(`ja4 user: unknown subcommand "${sub}"\n\n${USER_HELP}`);
  for (const f of Object.keys(FLAGS) as (keyof typeof FLAGS)[]) {
    if (values[f] !== undefined && !flags.includes(f)) throw new CliError(`--${f} is not an option of "ja4 user ${sub}"`);
  }
  const needsName = sub === 'add' || sub === 'passwd' || sub === 'role' || sub === 'remove';
  if (needsName && positionals.length !== 1) throw new CliError(`ja4 user ${sub}: give exactly one NAME`);
  if (!needsName && positionals.length > 0) throw new CliError(`ja4 user ${sub}: unexpected argument "${positionals[0]}"`);
  const name = positionals[0] ?? '';
  let role: Role | undefined;
  if (sub === 'add' || sub === 'role') {
    if (values.role === undefined) throw new CliError(`ja4 user ${sub}: --role is required (viewer, analyst or admin)`);
    try {
      role = validateRole(values.role, '--role');
    } catch (err) {
      storeError(err);
    }
  }
  if (sub === 'token' && [values.wall, values.list, values.revoke].filter((v) => v !== undefined).length !== 1) {
    throw new CliError('ja4 user token: give one of --wall, --list or --revoke ID');
  }
  // read the password before opening the database: a failing pipe must not leave half a change
  const secret = sub === 'add' || sub === 'passwd' ? await password(values, stdin) : undefined;

  return withStorage(`ja4 user ${sub}`, values, async (storage) => {
    await requireSchema(storage);
    const users = new UserStore(storage);
    const actor = cliActor();
    // a `.failed` row that cannot be written is reported here; the change's own error ends the command
    const log: AuditLog = { error: (msg, fields) => io.err(`ja4 user ${sub}: ${msg}${fields?.error ? `: ${String(fields.error)}` : ''}\n`) };
    /** The plan's audit row first, then the change (dashboard/audit.ts). */
    const audited = <R>(action: string, subject: string, plan: PlannedChange<unknown, unknown, R>, after?: unknown, subjectType = 'user'): Promise<R> =>
      auditedPlan(storage, { actor, role: 'admin', action, subject_type: subjectType, subject, after }, plan, log);
    try {
      switch (sub) {
        case 'add': {
          const u = await audited('user.add', name, await users.planAdd(name, role!, secret!));
          io.out(`user ${u.name} added (${u.role})\n`);
          return 0;
        }
        case 'list': {
          const list = await users.list();
          const w = Math.max(4, ...list.map((u) => u.name.length));
          io.out(`${'name'.padEnd(w)}  ${'role'.padEnd(7)}  created (UTC)\n`);
          for (const u of list) io.out(`${u.name.padEnd(w)}  ${u.role.padEnd(7)}  ${u.created_at}\n`);
          io.out(`${list.length} user${list.length === 1 ? '' : 's'}\n`);
          return 0;
        }
        case 'passwd': {
          const plan = await users.planUpdate(name, { password: secret! });
          await audited('user.passwd', name, plan, { ...plan.after, password_changed: true });
          io.out(`password of ${name} changed\n`);
          return 0;
        }
        case 'role': {
          const { before, after } = await audited('user.role', name, await users.planUpdate(name, { role }));
          io.out(`${name}: ${before.role} -> ${after.role}\n`);
          return 0;
        }
        case 'remove': {
          await audited('user.remove', name, await users.planRemove(name));
          io.out(`user ${name} removed\n`);
          return 0;
        }
        default: {
          if (values.list) {
            const tokens = await users.listTokens();
            for (const t of tokens) io.out(`${t.token_id}  ${t.name}  ${t.role}  ${t.created_at}\n`);
            io.out(`${tokens.length} token${tokens.length === 1 ? '' : 's'}\n`);
            return 0;
          }
          if (values.revoke !== undefined) {
            const plan = await users.planRevoke(values.revoke);
            if (!plan) throw new CliError(`ja4 user token: no token with id "${values.revoke}"`, 1);
            await audited('token.revoke', values.revoke, plan, plan.after, 'token');
            io.out(`token ${values.revoke} revoked\n`);
            return 0;
          }
          const plan = await users.planToken(values.name ?? 'wall');
          const { token, token_id } = await audited('token.add', plan.after.token_id, plan, plan.after, 'token');
          io.err(`read-only wall token ${token_id} created; it is shown only now:\n`);
          io.out(`${token}\n`);
          io.err(`open the wall at http://HOST:8000/wall#token=${token}\n`);
          return 0;
        }
      }
    } catch (err) {
      return storeError(err);
    }
  });
}
