import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/lib/crypto";
import { ADMIN_TOKEN, createUser, expectProblem, useTestContext } from "./helpers";

describe("POST /admin/v1/users", () => {
  const t = useTestContext();

  it("creates a user and shows the token once, storing only its SHA-256 digest", async () => {
    const res = await t.request("/admin/v1/users", {
      method: "POST",
      token: ADMIN_TOKEN,
      json: { email: "Ada@Example.com", timezone: "Europe/Berlin" },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { user: { id: string; email: string; timezone: string }; api_token: string };
    expect(body.user).toEqual({ id: expect.any(String), email: "ada@example.com", timezone: "Europe/Berlin" });
    expect(body.api_token).toMatch(/^vt_[A-Za-z0-9_-]{43}$/);

    const rows = await env.DB.prepare("SELECT token_digest FROM api_tokens WHERE user_id = ?").bind(body.user.id).all();
    expect(rows.results).toEqual([{ token_digest: await sha256Hex(body.api_token) }]);
    const dump = JSON.stringify((await env.DB.prepare("SELECT * FROM api_tokens").all()).results);
    expect(dump).not.toContain(body.api_token.slice(3));
  });

  it("stores the time zone in its canonical spelling", async () => {
    const res = await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json: { email: "tz@example.com", timezone: "europe/berlin" } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { user: { timezone: string } }).user.timezone).toBe("Europe/Berlin");
  });

  it("defaults the time zone to UTC", async () => {
    const res = await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json: { email: "utc@example.com" } });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { user: { timezone: string } }).user.timezone).toBe("UTC");
  });

  it("refuses a missing or wrong admin token", async () => {
    const json = { email: "x@example.com" };
    await expectProblem(await t.request("/admin/v1/users", { method: "POST", json }), 401, "unauthorized");
    await expectProblem(await t.request("/admin/v1/users", { method: "POST", json, token: `${ADMIN_TOKEN}x` }), 401, "unauthorized");
    const user = await createUser(t);
    await expectProblem(await t.request("/admin/v1/users", { method: "POST", json, token: user.token }), 401, "unauthorized");
  });

  it("lists every bad field", async () => {
    const res = await t.request("/admin/v1/users", {
      method: "POST",
      token: ADMIN_TOKEN,
      json: { email: "not-an-email", timezone: "Mars/Olympus", extra: 1 },
    });
    const problem = await expectProblem(res, 400, "validation_failed");
    const paths = problem.errors!.map((e) => e.path).sort();
    expect(paths).toEqual(["", "email", "timezone"]);
    expect(problem.errors!.find((e) => e.path === "")!.message).toContain("extra");
  });

  it("refuses a duplicate email with 409", async () => {
    const json = { email: "dup@example.com" };
    expect((await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json })).status).toBe(201);
    await expectProblem(await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, json }), 409, "email_taken");
  });

  it("answers 415 to a body that is not JSON and 400 to malformed JSON", async () => {
    await expectProblem(
      await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, body: "email=a@b.c", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, body: '{"email":', headers: { "content-type": "application/json" } }),
      400,
      "invalid_json",
    );
  });

  it("answers 413 to a body over 1 MiB", async () => {
    const big = JSON.stringify({ email: "big@example.com", padding: "x".repeat(1024 * 1024) });
    await expectProblem(
      await t.request("/admin/v1/users", { method: "POST", token: ADMIN_TOKEN, body: big, headers: { "content-type": "application/json" } }),
      413,
      "payload_too_large",
    );
  });
});

describe("API auth and errors", () => {
  const t = useTestContext();

  it("requires a bearer token on every /api/v1 route", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/connections/hevy"],
      ["PUT", "/api/v1/connections/hevy"],
      ["DELETE", "/api/v1/connections/hevy"],
      ["POST", "/api/v1/connections/hevy/sync"],
      ["POST", "/api/v1/connections/hevy/webhook-secret"],
    ] as const) {
      const res = await t.request(path, { method });
      await expectProblem(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      await expectProblem(await t.request(path, { method, headers: { authorization: "Basic abc" } }), 401, "unauthorized");
      await expectProblem(await t.request(path, { method, token: "vt_unknown" }), 401, "unauthorized");
    }
  });

  it("refuses a revoked token", async () => {
    const user = await createUser(t);
    expect((await t.request("/api/v1/connections/hevy", { token: user.token })).status).toBe(404);
    await env.DB.prepare("UPDATE api_tokens SET revoked_at = 1 WHERE user_id = ?").bind(user.id).run();
    await expectProblem(await t.request("/api/v1/connections/hevy", { token: user.token }), 401, "unauthorized");
  });

  it("answers unknown routes with a problem+json 404 carrying a request id", async () => {
    const res = await t.request("/nope");
    const problem = await expectProblem(res, 404, "not_found");
    expect(problem.request_id).toBe(res.headers.get("x-request-id"));
  });

  it("answers a known path with a wrong method with 405 and Allow", async () => {
    const res = await t.request("/admin/v1/users", { method: "GET", token: ADMIN_TOKEN });
    await expectProblem(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
    const user = await createUser(t);
    const res2 = await t.request("/api/v1/connections/hevy", { method: "PATCH", token: user.token });
    await expectProblem(res2, 405, "method_not_allowed");
    expect(res2.headers.get("allow")).toBe("DELETE, GET, HEAD, PUT");
  });

  it("is wired the same through the deployed entry point", async () => {
    const res = await exports.default.fetch("https://vitaltrends.test/api/v1/connections/hevy");
    await expectProblem(res, 401, "unauthorized");
  });
});
