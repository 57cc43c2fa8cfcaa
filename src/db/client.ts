import { drizzle } from "drizzle-orm/d1";
import { schema } from "./schema";

/** A Drizzle handle over one D1 binding; made per request or invocation, never cached globally. */
export const createDb = (d1: D1Database) => drizzle(d1, { schema });

export type Db = ReturnType<typeof createDb>;
