import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { instrumentD1, newD1Stats } from "../src/db/instrument";
import { callWorker, createUser, expectProblem, useTestContext, type TestUser } from "./helpers";
import { recovery, store, template, uniqueId, workout, type SummaryBody } from "./metrics-fixtures";

const ROUTES = ["/summary", "/trends", "/prs", "/muscle-groups", "/sessions/latest/recovery"];

describe("GET /api/v1/hevy/* (auth, validation, cost)", () => {
  const t = useTestContext();

  it("needs an API token on every route", async () => {
    for (const route of ROUTES) {
      await expectProblem(await t.request(`/api/v1/hevy${route}`), 401, "unauthorized");
      await expectProblem(await t.request(`/api/v1/hevy${route}`, { token: "vt_not-a-token" }), 401, "unauthorized");
    }
  });

  it("answers bad parameters with 400 naming the parameter, and other methods with 405", async () => {
    const user = await createUser(t);
    const post = await t.request("/api/v1/hevy/summary", { method: "POST", token: user.token, json: {} });
    await expectProblem(post.clone(), 405, "method_not_allowed");
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const cases: Array<[string, string]> = [
      ["/summary?weeks=0", "weeks"],
      ["/summary?weeks=105", "weeks"],
      ["/summary?weeks=abc", "weeks"],
      ["/summary?weeks=1.5", "weeks"],
      ["/summary?weeks=-1", "weeks"],
      ["/summary?weeks=", "weeks"],
      ["/summary?weeks=3&weeks=4", "weeks"],
      ["/summary?limit=3", ""],
      ["/trends?weeks=999", "weeks"],
      ["/prs?weeks=3", ""],
      ["/muscle-groups?from=yesterday", "from"],
      ["/muscle-groups?from=2026-11-20&to=2026-11-19", "from"],
      ["/muscle-groups?to=2026-02-30", "to"],
      ["/sessions/latest/recovery?x=1", ""],
    ];
    for (const [query, path] of cases) {
      const problem = await expectProblem(await t.request(`/api/v1/hevy${query}`, { token: user.token }), 400, "validation_failed");
      expect(problem.errors?.map((e) => e.path), query).toContain(path);
    }
    for (const weeks of [1, 104]) {
      const res = await t.request(`/api/v1/hevy/summary?weeks=${weeks}`, { token: user.token });
      expect(res.status).toBe(200);
      expect(((await res.json()) as SummaryBody).weeks).toHaveLength(weeks);
    }
  });

  it("costs the same D1 round trips whatever the history size: the token lookup and one batch", async () => {
    const small = await createUser(t, "Europe/Berlin");
    const large = await createUser(t, "Europe/Berlin");
    const T = uniqueId("T");
    await template("", T, "Bench Press (Barbell)", "chest", ["triceps"]);
    const history = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        workout(`w${i}`, new Date(Date.parse("2026-01-05T17:00:00Z") + i * 86_400_000).toISOString(), 60, [
          { template: T, title: "Bench Press (Barbell)", sets: [["warmup", 40, 10], ["normal", 60 + (i % 7) * 2.5, 8 + (i % 3)]] },
          { template: null, title: "Plank", sets: [["normal", null, null]] },
        ]),
      );
    await store(small.id, history(2));
    for (let i = 0; i < 3; i++) await store(large.id, history(40 * (i + 1)).slice(40 * i));
    await recovery(large.id, "whoop", { "2026-05-10": 50, "2026-04-20": 60 });

    const count = async (user: TestUser) => {
      const stats = newD1Stats();
      // Every database (the directory's token lookup and the user's shard) counts into the same stats.
      const app = createApp({ deps: { wrapD1: (d1) => instrumentD1(d1, stats), now: () => Date.parse("2026-05-10T12:00:00Z") } });
      const res = await callWorker(t.env, "/api/v1/hevy/summary?weeks=104", { token: user.token, app });
      expect(res.status).toBe(200);
      return { stats, body: (await res.json()) as SummaryBody };
    };
    const a = await count(small);
    const b = await count(large);
    expect(a.body.totals.workouts).toBe(2);
    expect(b.body.totals.workouts).toBe(120);
    expect(b.stats).toEqual(a.stats);
    expect(a.stats).toEqual({ roundTrips: 2, statements: 6 }); // token lookup; one batch of five statements
  });
});
