// API types for the client, generated from the services' OpenAPI documents (openapi/*.json,
// dumped by scripts/openapi.py). Output: src/api/generated/<service>.ts (not committed).
import { readdirSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";

const outDir = new URL("../src/api/generated/", import.meta.url);
mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(new URL("../openapi/", import.meta.url))) {
  if (!file.endsWith(".json")) continue;
  const doc = JSON.parse(readFileSync(new URL(`../openapi/${file}`, import.meta.url), "utf8"));
  const ast = await openapiTS(doc);
  writeFileSync(new URL(file.replace(/\.json$/, ".ts"), outDir), astToString(ast));
}
