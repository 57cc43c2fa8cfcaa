import { Layout } from "./layout";

export function LoginPage(props: { csrf: string; error?: string }) {
  return (
    <Layout title="Log in">
      <div class="card">
        <form method="post" action="/login">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="off" placeholder="vt_…" required />
          {props.error && <p class="error" role="alert">{props.error}</p>}
          <div class="row">
            <button type="submit">Log in</button>
          </div>
          <p class="muted">Your VitalTrends API token (it starts with <code>vt_</code>). The session keeps only a sealed reference to it.</p>
        </form>
      </div>
    </Layout>
  );
}
