import { type SQL, sql } from "drizzle-orm";
import { SHARED_TEMPLATE_OWNER } from "../../db/schema";
import type { ExerciseTemplate } from "../../hevy/types";

/**
 * One statement over json_each: built-in templates land in the shared set, custom ones under their
 * owner — only while `guard` holds (the backfill's scope), so a purge mid-chunk leaves none behind.
 */
export function upsertTemplatesStatement(userId: string, templates: ExerciseTemplate[], now: number, guard: SQL) {
  const json = JSON.stringify(
    templates.map((t) => ({
      owner: t.isCustom ? userId : SHARED_TEMPLATE_OWNER,
      id: t.id,
      title: t.title,
      type: t.type,
      primary: t.primaryMuscleGroup,
      secondary: JSON.stringify(t.secondaryMuscleGroups),
      equipment: t.equipmentCategory,
      custom: t.isCustom ? 1 : 0,
    })),
  );
  return sql`INSERT INTO hevy_exercise_templates (user_id, id, title, type, primary_muscle_group,
      secondary_muscle_groups, equipment_category, is_custom, synced_at)
    SELECT j.value ->> 'owner', j.value ->> 'id', j.value ->> 'title', j.value ->> 'type', j.value ->> 'primary',
      j.value ->> 'secondary', j.value ->> 'equipment', j.value ->> 'custom', ${now}
    FROM json_each(${json}) j WHERE ${guard}
    ON CONFLICT (user_id, id) DO UPDATE SET title = excluded.title, type = excluded.type,
      primary_muscle_group = excluded.primary_muscle_group, secondary_muscle_groups = excluded.secondary_muscle_groups,
      equipment_category = excluded.equipment_category, is_custom = excluded.is_custom, synced_at = excluded.synced_at`;
}
