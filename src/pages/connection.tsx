import type { ConnectionView } from "../services/connections";
import type { ExportView } from "../services/exports";
import { formatAgo, formatDateTime } from "./format";
import { CsrfField, Layout } from "./layout";

export interface ConnectionPageProps {
  email: string;
  csrf: string;
  nonce: string;
  view: ConnectionView | null;
  /** The user's zone and the time now: when the last sync was, for people. */
  timezone: string;
  now: number;
  error?: string;
  notice?: string;
  latestExport: ExportView | null;
}

export const exportDownloadPath = (id: string) => `/connections/hevy/exports/${id}/download`;

function ExportCard(props: { csrf: string; latest: ExportView | null }) {
  const e = props.latest;
  return (
    <div class="card" id="export" data-export-id={e?.id ?? ""} data-export-status={e?.status ?? ""}>
      <h2>Export CSV</h2>
      <p class="muted">Every set of every workout, one row each, as a CSV file you can open in a spreadsheet.</p>
      <p data-export-line hidden={!e}>
        Latest export: <strong data-export-state>{e?.status ?? ""}</strong>
        <span data-export-size>{e && e.status === "done" ? ` · ${e.row_count} rows · ${Math.ceil(e.size_bytes / 1024)} KiB` : ""}</span>
        {e?.error ? <span class="error">{e.error}</span> : null}
      </p>
      <p>
        <a class="button" data-export-download href={e ? exportDownloadPath(e.id) : "#"} hidden={e?.status !== "done"}>
          Download CSV
        </a>
      </p>
      <div class="row">
        <Action csrf={props.csrf} action="export" label="Export CSV" kind="secondary" />
      </div>
    </div>
  );
}

const statusBadge = (status: ConnectionView["status"]) =>
  status === "active" ? <span class="badge ok">active</span> : <span class="badge bad">needs a new key</span>;

const webhookBadge = (status: ConnectionView["webhook"]["status"]) =>
  status === "subscribed" ? (
    <span class="badge ok">subscribed</span>
  ) : status === "failed" ? (
    <span class="badge warn">failed, retried hourly</span>
  ) : (
    <span class="badge warn">unavailable — hourly sync only</span>
  );

function KeyForm(props: { csrf: string; label: string }) {
  return (
    <form method="post" action="/connections/hevy">
      <CsrfField csrf={props.csrf} />
      <input type="hidden" name="action" value="connect" />
      <label for="api_key">Hevy API key</label>
      <input id="api_key" name="api_key" type="text" autocomplete="off" spellcheck={false} placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" required />
      <p class="muted">In the Hevy app: Settings → Developer (needs Hevy Pro). Paste the key and save.</p>
      <div class="row">
        <button type="submit">{props.label}</button>
      </div>
    </form>
  );
}

function Action(props: { csrf: string; action: string; label: string; kind?: string; children?: unknown }) {
  return (
    <form method="post" action="/connections/hevy">
      <CsrfField csrf={props.csrf} />
      <input type="hidden" name="action" value={props.action} />
      {props.children}
      <button type="submit" class={props.kind}>{props.label}</button>
    </form>
  );
}

/** Polls the connection while a backfill runs and updates the progress in place. */
export const PROGRESS_SCRIPT = `
(function () {
  var box = document.getElementById("backfill");
  if (!box) return;
  function ago(iso) {
    if (!iso) return "not yet";
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return "just now";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    var d = Math.floor(s / 86400);
    return d === 1 ? "1 day ago" : d + " days ago";
  }
  function render(v) {
    var b = v.backfill;
    box.querySelector("[data-state]").textContent = b.state;
    var bar = box.querySelector("progress");
    if (b.page_count) { bar.max = b.page_count; bar.value = b.pages_done; } else { bar.removeAttribute("value"); }
    box.querySelector("[data-synced]").textContent = String(b.workouts_synced);
    box.querySelector("[data-pages]").textContent = b.page_count === null ? "…" : b.pages_done + " / " + b.page_count;
    var err = document.getElementById("last-error");
    if (err) { err.textContent = v.last_error || ""; err.hidden = !v.last_error; }
    var sync = document.querySelector("[data-last-sync]");
    if (sync) {
      // As the page renders it (src/pages/format.ts formatAgo), the exact time on hover.
      sync.textContent = ago(v.last_sync_at);
      if (v.last_sync_at) {
        sync.setAttribute("datetime", v.last_sync_at);
        sync.title = new Date(v.last_sync_at).toLocaleString("en-US", { timeZone: sync.getAttribute("data-zone") || "UTC", timeZoneName: "short" });
      }
    }
    var e = v.latest_export, card = document.getElementById("export");
    var exporting = false;
    if (e && card) {
      card.querySelector("[data-export-line]").hidden = false;
      card.querySelector("[data-export-state]").textContent = e.status;
      card.querySelector("[data-export-size]").textContent = e.status === "done" ? " · " + e.row_count + " rows · " + Math.ceil(e.size_bytes / 1024) + " KiB" : "";
      var link = card.querySelector("[data-export-download]");
      link.href = "/connections/hevy/exports/" + e.id + "/download";
      link.hidden = e.status !== "done";
      exporting = e.status === "queued" || e.status === "running";
    }
    return b.state === "queued" || b.state === "running" || exporting;
  }
  function poll() {
    fetch("/connections/hevy/status", { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) { if (v && render(v)) setTimeout(poll, 1500); })
      .catch(function () { setTimeout(poll, 5000); });
  }
  var card = document.getElementById("export");
  var exporting = card && (card.dataset.exportStatus === "queued" || card.dataset.exportStatus === "running");
  if (box.dataset.active === "true" || exporting) setTimeout(poll, 1000);
})();
`;

export function ConnectionPage(props: ConnectionPageProps) {
  const v = props.view;
  const active = v ? v.backfill.state === "queued" || v.backfill.state === "running" : false;
  return (
    <Layout title="Connections → Hevy" session={{ email: props.email, csrf: props.csrf }} current="connection" nonce={props.nonce} script={PROGRESS_SCRIPT}>
      {props.error && <p class="error" role="alert">{props.error}</p>}
      {props.notice && <p class="notice" role="status">{props.notice}</p>}
      {!v ? (
        <div class="card">
          <h2>Connect Hevy</h2>
          <KeyForm csrf={props.csrf} label="Save and connect" />
        </div>
      ) : (
        <>
          <div class="card">
            <h2>
              Hevy — {v.hevy_user.name} {statusBadge(v.status)}
            </h2>
            {v.status === "needs_reconnect" && (
              <div class="notice" role="alert">
                Hevy no longer accepts the stored key. Your workouts are kept; paste a new key to resume syncing.
                <KeyForm csrf={props.csrf} label="Replace key" />
              </div>
            )}
            <div id="backfill" data-active={String(active)}>
              <p>
                History: <strong data-state>{v.backfill.state}</strong> · pages <span data-pages>{v.backfill.page_count === null ? "…" : `${v.backfill.pages_done} / ${v.backfill.page_count}`}</span> ·{" "}
                <span data-synced>{v.backfill.workouts_synced}</span> workouts
              </p>
              <progress max={v.backfill.page_count ?? undefined} value={v.backfill.page_count ? v.backfill.pages_done : undefined} />
            </div>
            <p class="muted">
              Last sync:{" "}
              {v.last_sync_at ? (
                <time data-last-sync data-zone={props.timezone} datetime={v.last_sync_at} title={formatDateTime(v.last_sync_at, props.timezone)}>
                  {formatAgo(v.last_sync_at, props.now)}
                </time>
              ) : (
                <time data-last-sync data-zone={props.timezone}>not yet</time>
              )}
            </p>
            <p class="error" id="last-error" hidden={!v.last_error}>{v.last_error ?? ""}</p>
            <div class="row">
              <Action csrf={props.csrf} action="sync" label="Sync now" kind="secondary" />
            </div>
          </div>
          <div class="card">
            <h2>Webhook {webhookBadge(v.webhook.status)}</h2>
            <p class="muted">Hevy calls this address when you log a workout, so it shows up within seconds. Rotate it if it leaked.</p>
            {v.webhook.url && (
              <details>
                <summary>Show webhook address</summary>
                <code>{v.webhook.url}</code>
              </details>
            )}
            <div class="row">
              <Action csrf={props.csrf} action="rotate" label="Rotate secret" kind="secondary" />
            </div>
          </div>
          <ExportCard csrf={props.csrf} latest={props.latestExport} />
          {v.status === "active" && (
            <div class="card">
              <h2>Replace the API key</h2>
              <KeyForm csrf={props.csrf} label="Save new key" />
            </div>
          )}
          <div class="card">
            <h2>Disconnect</h2>
            <Action csrf={props.csrf} action="disconnect" label="Disconnect Hevy" kind="danger">
              <p>
                <label class="plain">
                  <input type="checkbox" name="purge" value="true" /> Also delete my Hevy workouts from VitalTrends
                </label>
              </p>
            </Action>
          </div>
        </>
      )}
    </Layout>
  );
}
