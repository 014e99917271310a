// drizzle-kit configuration: `pnpm --filter @ksef-certs/domain generate:migration` writes a new SQL migration into
// ./drizzle from src/store/schema.ts. Migrations are committed and applied when a store opens.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema.ts",
  out: "./drizzle",
});
