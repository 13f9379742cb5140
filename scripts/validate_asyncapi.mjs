// Parse an AsyncAPI document with the official parser (@asyncapi/parser, installed into
// .tools/asyncapi by scripts/install_tools.sh) and exit 1 on any error-severity diagnostic.
// Usage: node scripts/validate_asyncapi.mjs [docs/asyncapi.yaml]
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, ".tools", "asyncapi", "node_modules", "_"));
let parserModule;
try {
  parserModule = require("@asyncapi/parser");
} catch {
  console.error("validate_asyncapi: @asyncapi/parser missing: run `bash scripts/install_tools.sh asyncapi`");
  process.exit(2);
}
const { Parser, DiagnosticSeverity } = parserModule;

const path = resolve(root, process.argv[2] ?? "docs/asyncapi.yaml");
const { document, diagnostics } = await new Parser().parse(await readFile(path, "utf8"), {
  source: path,
});
const names = { [DiagnosticSeverity.Error]: "error", [DiagnosticSeverity.Warning]: "warning" };
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
for (const d of diagnostics) {
  if (d.severity > DiagnosticSeverity.Warning) continue;
  const where = d.path.length ? d.path.join(".") : "(document)";
  console.log(`${names[d.severity]}: ${where}: ${d.message} [${d.code}]`);
}
if (errors.length > 0 || document === undefined) {
  console.error(`validate_asyncapi: ${path}: ${errors.length} error(s)`);
  process.exit(1);
}
console.log(`validate_asyncapi: ${path}: valid AsyncAPI ${document.version()}`);
