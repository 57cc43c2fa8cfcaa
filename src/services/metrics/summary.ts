import type { Deps } from "../../deps";
import type { AuthUser } from "../../env";
import { notFound } from "../../lib/errors";
import { mondayWeeks } from "../../lib/zoned-time";
import { muscleGroups, type MuscleGroupView, type Range } from "./muscle-groups";
import { runParts } from "./part";
import { currentPrs, type PrView, prsWithin } from "./prs";
import { type LatestSessionRecovery, latestSessionRecovery, type SessionRecovery, sessionsRecovery } from "./recovery";
import { recentSessions, type SessionView } from "./sessions";
import { type Totals, totalsOf, weeklyTrend, type WeekView } from "./trends";

// Strength metrics (SPEC §7, §10). Every number is aggregated in D1; the Worker
// only shapes a bounded number of rows (weeks, PR winners, muscle groups, five
// sessions, a few dozen recovery readings), whatever the size of the history.

export const DEFAULT_WEEKS = 12;
export const MAX_WEEKS = 104;

type MetricsDeps = Pick<Deps, "d1" | "now">;
type MetricsUser = Pick<AuthUser, "id" | "timezone">;

export interface Summary {
  weeks: WeekView[];
  totals: Totals;
  prs: PrView[];
  recent_prs: PrView[];
  muscle_groups: MuscleGroupView[];
  recent_sessions: SessionView[];
  latest_session_recovery: LatestSessionRecovery | null;
}

/** The summary's parts over the `weekCount` weeks ending with the current one, and how its answer is shaped. */
function summaryParts(deps: MetricsDeps, user: MetricsUser, weekCount: number) {
  const weeks = mondayWeeks(deps.now(), user.timezone, weekCount);
  const window = { from: weeks[0]!.from, to: weeks.at(-1)!.to };
  const parts = [
    weeklyTrend(user.id, user.timezone, weeks),
    currentPrs(user.id),
    muscleGroups(user.id, user.timezone, window),
    recentSessions(user.id),
    latestSessionRecovery(user.id, user.timezone),
  ] as const;
  const shape = ([trend, prs, groups, sessions, recovery]: readonly [WeekView[], PrView[], MuscleGroupView[], SessionView[], LatestSessionRecovery | null]): Summary => ({
    weeks: trend,
    totals: totalsOf(trend),
    prs,
    recent_prs: prsWithin(prs, window.from, window.to),
    muscle_groups: groups,
    recent_sessions: sessions,
    latest_session_recovery: recovery,
  });
  return { window, parts, shape };
}

/** GET /hevy/summary: every part in one D1 batch, so one round trip and one consistent snapshot. */
export async function getSummary(deps: MetricsDeps, user: MetricsUser, weekCount: number): Promise<Summary> {
  const { parts, shape } = summaryParts(deps, user, weekCount);
  return shape(await runParts(deps.d1, parts));
}

/** The hub page: the summary and the window's sessions against the next mornings, in the same one batch. */
export async function getHub(deps: MetricsDeps, user: MetricsUser, weekCount: number): Promise<{ summary: Summary; sessions: SessionRecovery[] }> {
  const { window, parts, shape } = summaryParts(deps, user, weekCount);
  const [trend, prs, groups, recent, latest, sessions] = await runParts(deps.d1, [...parts, sessionsRecovery(user.id, user.timezone, window)]);
  return { summary: shape([trend, prs, groups, recent, latest]), sessions };
}

/** GET /hevy/sessions/recovery: every lift session of the window against the next morning's readings. */
export async function getSessionsRecovery(deps: MetricsDeps, user: MetricsUser, weekCount: number): Promise<SessionRecovery[]> {
  const weeks = mondayWeeks(deps.now(), user.timezone, weekCount);
  const [sessions] = await runParts(deps.d1, [sessionsRecovery(user.id, user.timezone, { from: weeks[0]!.from, to: weeks.at(-1)!.to })]);
  return sessions;
}

/** GET /hevy/trends: the summary's `weeks` and `totals`. */
export async function getTrends(deps: MetricsDeps, user: MetricsUser, weekCount: number): Promise<Pick<Summary, "weeks" | "totals">> {
  const [trend] = await runParts(deps.d1, [weeklyTrend(user.id, user.timezone, mondayWeeks(deps.now(), user.timezone, weekCount))]);
  return { weeks: trend, totals: totalsOf(trend) };
}

/** GET /hevy/prs: current all-time PRs. */
export async function getPrs(deps: MetricsDeps, user: MetricsUser): Promise<PrView[]> {
  const [prs] = await runParts(deps.d1, [currentPrs(user.id)]);
  return prs;
}

/** GET /hevy/muscle-groups: the rollup over workouts starting in [from, to). */
export async function getMuscleGroups(deps: MetricsDeps, user: MetricsUser, range: Range): Promise<MuscleGroupView[]> {
  const [groups] = await runParts(deps.d1, [muscleGroups(user.id, user.timezone, range)]);
  return groups;
}

/** GET /hevy/sessions/latest/recovery: 404 until the user has a Hevy workout. */
export async function getLatestSessionRecovery(deps: MetricsDeps, user: MetricsUser): Promise<LatestSessionRecovery> {
  const [recovery] = await runParts(deps.d1, [latestSessionRecovery(user.id, user.timezone)]);
  if (!recovery) throw notFound("No Hevy workout yet, so no latest session.");
  return recovery;
}
