import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { callWorker, createUser, type TestUser, useTestContext } from "./helpers";

// Reads through D1 Sessions, writes answering X-VT-Bookmark (SPEC §12). Locally every session
// reads the one SQLite database, so there is no replica lag to observe; what is observable is the
// session each request opens (recorded through the wrapD1 hook) and the bookmark round trip.

/** An app whose databases record every withSession constraint asked of them. */
function recordingApp() {
  const constraints: Array<string | undefined> = [];
  const wrapD1 = (d1: D1Database): D1Database =>
    new Proxy(d1, {
      get(target, prop, receiver) {
        if (prop === "withSession") {
          return (constraint?: string) => {
            constraints.push(constraint);
            return target.withSession(constraint);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { app: createApp({ deps: { wrapD1 } }), constraints };
}

async function call(app: ReturnType<typeof createApp>, user: TestUser, path: string, init: RequestInit & { json?: unknown } = {}) {
  return callWorker(env, path, { ...init, token: user.token, app });
}

describe("D1 Sessions and X-VT-Bookmark", () => {
  const t = useTestContext();

  it("a write starts at the primary and answers its bookmark; a read carrying it opens its session there and sees the write", async () => {
    const user = await createUser(t);
    const { app, constraints } = recordingApp();
    const write = await call(app, user, "/api/v1/recovery/whoop", { method: "PUT", json: { items: [{ date: "2026-11-20", score: 66 }] } });
    expect(write.status).toBe(200);
    const bookmark = write.headers.get("x-vt-bookmark");
    expect(bookmark).toBeTruthy();
    expect(constraints.at(-1)).toBe("first-primary");

    // Answered as "<the user's shard>~<D1's bookmark>"; the session opens at D1's.
    const [shard, d1Bookmark] = bookmark!.split("~");
    expect(shard).toBe(String((await env.DB.prepare("SELECT shard FROM users WHERE id = ?").bind(user.id).first<{ shard: number }>())!.shard));
    const read = await call(app, user, "/api/v1/hevy/summary?weeks=1", { headers: { "x-vt-bookmark": bookmark! } });
    expect(read.status).toBe(200);
    expect(constraints.at(-1)).toBe(d1Bookmark);
    expect(read.headers.get("x-vt-bookmark")).toBeTruthy();
    // Without a bookmark a read may take any copy.
    expect((await call(app, user, "/api/v1/hevy/prs")).status).toBe(200);
    expect(constraints.at(-1)).toBe("first-unconstrained");
  });

  it("a bookmark that cannot be one is not used, and never turns a read into a 500", async () => {
    const user = await createUser(t);
    const { app, constraints } = recordingApp();
    for (const junk of ["x".repeat(300), "not a bookmark!", "'; DROP TABLE users; --"]) {
      const res = await call(app, user, "/api/v1/hevy/prs", { headers: { "x-vt-bookmark": junk } });
      expect(res.status, junk).toBe(200);
      expect(constraints.at(-1)).toBe("first-unconstrained");
    }
    // A real bookmark, but another database's (another shard's user, or before a move).
    const other = await createUser(t); // placed on the other shard
    const foreign = (await call(app, other, "/api/v1/recovery/oura", { method: "PUT", json: { items: [{ date: "2026-11-20", score: 70 }] } })).headers.get("x-vt-bookmark");
    expect(foreign!.split("~")[0]).not.toBe(((await call(app, user, "/api/v1/hevy/prs")).headers.get("x-vt-bookmark") ?? "").split("~")[0]);
    const res = await call(app, user, "/api/v1/hevy/prs", { headers: { "x-vt-bookmark": foreign! } });
    expect(res.status).toBe(200);
    expect(constraints.at(-1)).toBe("first-unconstrained"); // another database's bookmark is not used here
  });
});
