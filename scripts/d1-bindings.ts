// The D1 bindings of wrangler.toml, in order: the directory (`DB`) first, then the shards
// (`SHARD_0` … `SHARD_{N-1}`). Read from the file itself, so adding a shard is a wrangler.toml
// entry and nothing else (SPEC §12).
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function d1Bindings(root: string): string[] {
  const toml = readFileSync(join(root, "wrangler.toml"), "utf8");
  const bindings: string[] = [];
  // Each [[d1_databases]] table, up to the next table header.
  for (const block of toml.split(/^\[\[d1_databases\]\]\s*$/m).slice(1)) {
    const body = block.split(/^\[/m)[0] ?? "";
    const binding = /^binding\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    if (binding) bindings.push(binding);
  }
  const shards = bindings.filter((b) => /^SHARD_\d+$/.test(b));
  shards.forEach((b, i) => {
    if (b !== `SHARD_${i}`) throw new Error(`wrangler.toml: shards must be SHARD_0 … SHARD_${shards.length - 1} in order, found ${b}`);
  });
  if (!bindings.includes("DB")) throw new Error("wrangler.toml: no D1 binding named DB (the directory)");
  return ["DB", ...shards];
}
