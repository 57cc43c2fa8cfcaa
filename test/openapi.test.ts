import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { apiDocument, checkContract, operationOf } from "./api-contract";
import { createUser, useTestContext } from "./helpers";

// SPEC §14: GET /api/v1/openapi.json, generated from the routes' own schemas, covers every
// /api/v1 and /admin/v1 route; the contract check every API test goes through is not vacuous.

const toTemplate = (honoPath: string) => honoPath.replace(/:([A-Za-z_]+)/g, "{$1}");

describe("GET /api/v1/openapi.json", () => {
  const t = useTestContext();

  it("is an OpenAPI 3.1 document served without a token", async () => {
    const res = await t.request("/api/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = (await res.json()) as { openapi: string; info: { title: string }; components: { securitySchemes: object } };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("VitalTrends Hevy API");
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "apiToken"]);
  });

  it("documents every /api/v1 and /admin/v1 route the app registers, and nothing else", async () => {
    const doc = await apiDocument();
    const registered = createApp()
      .routes.filter((r) => r.method !== "ALL" && /^\/(api|admin)\/v1\//.test(r.path) && r.path !== "/api/v1/openapi.json")
      .map((r) => `${r.method} ${toTemplate(r.path)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(registered.length).toBeGreaterThan(20);
    expect(documented.sort()).toEqual([...new Set(registered)].sort());
  });

  it("gives every operation its parameters, its security, and problem+json answers for its errors", async () => {
    const doc = (await apiDocument()) as unknown as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }>; security: Array<Record<string, unknown>>; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> }>>;
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        expect(op.parameters?.filter((p) => p.in === "path").map((p) => p.name).sort() ?? [], where).toEqual(params.sort());
        const scheme = path.startsWith("/admin/") ? "adminToken" : "apiToken";
        expect(op.security, where).toEqual([{ [scheme]: [] }]);
        const statuses = Object.keys(op.responses);
        expect(statuses.some((s) => s.startsWith("2")), where).toBe(true);
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          expect(Object.keys(op.responses[status]!.content ?? {}), `${where} ${status}`).toEqual(["application/problem+json"]);
        }
        expect(statuses, where).toContain("401");
        if (scheme === "apiToken") {
          expect(statuses, where).toContain("429");
          expect(op.responses["429"]!.headers, where).toHaveProperty("retry-after");
        }
      }
    }
  });

  it("describes request parts with the validators' own rules (limits, enums, bounds)", async () => {
    const doc = (await apiDocument()) as unknown as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; schema: Record<string, unknown> }>; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>> };
    const unified = doc.paths["/api/v1/workouts/unified"]!.get!;
    expect(unified.parameters?.map((p) => p.name).sort()).toEqual(["cursor", "from", "limit", "source", "to"]);
    expect(unified.parameters?.find((p) => p.name === "source")?.schema).toMatchObject({ enum: ["hevy", "apple_health", "whoop", "oura", "strava"] });
    const recovery = doc.paths["/api/v1/recovery/{source}"]!.put!;
    const items = recovery.requestBody!.content["application/json"]!.schema as { properties: { items: { items: { properties: { score: object } } } } };
    expect(items.properties.items.items.properties.score).toMatchObject({ minimum: 0, maximum: 100 });
    // Query strings are strings: their bounds are said in words next to the pattern that checks them.
    expect(JSON.stringify(unified.parameters?.find((p) => p.name === "limit"))).toContain("an integer from 1 to 100; default 20");
    const summary = doc.paths["/api/v1/hevy/summary"]!.get!;
    expect(JSON.stringify(summary.parameters?.find((p) => p.name === "weeks"))).toContain("an integer from 1 to 104; default 12");
  });
});

describe("the contract check", () => {
  const t = useTestContext();
  const url = "https://vitaltrends.test/api/v1/workouts/hevy/abc";
  const json = (body: unknown, status = 200, type = "application/json") => new Response(JSON.stringify(body), { status, headers: { "content-type": type } });

  it("refuses a body that breaks its schema, an undocumented status, and a wrong media type", async () => {
    await expect(checkContract("GET", url, json({ id: "abc" }))).rejects.toThrow(/body does not match its schema/);
    await expect(checkContract("GET", url, json({}, 418))).rejects.toThrow(/is not a documented answer/);
    await expect(checkContract("GET", url, json({ type: "x" }, 404))).rejects.toThrow(/answered application\/json, documented application\/problem\+json/);
    await expect(checkContract("GET", url, json({ type: "urn:x", title: "Not found", status: 404, detail: "d", code: "not_found", request_id: "r", extra: 1 }, 404, "application/problem+json")))
      .rejects.toThrow(/body does not match its schema/);
  });

  it("accepts what the Worker really answers, and matches literal paths before templates", async () => {
    const user = await createUser(t);
    const res = await t.request("/api/v1/workouts/hevy?limit=1", { token: user.token }); // checked inside t.request
    expect(res.status).toBe(200);
    const doc = await apiDocument();
    expect(operationOf(doc, "POST", "/admin/v1/users/move-legacy")?.template).toBe("/admin/v1/users/move-legacy");
    expect(operationOf(doc, "POST", "/admin/v1/users/u-1/move")?.template).toBe("/admin/v1/users/{id}/move");
  });
});
