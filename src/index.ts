import { createApp } from "./app";
import { fanOutDeltas } from "./cron";
import { createDeps } from "./deps";
import type { Env } from "./env";
import { handleQueueBatch } from "./queue/consumer";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueueBatch(batch, env),
  scheduled: async (_controller, env) => {
    await fanOutDeltas(await createDeps(env));
  },
} satisfies ExportedHandler<Env, unknown>;
