import { defineConfig } from "drizzle-kit";

// Generation needs no database; `smarfle db:migrate` applies the committed SQL to either driver.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema/index.ts",
  out: "./db/migrations",
});
