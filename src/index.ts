import { createApp } from "./app";
import { fanOutDeltas, resumeBackfills } from "./cron";
import { createDeps, dataDatabases, forShard } from "./deps";
import type { Env } from "./env";
import { handleQueueBatch } from "./queue/consumer";
import { reencryptEnvelopes } from "./services/key-rotation";
import { queueRollupRebuilds } from "./services/metrics/rollup-rebuild";
import { maintainWebhooks } from "./services/webhook-maintenance";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: (batch, env) => handleQueueBatch(batch, env),
  scheduled: async (_controller, env) => {
    const deps = await createDeps(env);
    const steps = { fanOutDeltas, resumeBackfills, reencryptEnvelopes, queueRollupRebuilds, maintainWebhooks };
    // Per database that holds users' rows (each shard, and the directory for users placed before
    // sharding: SPEC §12, the cron fans out per shard), every step. Independent: one failing (D1
    // hiccup, queue down) must not cost the others their run.
    let failed: unknown;
    for (const { shard } of dataDatabases(deps)) {
      const shardDeps = forShard(deps, shard);
      for (const [step, run] of Object.entries(steps)) {
        try {
          await run(shardDeps);
        } catch (err) {
          failed ??= err;
          const e = err instanceof Error ? err : new Error(String(err));
          console.error(JSON.stringify({ level: "error", msg: "cron step failed", step, shard, error: e.name, message: e.message.slice(0, 300) }));
        }
      }
    }
    // Still reported to the runtime as a failed invocation, after every step had its turn.
    if (failed !== undefined) throw failed;
  },
} satisfies ExportedHandler<Env, unknown>;
