// Deterministic data for the fake Hevy API: the built-in exercise-template catalogue and realistic
// workout histories. Pure (no I/O, no Math.random): the same seed always yields the same data.
import type { HevyExercise, HevyExerciseTemplate, HevySet, HevyWorkout } from "./hevy.ts";

export interface Rng {
  next(): number; // [0, 1)
  int(min: number, max: number): number; // inclusive
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  shuffle<T>(items: T[]): T[]; // in place, returns items
  uuid(): string; // v4-shaped, from the seeded stream
}

/** mulberry32: tiny, fast, good enough for fixtures. */
export function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => {
    const v = items[Math.floor(next() * items.length)];
    if (v === undefined) throw new Error("pick from empty list");
    return v;
  };
  const hex = (n: number): string => Array.from({ length: n }, () => int(0, 15).toString(16)).join("");
  return {
    next, int, pick,
    chance: (p) => next() < p,
    shuffle<T>(items: T[]): T[] {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(0, i);
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`,
  };
}

export const MUSCLE_GROUPS = ["abdominals", "shoulders", "biceps", "triceps", "forearms", "quadriceps", "hamstrings", "calves", "glutes", "abductors", "adductors", "lats", "upper_back", "traps", "lower_back", "chest", "cardio", "neck", "full_body", "other"] as const;
/** Template `type` values Hevy RETURNS (QUIRKS.md) — not the spec's write enum. */
export const TEMPLATE_TYPES = ["weight_reps", "reps_only", "bodyweight_weighted", "bodyweight_assisted", "duration", "weight_duration", "distance_duration", "short_distance_weight", "floors_duration", "steps_duration"] as const;
export const EQUIPMENT = ["none", "barbell", "dumbbell", "kettlebell", "machine", "plate", "resistance_band", "suspension", "other"] as const;

// Catalogue: "Title|primary|secondary,...|variants|type|equipment". Each variant letter makes one
// template "Title (Suffix)"; "_" makes the bare title. Letters: see VARIANTS. Type applies to "_"
// and "T"; loaded variants are weight_reps (or the line's type when it carries a weight).
const VARIANTS: Record<string, readonly [string, string]> = {
  B: ["Barbell", "barbell"], D: ["Dumbbell", "dumbbell"], K: ["Kettlebell", "kettlebell"], M: ["Machine", "machine"],
  C: ["Cable", "machine"], S: ["Smith Machine", "machine"], R: ["Band", "resistance_band"], E: ["EZ Bar", "barbell"],
  P: ["Plate", "plate"], T: ["Suspension", "suspension"], W: ["Weighted", "other"], A: ["Assisted", "machine"],
};
const CATALOGUE = [
  // chest
  "Bench Press|chest|triceps,shoulders|BDS", "Incline Bench Press|chest|shoulders,triceps|BDS", "Decline Bench Press|chest|triceps,shoulders|BDS",
  "Bench Press - Close Grip|triceps|chest,shoulders|BS", "Floor Press|chest|triceps|BDK", "Chest Press|chest|triceps,shoulders|MRC",
  "Incline Chest Press|chest|shoulders,triceps|MD", "Chest Fly|chest|shoulders|DMCR", "Incline Chest Fly|chest|shoulders|DC", "Decline Chest Fly|chest||DC",
  "Cable Crossover|chest|shoulders|_|weight_reps|machine", "Low Cable Fly Crossovers|chest|shoulders|_|weight_reps|machine",
  "Butterfly (Pec Deck)|chest|shoulders|_|weight_reps|machine", "Pullover|chest|lats,triceps|DBMC", "Svend Press|chest|shoulders|P",
  "Push Up|chest|triceps,shoulders|_WT|reps_only", "Incline Push Ups|chest|triceps,shoulders|_|reps_only", "Decline Push Up|chest|triceps,shoulders|_|reps_only",
  "Diamond Push Up|triceps|chest|_|reps_only", "Knee Push Ups|chest|triceps|_|reps_only", "Clap Push Up|chest|triceps|_|reps_only",
  "Chest Dip|chest|triceps,shoulders|_WA|reps_only", "Around the World|chest|shoulders|D",
  // shoulders & traps
  "Overhead Press|shoulders|triceps|BDSM", "Seated Overhead Press|shoulders|triceps|BD", "Shoulder Press|shoulders|triceps|MDR", "Arnold Press|shoulders|triceps|DK",
  "Push Press|shoulders|triceps,quadriceps|BDK", "Z Press|shoulders|triceps,abdominals|BD", "Lateral Raise|shoulders|traps|DCMR", "Seated Lateral Raise|shoulders||D",
  "Single Arm Lateral Raise|shoulders||DC", "Front Raise|shoulders|chest|DBCP", "Rear Delt Reverse Fly|shoulders|upper_back|DCM", "Y Raise|shoulders|upper_back,traps|DC",
  "Face Pull|shoulders|upper_back,traps|_R|weight_reps|machine", "Upright Row|shoulders|traps,biceps|BDC", "Landmine Press|shoulders|chest,triceps|_|weight_reps|barbell",
  "Single Arm Landmine Press|shoulders|chest,triceps|_|weight_reps|barbell", "Handstand Push Up|shoulders|triceps|_|reps_only", "Pike Pushup|shoulders|triceps|_|reps_only",
  "External Rotation|shoulders||CDR", "Internal Rotation|shoulders||CR", "Cuban Press|shoulders|upper_back|D", "Bus Driver|shoulders||P",
  "Band Pull Apart|shoulders|upper_back|_|reps_only|resistance_band", "Halo|shoulders|abdominals|KP", "Shrug|traps|forearms|BDMC", "Behind the Back Shrug|traps||B",
  "High Pull|traps|shoulders|KB", "Sumo Deadlift High Pull|traps|shoulders,glutes|BK",
  // back
  "Pull Up|lats|biceps,upper_back|_WA|reps_only", "Pull Up (Band)|lats|biceps|_|bodyweight_assisted|resistance_band", "Chin Up|lats|biceps|_WA|reps_only",
  "Wide Pull Up|lats|biceps,upper_back|_|reps_only", "Neutral Grip Pull Up|lats|biceps|_W|reps_only", "Muscle Up|lats|triceps,chest|_|reps_only",
  "Scapular Pull Ups|upper_back|lats|_|reps_only", "Lat Pulldown|lats|biceps,upper_back|CMR", "Lat Pulldown - Close Grip|lats|biceps|C",
  "Reverse Grip Lat Pulldown|lats|biceps|C", "Single Arm Lat Pulldown|lats|biceps|C", "Straight Arm Lat Pulldown|lats|triceps|CR",
  "Bent Over Row|upper_back|lats,biceps|BDR", "Pendlay Row|upper_back|lats,biceps|B", "Dumbbell Row|upper_back|lats,biceps|_|weight_reps|dumbbell",
  "Seated Cable Row - V Grip|upper_back|lats,biceps|C", "Seated Cable Row - Bar Grip|upper_back|lats,biceps|C", "Single Arm Cable Row|upper_back|lats|C",
  "Seated Row|upper_back|lats,biceps|MR", "High Row|upper_back|lats|CM", "T Bar Row|upper_back|lats,biceps|_|weight_reps|barbell",
  "Chest Supported Incline Row|upper_back|lats,biceps|DM", "Seal Row|upper_back|lats|BD", "Meadows Rows|upper_back|lats|B",
  "Inverted Row|upper_back|lats,biceps|_T|reps_only", "Iso-Lateral Row|upper_back|lats,biceps|M", "Iso-Lateral High Row|lats|upper_back|M",
  "Iso-Lateral Low Row|upper_back|lats|M", "Renegade Row|upper_back|abdominals,lats|DK", "Gorilla Row|upper_back|lats|K", "Rack Pull|upper_back|lower_back,glutes,traps|B",
  "Deadlift|lower_back|glutes,hamstrings,traps,forearms|BDKS", "Sumo Deadlift|glutes|quadriceps,hamstrings,lower_back|BK",
  "Romanian Deadlift|hamstrings|glutes,lower_back|BDKS", "Stiff Leg Deadlift|hamstrings|glutes,lower_back|BD", "Single Leg Romanian Deadlift|hamstrings|glutes|BDK",
  "Trap Bar Deadlift|glutes|quadriceps,hamstrings,lower_back,traps|_|weight_reps|other", "Deficit Deadlift|lower_back|glutes,hamstrings|B",
  "Good Morning|hamstrings|lower_back,glutes|BS", "Back Extension|lower_back|glutes,hamstrings|_WM|reps_only", "Superman|lower_back|glutes|_|reps_only",
  "Reverse Hyperextension|glutes|lower_back,hamstrings|M", "Dead Hang|forearms|lats|_|duration",
  // arms
  "Bicep Curl|biceps|forearms|BDCMRE", "Hammer Curl|biceps|forearms|DCR", "Preacher Curl|biceps||BDEM", "Concentration Curl|biceps||D", "Incline Curl|biceps||D",
  "Spider Curl|biceps||DB", "Drag Curl|biceps||B", "Reverse Curl|forearms|biceps|BDCE", "Zottman Curl|biceps|forearms|D", "Cross Body Hammer Curl|biceps|forearms|D",
  "Bayesian Curl|biceps||C", "21s Bicep Curl|biceps||BE", "Triceps Pushdown|triceps||CR", "Triceps Rope Pushdown|triceps||_|weight_reps|machine",
  "Single Arm Triceps Pushdown|triceps||C", "Triceps Extension|triceps||DCMB", "Overhead Triceps Extension|triceps||DCR", "Skullcrusher|triceps|chest|BDE",
  "Triceps Kickback|triceps||DC", "Triceps Dip|triceps|chest,shoulders|_WA|reps_only", "Seated Dip Machine|triceps|chest|_|weight_reps|machine",
  "Bench Dip|triceps|chest|_|reps_only", "JM Press|triceps|chest|BS", "Wrist Curl|forearms||BD", "Reverse Wrist Curl|forearms||BD",
  "Farmers Walk|forearms|traps,full_body|_|short_distance_weight|other", "Suitcase Carry|abdominals|forearms|DK|short_distance_weight",
  "Plate Pinch|forearms||_|weight_duration|plate", "Gripper|forearms||_|reps_only|other", "Wrist Roller|forearms||_|weight_reps|other",
  // legs
  "Squat|quadriceps|glutes,hamstrings,lower_back|BDSM", "Air Squats|quadriceps|glutes|_|reps_only", "Front Squat|quadriceps|glutes,abdominals|BDKS",
  "Goblet Squat|quadriceps|glutes|DK", "Box Squat|quadriceps|glutes,hamstrings|B", "Pause Squat|quadriceps|glutes|B", "Overhead Squat|quadriceps|shoulders,glutes|BD",
  "Zercher Squat|quadriceps|glutes,abdominals|B", "Hack Squat|quadriceps|glutes|MB", "Pendulum Squat|quadriceps|glutes|M", "Belt Squat|quadriceps|glutes|M",
  "Sissy Squat|quadriceps||_W|reps_only", "Pistol Squat|quadriceps|glutes|_|reps_only", "Sumo Squat|quadriceps|adductors,glutes|BDK", "Leg Press|quadriceps|glutes,hamstrings|M",
  "Single Leg Press|quadriceps|glutes|M", "Horizontal Leg Press|quadriceps|glutes|M", "Leg Extension|quadriceps||MR", "Single Leg Extensions|quadriceps||M",
  "Lunge|quadriceps|glutes,hamstrings|_BDKS|reps_only", "Walking Lunge|quadriceps|glutes,hamstrings|_BDK|reps_only", "Reverse Lunge|quadriceps|glutes,hamstrings|_BDK|reps_only",
  "Lateral Lunge|quadriceps|adductors,glutes|_DK|reps_only", "Curtsy Lunge|glutes|quadriceps,adductors|_D|reps_only", "Bulgarian Split Squat|quadriceps|glutes,hamstrings|_BDKS|reps_only",
  "Split Squat|quadriceps|glutes|_BD|reps_only", "Step Up|quadriceps|glutes|_BD|reps_only", "Jump Squat|quadriceps|glutes,calves|_|reps_only",
  "Box Jump|quadriceps|glutes,calves|_|reps_only", "Wall Sit|quadriceps|glutes|_|duration", "Hip Adduction|adductors||MCR", "Hip Abduction|abductors|glutes|MCR",
  "Copenhagen Plank|adductors|abdominals|_|duration", "Lying Leg Curl|hamstrings||MD", "Seated Leg Curl|hamstrings||M", "Standing Leg Curls|hamstrings||MCR",
  "Nordic Hamstrings Curls|hamstrings||_|reps_only", "Glute Ham Raise|hamstrings|glutes|_|reps_only", "Kettlebell Swing|glutes|hamstrings,lower_back,shoulders|_|weight_reps|kettlebell",
  "Russian Kettlebell Swing|glutes|hamstrings,shoulders|_|weight_reps|kettlebell", "Cable Pull Through|glutes|hamstrings|_|weight_reps|machine",
  "Hip Thrust|glutes|hamstrings|_BM|reps_only", "Single Leg Hip Thrust|glutes|hamstrings|_D|reps_only", "Glute Bridge|glutes|hamstrings|_BD|reps_only",
  "Single Leg Glute Bridge|glutes|hamstrings|_|reps_only", "Glute Kickback|glutes|hamstrings|CMR", "Frog Pumps|glutes||_D|reps_only", "Donkey Kicks|glutes||_|reps_only",
  "Fire Hydrants|abductors|glutes|_|reps_only", "Clamshell|abductors|glutes|_R|reps_only", "Standing Calf Raise|calves||_DMS|reps_only", "Seated Calf Raise|calves||MD",
  "Calf Press|calves||M", "Single Leg Standing Calf Raise|calves||_D|reps_only", "Donkey Calf Raise|calves||M", "Tibialis Raise|calves||_|reps_only",
  // core & neck
  "Crunch|abdominals||_WMC|reps_only", "Bicycle Crunch|abdominals||_|reps_only", "Reverse Crunch|abdominals||_|reps_only", "Decline Crunch|abdominals||_W|reps_only",
  "Cable Crunch|abdominals||_|weight_reps|machine", "Sit Up|abdominals||_W|reps_only", "Plank|abdominals|shoulders|_|duration", "Side Plank|abdominals||_|duration",
  "Plank (Weighted)|abdominals|shoulders|_|weight_duration|plate", "Hanging Leg Raise|abdominals||_W|reps_only", "Hanging Knee Raise|abdominals||_|reps_only",
  "Lying Leg Raise|abdominals||_|reps_only", "Knee Raise Parallel Bars|abdominals||_|reps_only", "Toes to Bar|abdominals|lats|_|reps_only", "Russian Twist|abdominals||_WD|reps_only",
  "Ab Wheel|abdominals||_|reps_only|other", "Mountain Climber|abdominals||_|duration", "Dead Bug|abdominals||_|reps_only", "Bird Dog|abdominals|lower_back|_|reps_only",
  "Hollow Rock|abdominals||_|reps_only", "Hollow Body Hold|abdominals||_|duration", "L-Sit Hold|abdominals||_|duration", "V Up|abdominals||_|reps_only",
  "Flutter Kicks|abdominals||_|reps_only", "Pallof Press|abdominals||CR", "Wood Chop|abdominals||CDR", "Oblique Crunch|abdominals||_|reps_only", "Side Bend|abdominals||DC",
  "Dragon Flag|abdominals||_|reps_only", "Landmine 180|abdominals|shoulders|_|weight_reps|barbell", "Jackknife Sit Up|abdominals||_|reps_only", "Heel Taps|abdominals||_|reps_only",
  "Toe Touch|abdominals||_|reps_only", "Windmill|abdominals|shoulders|K", "Lying Neck Curls|neck||_W|reps_only", "Lying Neck Extension|neck||_W|reps_only",
  // full body & conditioning
  "Clean|full_body|quadriceps,hamstrings,glutes,traps|BK", "Power Clean|full_body|quadriceps,hamstrings,traps|B", "Hang Clean|full_body|traps,quadriceps|BK",
  "Clean and Jerk|full_body|shoulders,quadriceps|B", "Clean and Press|full_body|shoulders,quadriceps|BDK", "Snatch|full_body|shoulders,quadriceps|BDK", "Hang Snatch|full_body|shoulders|B",
  "Thruster|full_body|quadriceps,shoulders|BDK", "Burpee|full_body||_|reps_only", "Man Maker|full_body|chest,shoulders|D", "Turkish Get Up|full_body|shoulders,abdominals|KD",
  "Wall Ball|full_body|quadriceps,shoulders|_|weight_reps|other", "Sled Push|quadriceps|glutes,calves|_|short_distance_weight|other",
  "Sled Drag|hamstrings|glutes,quadriceps|_|short_distance_weight|other", "Tire Flip|full_body||_|reps_only|other", "Battle Ropes|cardio|shoulders|_|duration|other",
  "Bear Crawl|full_body||_|duration", "Jumping Jack|cardio||_|reps_only", "High Knees|cardio||_|duration", "Jump Rope|cardio||_|duration|other",
  // cardio & other
  "Running|cardio||_|distance_duration", "Treadmill|cardio||_|distance_duration|machine", "Cycling|cardio||_|distance_duration", "Stationary Bike|cardio||_|distance_duration|machine",
  "Spinning|cardio||_|duration|machine", "Rowing Machine|cardio||_|distance_duration|machine", "Elliptical Trainer|cardio||_|distance_duration|machine",
  "Swimming|cardio||_|distance_duration", "Walking|cardio||_|distance_duration", "Hiking|cardio||_|distance_duration", "Air Bike|cardio||_|distance_duration|machine",
  "Ski Erg|cardio||_|distance_duration|machine", "Sprints|cardio||_|distance_duration", "Skating|cardio||_|distance_duration", "Rucking|cardio||_|distance_duration|other",
  "Stair Machine (Floors)|cardio||_|floors_duration|machine", "Stair Machine (Steps)|cardio||_|steps_duration|machine", "Boxing|cardio||_|duration",
  "Climbing|full_body||_|duration", "Pilates|full_body||_|duration", "Yoga|other||_|duration", "Stretching|other||_|duration", "Foam Rolling|other||_|duration",
  "Warm Up|other||_|duration",
];
const LOADED_TYPES = new Set(["weight_reps", "weight_duration", "short_distance_weight"]);
// Pinned so hand-written fixtures can name them; every other id comes from the seeded stream.
const PINNED: Record<string, string> = { "Squat (Barbell)": "D04AC939", "Bench Press (Barbell)": "79D0BB3A" };

function buildCatalogue(): HevyExerciseTemplate[] {
  const rng = makeRng(0x4e7a11);
  const used = new Set(Object.values(PINNED));
  const out: HevyExerciseTemplate[] = [];
  for (const line of CATALOGUE) {
    const [title = "", primary = "other", secondary = "", variants = "_", lineType = "", lineEquipment = ""] = line.split("|");
    for (const v of variants) {
      const spec = VARIANTS[v];
      const type = v === "_" || v === "T" ? lineType || "weight_reps" : v === "W" ? "bodyweight_weighted" : v === "A" ? "bodyweight_assisted"
        : LOADED_TYPES.has(lineType) ? lineType : "weight_reps";
      const fullTitle = spec ? `${title} (${spec[0]})` : title;
      let id = PINNED[fullTitle];
      while (id === undefined || (used.has(id) && PINNED[fullTitle] !== id)) id = rng.int(0, 0xffffffff).toString(16).toUpperCase().padStart(8, "0");
      used.add(id);
      out.push({ id, title: fullTitle, type, primary_muscle_group: primary, secondary_muscle_groups: secondary ? secondary.split(",") : [],
        equipment_category: spec ? spec[1] : lineEquipment || "none", is_custom: false });
    }
  }
  return out;
}

/** The built-in templates every account sees (~440). Treat as read-only; the fake hands out copies. */
export const BUILTIN_TEMPLATES: readonly HevyExerciseTemplate[] = buildCatalogue();

// ---- workout histories ----
const SPLITS: Record<string, { titles: string[]; groups: string[] }> = {
  Push: { titles: ["Push Day", "Push", "Chest & Shoulders"], groups: ["chest", "shoulders", "triceps"] },
  Pull: { titles: ["Pull Day", "Pull", "Back & Biceps"], groups: ["lats", "upper_back", "biceps", "traps", "forearms"] },
  Legs: { titles: ["Leg Day", "Legs"], groups: ["quadriceps", "hamstrings", "glutes", "calves", "adductors", "abductors"] },
  Upper: { titles: ["Upper Body", "Upper A", "Upper B"], groups: ["chest", "lats", "upper_back", "shoulders", "biceps", "triceps"] },
  Lower: { titles: ["Lower Body", "Lower A", "Lower B"], groups: ["quadriceps", "hamstrings", "glutes", "calves", "lower_back"] },
  "Full Body": { titles: ["Full Body", "Full Body A", "Full Body B"], groups: ["chest", "lats", "upper_back", "shoulders", "quadriceps", "hamstrings", "glutes", "lower_back"] },
};
const PROGRAMS = [["Push", "Pull", "Legs"], ["Upper", "Lower"], ["Full Body"], ["Push", "Pull", "Legs", "Upper", "Lower"]];
const DESCRIPTIONS = ["Pushed myself to the limit today!", "Felt a bit tired, kept it light.", "New PR on the last set 💪", "Short session before work."];
const NOTES = ["Paid closer attention to form today. Felt great!", "Left shoulder a bit tight.", "Slow eccentric.", "Increase weight next time."];
const STRENGTH = new Set(["weight_reps", "reps_only", "bodyweight_weighted", "bodyweight_assisted"]);
const SMALL_MUSCLES = new Set(["biceps", "triceps", "forearms", "shoulders", "calves", "abductors", "adductors", "neck", "traps"]);
const BASE_LOAD: Record<string, [number, number, number]> = { // [min, max, rounding step] in kg
  barbell: [40, 100, 2.5], dumbbell: [10, 32, 2], kettlebell: [12, 28, 4], machine: [30, 90, 2.5], plate: [10, 25, 5],
  resistance_band: [5, 20, 5], suspension: [10, 30, 5], none: [10, 40, 2.5], other: [20, 60, 2.5],
};
const DAY = 86_400_000;
const MINUTE = 60_000;

export interface HistoryOptions {
  count: number; seed: number; end: Date; weeks?: number;
  templates: readonly HevyExerciseTemplate[]; custom: readonly HevyExerciseTemplate[]; newId: () => string;
}

/** `+00:00` form Hevy uses for start/end times: "2024-08-14T12:00:00+00:00". */
export const hevyTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");

/** Realistic history, oldest→newest in time but returned SHUFFLED (Hevy's list order is not by date). */
export function generateWorkouts(o: HistoryOptions): HevyWorkout[] {
  const rng = makeRng(o.seed);
  const splits = rng.pick(PROGRAMS);
  const byGroups = (groups: string[], types: Set<string>) => o.templates.filter((t) => groups.includes(t.primary_muscle_group) && types.has(t.type));
  const pools = new Map(splits.map((s) => {
    const all = rng.shuffle(byGroups(SPLITS[s]?.groups ?? [], STRENGTH));
    const loaded = all.filter((t) => t.type === "weight_reps").slice(0, 8);
    const bodyweight = all.filter((t) => t.type !== "weight_reps").slice(0, 2); // bodyweight sets in most histories
    return [s, [...loaded, ...bodyweight]] as const;
  }));
  const abs = rng.shuffle(byGroups(["abdominals"], new Set(["reps_only", "duration", "bodyweight_weighted"]))).slice(0, 3);
  const cardio = rng.shuffle(o.templates.filter((t) => ["distance_duration", "floors_duration", "steps_duration"].includes(t.type))).slice(0, 3);
  const routines = new Map(splits.map((s) => [s, rng.uuid()]));
  const loads = new Map<string, number>();
  const weeks = o.weeks ?? Math.max(1, Math.ceil(o.count / 3.5));
  const endMs = o.end.getTime();
  const span = weeks * 7 * DAY;
  const out: HevyWorkout[] = [];
  for (let i = 0; i < o.count; i++) {
    const split = splits[(i + (rng.chance(0.1) ? 1 : 0)) % splits.length] ?? "Full Body";
    const progress = o.count > 1 ? i / (o.count - 1) : 1;
    const slot = endMs - span + ((i + 0.5) * span) / o.count;
    let start = Math.floor(slot / DAY) * DAY + rng.int(6, 19) * 60 * MINUTE + rng.pick([0, 5, 15, 30, 45]) * MINUTE;
    const duration = rng.int(40, 95) * MINUTE;
    const createdDelay = rng.int(1, 15) * MINUTE + rng.int(0, 59_999);
    while (start + duration + createdDelay > endMs) start -= DAY;
    const created = start + duration + createdDelay;
    const edited = rng.chance(0.12) ? created + rng.int(1, 72) * 60 * MINUTE : created;
    const logRpe = rng.chance(0.15);
    const picks = rng.shuffle([...(pools.get(split) ?? [])]);
    const extras: HevyExerciseTemplate[] = [];
    if (abs.length && rng.chance(0.25)) extras.push(rng.pick(abs));
    if (o.custom.length && rng.chance(0.2)) extras.push(rng.pick(o.custom));
    if (cardio.length && rng.chance(0.25)) extras.push(rng.pick(cardio));
    const chosen = [...picks.slice(0, Math.min(rng.int(4, 7), 8 - extras.length)), ...extras];
    const exercises: HevyExercise[] = chosen.map((t, index) => ({
      index, title: t.title, notes: rng.chance(0.85) ? null : rng.chance(0.3) ? "" : rng.pick(NOTES),
      exercise_template_id: t.id, supersets_id: null, sets: makeSets(rng, t, loads, progress, index, logRpe),
    }));
    if (rng.chance(0.3)) { // superset pairs: ids 0, 1… in order within the workout
      let next = 0;
      for (let k = rng.int(1, 2); k + 1 < chosen.length - extras.length && next < 2; k += rng.int(2, 3)) {
        const a = exercises[k], b = exercises[k + 1];
        if (a && b) { a.supersets_id = next; b.supersets_id = next; next++; }
      }
    }
    const hour = new Date(start).getUTCHours();
    out.push({
      id: o.newId(),
      title: rng.chance(0.3) ? `${hour < 12 ? "Morning" : hour < 17 ? "Afternoon" : "Evening"} Workout` : rng.pick(SPLITS[split]?.titles ?? ["Workout"]),
      routine_id: rng.chance(0.25) ? routines.get(split) ?? null : null,
      description: rng.chance(0.55) ? null : rng.chance(0.66) ? "" : rng.pick(DESCRIPTIONS),
      start_time: hevyTime(start), end_time: hevyTime(start + duration),
      updated_at: new Date(edited <= endMs ? edited : created).toISOString(), created_at: new Date(created).toISOString(),
      exercises,
    });
  }
  return rng.shuffle(out);
}

function set(index: number, type: HevySet["type"], f: Partial<HevySet>): HevySet {
  return { index, type, weight_kg: null, reps: null, distance_meters: null, duration_seconds: null, rpe: null, custom_metric: null, ...f };
}

function makeSets(rng: Rng, t: HevyExerciseTemplate, loads: Map<string, number>, progress: number, position: number, logRpe: boolean): HevySet[] {
  const [min, max, step] = BASE_LOAD[t.equipment_category] ?? [20, 60, 2.5];
  if (!loads.has(t.id)) loads.set(t.id, (min + rng.next() * (max - min)) * (SMALL_MUSCLES.has(t.primary_muscle_group) ? 0.5 : 1));
  const round = (kg: number) => Math.max(step, Math.round(kg / step) * step);
  const load = (loads.get(t.id) ?? min) * (0.9 + 0.25 * progress);
  const rpe = () => (logRpe ? rng.pick([7, 7.5, 8, 8.5, 9, 9.5, 10]) : null);
  const n = rng.int(3, 5);
  const sets: HevySet[] = [];
  switch (t.type) {
    case "distance_duration": {
      const distance = rng.int(150, 1000) * 10;
      return [set(0, "normal", { distance_meters: distance, duration_seconds: Math.round((distance / 1000) * rng.int(270, 420)) })];
    }
    case "floors_duration": return [set(0, "normal", { custom_metric: rng.int(20, 80), duration_seconds: rng.int(10, 30) * 60 })];
    case "steps_duration": return [set(0, "normal", { custom_metric: rng.int(80, 300) * 10, duration_seconds: rng.int(10, 30) * 60 })];
    case "weight_reps": {
      const warm = position < 2 && t.equipment_category === "barbell" ? rng.int(1, 2) : rng.chance(0.15) ? 1 : 0;
      const reps = rng.int(5, 12);
      for (let i = 0; i < n; i++) {
        const isLast = i === n - 1;
        if (i < warm) { sets.push(set(i, "warmup", { weight_kg: round(load * rng.pick([0.5, 0.6, 0.7])), reps: rng.int(8, 12) })); continue; }
        const kind = isLast && rng.chance(0.1) ? "failure" : isLast && rng.chance(0.08) ? "dropset" : "normal";
        sets.push(set(i, kind, { weight_kg: round(kind === "dropset" ? load * 0.75 : load), reps: Math.max(1, reps + rng.int(-1, 1)), rpe: rpe() }));
      }
      return sets;
    }
    default:
      for (let i = 0; i < n; i++) {
        const f: Partial<HevySet> = { rpe: rpe() };
        if (t.type === "reps_only") f.reps = rng.int(6, 20);
        else if (t.type === "bodyweight_weighted") { f.reps = rng.int(5, 12); f.weight_kg = rng.chance(0.5) ? null : rng.int(2, 10) * 2.5; }
        else if (t.type === "bodyweight_assisted") { f.reps = rng.int(6, 12); f.weight_kg = rng.int(2, 8) * 5; }
        else if (t.type === "short_distance_weight") { f.weight_kg = round(load); f.distance_meters = rng.int(2, 4) * 10; }
        else if (t.type === "weight_duration") { f.weight_kg = round(load); f.duration_seconds = rng.int(3, 12) * 5; }
        else f.duration_seconds = rng.int(6, 18) * 5; // duration
        sets.push(set(i, "normal", f));
      }
      return sets;
  }
}
