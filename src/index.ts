import { createApp } from "./app";
import { fanOutDeltas, resumeBackfills } from "./cron";
import { createDeps } from "./deps";
import type { Env } from "./env";
import { handleQueueBatch } from "./queue/consumer";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueueBatch(batch, env),
  scheduled: async (_controller, env) => {
    const deps = await createDeps(env);
    await fanOutDeltas(deps);
    await resumeBackfills(deps);
  },
} satisfies ExportedHandler<Env, unknown>;
