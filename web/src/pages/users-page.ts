// Users (admin): the dashboard's local accounts, their roles, creating one,
// changing a role or a password, removing one. Each change is audited by
// the server.
import { html } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, enc } from '../api/client.js';
import { fmtTime } from '../format.js';
import { PageElement, errorText } from './page-base.js';
import { ROLES, type CreateUserRequest, type OkResponse, type Role, type UserInfo, type UserResponse, type UsersResponse } from '../../../src/dashboard/api-types.js';

@customElement('ja4-users-page')
export class Ja4UsersPage extends PageElement {
  @state() private users: UserInfo[] = [];
  @state() private message = '';

  protected async load(signal: AbortSignal): Promise<void> {
    this.users = (await api.get<UsersResponse>('/api/users', {}, signal)).items;
  }

  async #act(what: () => Promise<unknown>, done: string): Promise<void> {
    this.message = '';
    this.error = '';
    try {
      await what();
      this.message = done;
      await this.reload();
    } catch (err) {
      this.error = errorText(err);
    }
  }

  #create(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const req: CreateUserRequest = { name: String(data.get('name') ?? '').trim(), role: String(data.get('role')) as Role, password: String(data.get('password') ?? '') };
    void this.#act(async () => {
      await api.post<UserResponse>('/api/users', req);
      form.reset();
    }, `User ${req.name} created.`);
  }

  #setPassword(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '');
    const password = String(data.get('password') ?? '');
    void this.#act(async () => {
      await api.patch<UserResponse>(`/api/users/${enc(name)}`, { password });
      form.reset();
    }, `Password of ${name} changed.`);
  }

  #setRole(u: UserInfo, role: Role): void {
    void this.#act(() => api.patch<UserResponse>(`/api/users/${enc(u.name)}`, { role }), `${u.name} is now ${role}.`);
  }

  #remove(u: UserInfo): void {
    if (!confirm(`Remove user ${u.name}?`)) return;
    void this.#act(() => api.delete<OkResponse>(`/api/users/${enc(u.name)}`), `User ${u.name} removed.`);
  }

  override render() {
    const me = api.session?.user.name;
    return html`<h1>Users</h1>
      ${this.renderStatus()} ${this.message ? html`<p role="status">${this.message}</p>` : ''}
      <div class="grid">
        <section class="card wide">
          <ja4-table
            caption="Dashboard users"
            client-sort
            .rows=${this.users}
            .columns=${[
              { key: 'name', label: 'Name', sortable: true },
              {
                key: 'role',
                label: 'Role',
                sortable: true,
                render: (u: UserInfo) =>
                  html`<select aria-label=${`role of ${u.name}`} ?disabled=${u.name === me} @change=${(e: Event) => this.#setRole(u, (e.target as HTMLSelectElement).value as Role)}>
                    ${ROLES.map((r) => html`<option value=${r} ?selected=${r === u.role}>${r}</option>`)}
                  </select>`,
              },
              { key: 'created_at', label: 'Created', render: (u: UserInfo) => fmtTime(u.created_at) },
              { key: 'updated_at', label: 'Updated', render: (u: UserInfo) => fmtTime(u.updated_at) },
              {
                key: 'actions',
                label: '',
                render: (u: UserInfo) => html`<button ?disabled=${u.name === me} @click=${() => this.#remove(u)}>Remove</button>`,
              },
            ]}
          ></ja4-table>
        </section>
        <section class="card">
          <h2>Add a user</h2>
          <form class="toolbar" @submit=${(e: SubmitEvent) => this.#create(e)}>
            <label>Name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._@\\-]{0,63}" title="letters, digits and . _ @ -, up to 64" autocomplete="off" /></label>
            <label
              >Role
              <select name="role" aria-label="role of the new user">
                ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
              </select></label
            >
            <label>Password (12+ characters) <input name="password" type="password" minlength="12" required autocomplete="new-password" /></label>
            <button class="primary" type="submit">Add</button>
          </form>
        </section>
        <section class="card">
          <h2>Set a password</h2>
          <form class="toolbar" @submit=${(e: SubmitEvent) => this.#setPassword(e)}>
            <label
              >User
              <select name="name" required aria-label="user whose password to set">
                ${this.users.map((u) => html`<option value=${u.name}>${u.name}</option>`)}
              </select></label
            >
            <label>New password (12+ characters) <input name="password" type="password" minlength="12" required autocomplete="new-password" /></label>
            <button class="primary" type="submit">Set</button>
          </form>
        </section>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ja4-users-page': Ja4UsersPage;
  }
}
