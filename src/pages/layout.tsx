import type { Child } from "hono/jsx";
import { raw } from "hono/html";

export interface LayoutProps {
  title: string;
  /** The signed-in user's email and CSRF token; absent on the login page. */
  session?: { email: string; csrf: string };
  current?: "hub" | "connection" | "workouts";
  nonce?: string;
  script?: string;
  children?: Child;
}

export function Layout(props: LayoutProps) {
  return (
    <>
      {/* Standards mode: without a doctype browsers lay the pages out in quirks mode. */}
      {raw("<!doctype html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${props.title} · VitalTrends`}</title>
          <link rel="stylesheet" href="/assets/app.css" />
        </head>
        <body>
          <header class="top">
            <a class="brand" href="/hevy">VitalTrends</a>
            {props.session && (
              <>
                <a href="/hevy" aria-current={props.current === "hub" ? "page" : undefined}>Hevy hub</a>
                <a href="/workouts" aria-current={props.current === "workouts" ? "page" : undefined}>Workouts</a>
                <a href="/connections/hevy" aria-current={props.current === "connection" ? "page" : undefined}>Connections → Hevy</a>
                <form method="post" action="/logout">
                  <input type="hidden" name="_csrf" value={props.session.csrf} />
                  <button type="submit" title={props.session.email}>Log out</button>
                </form>
              </>
            )}
          </header>
          <main>
            <h1>{props.title}</h1>
            {props.children}
          </main>
          {props.script && <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: props.script }} />}
        </body>
      </html>
    </>
  );
}

export const CsrfField = (props: { csrf: string }) => <input type="hidden" name="_csrf" value={props.csrf} />;

/**
 * A table too wide for a phone scrolls sideways inside this box; it is a named region that takes
 * keyboard focus, so the hidden columns can be scrolled to without a mouse (axe: scrollable-region-focusable).
 */
export function TableWrap(props: { label: string; class?: string; children?: Child }) {
  return (
    <div class={props.class ? `table-wrap ${props.class}` : "table-wrap"} tabindex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}
